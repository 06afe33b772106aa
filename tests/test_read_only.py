"""A read-only copy of a workspace (the archive handed to an auditor, a backup mount):
reading, searching, verifying, registers and an audit pack written elsewhere work; a
change is refused in one line (issue 14, line 12). The copy is made read-only for real:
a read-only bind mount when running as root (root ignores file modes), else chmod."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.cli import cli
from tests.conftest import example


@pytest.fixture(params=["index", "no index"])
def read_only(request, template, tmp_path):
    source = tmp_path / "rw"
    shutil.copytree(template, source / "ws")
    if request.param == "no index":  # built privately by the first command needing it
        shutil.rmtree(source / "ws" / "index")
        (source / "ws" / "index").mkdir()
    if os.geteuid() != 0:
        for path in sorted((source / "ws").rglob("*"), reverse=True) + [source / "ws"]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        yield source / "ws"
        for path in [source / "ws", *(source / "ws").rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        return
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"root could not make a read-only bind mount: {done.stderr.decode()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        yield mount / "ws"
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def qrec(root: Path, *args, user: str = "wangwen"):
    return CliRunner().invoke(cli, ["-w", str(root), "--as", user, *map(str, args)],
                              env={"QREC_TODAY": "2029-01-05"})


def test_the_copy_really_is_read_only(read_only):
    with pytest.raises(OSError):
        (read_only / "probe").write_text("x")


def test_show_search_verify_and_register_work(read_only, tmp_path):
    shown = qrec(read_only, "show", "CC-2601-02", "--json")
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["data"]["customer_contact"] == "***"  # a read that cannot be logged
    assert "read-only" in shown.stderr
    found = qrec(read_only, "search", "控制板", "--json")
    assert found.exit_code == 0, found.output
    assert "CC-2601-02" in found.stdout
    verified = qrec(read_only, "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip().splitlines()[-1].startswith("verified: 2 records")
    out = tmp_path / "register.csv"
    assert qrec(read_only, "register", "complaint", "--out", out).exit_code == 0
    assert "***" in out.read_text(encoding="utf-8-sig")


def test_an_audit_pack_is_made_elsewhere(read_only, tmp_path):
    pack = tmp_path / "pack.zip"
    made = qrec(read_only, "audit-pack", pack)
    assert made.exit_code == 0, made.output
    assert "MANIFEST.sha256" in zipfile.ZipFile(pack).namelist()
    assert "not in its audit log" in made.stderr


def test_a_change_is_refused_in_one_line(read_only):
    result = qrec(read_only, "new", "complaint", "--data", example("complaint"), "--set",
                  "received_date=2029-01-02", user="lina")
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert lines == [f"Error: {read_only / 'records'}: the workspace is read-only (an archive "
                     "copy or a read-only mount); this command changes it"]
    assert not list((read_only / "records" / "complaint").glob("CC-2901-*"))
