"""`qrec verify`: an untouched workspace verifies clean; one changed byte, a removed file, an
edited or deleted event, edited data or a stray file each make it fail, naming what."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.cli import cli
from tests.conftest import open_workspace

def verify(root: Path, *more: str):
    return CliRunner().invoke(cli, ["-w", str(root), "verify", *more],
                              env={"QREC_TODAY": "2029-01-05"})


def faults(root: Path) -> list[dict]:
    result = verify(root, "--json")
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["faults"]


def sql(root: Path, *statements: str) -> None:
    """Run the statements, then put back any trigger they dropped (a missing trigger is a
    fault of its own: tests/test_attacks.py)."""
    from qrecords.catalog.sqlite_schema import triggers

    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.executescript(triggers())
    db.close()


def flip_a_byte(path: Path) -> None:
    path.chmod(0o644)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))


def test_an_untouched_workspace_verifies_clean(copy):
    result = verify(copy)
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("verified: 2 records, ") and last.split(";")[0].endswith(", 1 tombstone")
    assert "hash chain intact, index matches" in last


@pytest.mark.parametrize("relative", [
    "complaint/CC-2601-02/CC-2601-02_v1.docx",
    "complaint/CC-2601-02/CC-2601-02_v1.pdf",
    "customer_property/CP-2026-0001/CP-2026-0001_nonconformity_notice_v2.docx",
    "customer_property/CP-2026-0001/CP-2026-0001_nonconformity_notice_v2.pdf",
    "reminders/2026-01-20/RM-20260120-CC-2601-02.pdf",
    "disposals/DL-2029-001.docx",
])
def test_one_changed_byte_in_any_kept_file_is_named(copy, relative):
    flip_a_byte(copy / "records" / relative)
    found = faults(copy)
    assert [(f["kind"], f["file"]) for f in found] == [("file", relative)]
    assert found[0]["problem"] == f"records/{relative} does not match its SHA-256 (altered)"


def test_a_removed_file_is_named(copy):
    (copy / "records" / "complaint/CC-2601-02/CC-2601-02_v1.pdf").unlink()
    found = faults(copy)
    assert [(f["record"], f["version"], f["problem"]) for f in found] == [
        ("CC-2601-02", 1, "records/complaint/CC-2601-02/CC-2601-02_v1.pdf is missing")]


def test_an_edited_event_is_named(copy):
    sql(copy, "DROP TRIGGER events_no_update",
        "UPDATE events SET actor = 'mazong' WHERE id = 3")
    found = faults(copy)
    assert [(f["kind"], f["event"]) for f in found] == [("event", 3)]
    assert "its content does not match its hash (edited)" in found[0]["problem"]


def test_an_event_edited_with_its_hash_recomputed_still_breaks_the_chain(copy):
    from qrecords.catalog.chain import event_hash

    db = sqlite3.connect(copy / "records" / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM events WHERE id = 3").fetchone(), actor="mazong")
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET actor = ?, hash = ? WHERE id = 3",
               ("mazong", event_hash(row, row["prev_hash"])))
    db.commit()
    db.close()
    sql(copy)  # its trigger put back
    found = faults(copy)
    assert [f["event"] for f in found] == [4]
    assert "does not follow the event before it" in found[0]["problem"]


def test_a_deleted_event_is_named(copy):
    sql(copy, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE id = 5")
    problems = [f["problem"] for f in faults(copy)]
    assert "event 5 is missing (deleted) 审计事件缺失" in problems
    assert any(p.startswith("event 6 ") and "does not follow" in p for p in problems)


def test_deleting_the_newest_events_is_seen(copy):
    sql(copy, "DROP TRIGGER events_no_delete",
        "DELETE FROM events WHERE id > (SELECT max(id) - 2 FROM events)")
    problems = [f["problem"] for f in faults(copy)]
    assert any("the newest events were removed" in p for p in problems), problems


def test_edited_record_data_is_named(copy):
    sql(copy, "DROP TRIGGER versions_no_update",
        "UPDATE versions SET data = replace(data, '控制板', '电源板') WHERE version = 1 AND "
        "record_id = (SELECT id FROM records WHERE number = 'CC-2601-02')")
    found = faults(copy)
    assert ("CC-2601-02", 1) in [(f["record"], f["version"]) for f in found]
    assert any("its data does not match its SHA-256 (edited)" in f["problem"] for f in found)


def test_an_altered_tombstone_is_named(copy):
    sql(copy, "DROP TRIGGER tombstones_no_update",
        "UPDATE tombstones SET files = '{}' WHERE number = 'CC-2601-01'")
    found = faults(copy)
    assert [(f["kind"], f["record"]) for f in found] == [("tombstone", "CC-2601-01")]


def test_a_stray_file_is_debris_that_repair_moves_aside(copy):
    stray = copy / "records" / "complaint" / "CC-2601-02" / ".CC-2601-02_v2.docx.123.tmp"
    stray.write_bytes(b"half-written")
    found = faults(copy)
    assert [(f["kind"], f["file"]) for f in found] == [
        ("debris", "complaint/CC-2601-02/.CC-2601-02_v2.docx.123.tmp")]
    repaired = verify(copy, "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "moved records/complaint/CC-2601-02/.CC-2601-02_v2.docx.123.tmp to " \
        f"{copy / 'debris'}/" in \
        repaired.output
    assert list((copy / "debris").rglob("*.tmp"))


def test_an_index_difference_is_named(copy):
    ws = open_workspace(copy)
    from whoosh import index

    ix = index.open_dir(str(copy / "index" / f"g{ws.index.state()['generation']}"))
    from qrecords.index.searchindex import writer_options

    with ix.writer(**writer_options()) as writer:
        writer.delete_by_term("number", "CC-2601-02")
    ws.close()
    found = faults(copy)
    # the document's absence, and the file the writer replaced (its table of contents)
    assert {f["kind"] for f in found} == {"index"}
    assert [f["record"] for f in found if f["record"]] == ["CC-2601-02"]
    assert any("_MAIN_" in f["problem"] and f["record"] is None for f in found)
    # its line in the text output names the record (it did not: only the JSON did)
    assert [f["problem"] for f in found if f["record"]] == [
        "CC-2601-02 v1: 索引有误 missing from the index"]
