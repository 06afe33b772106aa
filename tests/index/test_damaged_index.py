"""A damaged search index (issue 14, line 11): a deleted or truncated segment file never stops
a command that does not search, and a search rebuilds the index and answers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qrecords.cli import cli


def qrec(root, *args):
    return CliRunner().invoke(cli, ["-w", str(root), "--as", "wangwen", *map(str, args)],
                              env={"QREC_TODAY": "2029-01-05"})


def segment_files(root):
    state = json.loads((root / "index" / "STATE.json").read_text())
    folder = root / "index" / f"g{state['generation']}"
    return sorted(p for p in folder.iterdir() if p.suffix in (".seg", ".trm", ".pst", ".vps",
                                                                ".fdt", ".fdi", ".toc")
                  or p.name.endswith(".seg"))


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_damaged_segment_stops_nothing(copy, damage):
    files = [p for p in segment_files(copy) if not p.name.endswith(".toc")]
    assert files, sorted(p.name for p in (copy / "index").rglob("*"))
    for path in files:
        if damage == "delete":
            path.unlink()
        else:
            path.chmod(0o644)
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    for args in (["show", "CC-2601-02"], ["forms"]):
        result = qrec(copy, *args)
        assert result.exit_code == 0, result.output
    found = qrec(copy, "search", "控制板", "--json")
    assert found.exit_code == 0, found.output
    assert "CC-2601-02" in found.stdout
    verified = qrec(copy, "verify")
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize("damage", ["same size", "truncate", "delete"])
def test_index_check_and_verify_name_a_damaged_file(copy, damage):
    """Damage Whoosh may read without an error (the same size, other bytes) is found by the
    SHA-256 each index file was flushed with; so are a truncated and a deleted file."""
    # the largest segment file (a small segment's postings may all be inline: an empty .pst)
    victim = max((p for p in segment_files(copy) if p.suffix in (".pst", ".trm")),
                 key=lambda p: p.stat().st_size)
    victim.chmod(0o644)
    if damage == "same size":
        victim.write_bytes(bytes(255 - b for b in victim.read_bytes()))
    elif damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:-1])
    else:
        victim.unlink()
    checked = qrec(copy, "index", "check")
    assert checked.exit_code == 1, checked.output
    assert f"index/{victim.parent.name}/{victim.name}: " in checked.output
    assert "damaged" in checked.output or "missing" in checked.output
    as_json = json.loads(qrec(copy, "index", "check", "--json").stdout)
    assert len(as_json["damaged"]) == 1
    if damage == "same size":  # nothing else notices it: verify must
        verified = qrec(copy, "verify")
        assert verified.exit_code != 0 and victim.name in verified.output, verified.output
