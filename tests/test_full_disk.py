"""A full disk at any moment of `qrec new` or `qrec amend`, the catalog's commit included
(issue 14, line 9): the command fails in one line, and leaves no file the catalog does not
know: `qrec verify` passes once space is freed. On a small tmpfs (root), the free space
left before the command is stepped through every size around one version's files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.cli import cli
from qrecords.workspace import create_workspace
from tests.conftest import example


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"the full-disk tests need a small tmpfs, mounted as root (make test runs "
                    f"as root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def qrec(root: Path, *args, user="lina"):
    return CliRunner().invoke(cli, ["-w", str(root), "--as", user, *map(str, args)],
                              env={"QREC_TODAY": "2026-11-23",
                                   "QREC_SOFFICE": "/nonexistent/soffice"})


def fill(disk: Path, leave: int) -> Path:
    """A filler file taking all but about `leave` bytes of the disk."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(filler, "wb") as out:
        out.truncate(0)
        out.write(b"\0" * max(free - leave, 0))
    return filler


@pytest.mark.parametrize("command", ["new", "amend"])
def test_a_full_disk_leaves_nothing_the_catalog_does_not_know(small_disk, command):
    root = create_workspace(small_disk / "ws", demo=True)
    first = qrec(root, "new", "complaint", "--data", example("complaint"))
    assert first.exit_code == 0, first.output
    args = ["new", "complaint", "--data", example("complaint")] if command == "new" else \
        ["amend", "CC-2611-01", "--set", "defective_quantity=13", "--reason", "复点"]
    failures = 0
    for leave in range(0, 1024 * 1024, 8192):
        filler = fill(small_disk, leave)
        result = qrec(root, *args)
        filler.unlink()
        if result.exit_code == 0 or "nothing changed" in result.output:
            break  # stored (the amendment by the attempt before, whose later read failed)
        failures += 1
        assert "Traceback" not in result.output and "internal error" not in result.output
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and str(small_disk) in errors[0], \
            f"left {leave} bytes: no one line naming the file:\n{result.output}"
        verified = qrec(root, "verify", user="wangwen")
        assert verified.exit_code == 0, f"left {leave} bytes:\n{result.output}\n" \
            f"{verified.output}"
    assert failures, "the disk was never full"
    assert qrec(root, "verify", user="wangwen").exit_code == 0
