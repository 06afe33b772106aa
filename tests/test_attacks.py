"""Attacks on the archive by someone with write access to the workspace (issue 14, lines 1-5):
each tampering is done with plain SQL and file edits on a real workspace, and `qrec verify`
must name it; disposal must not be fooled by an edited record row."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.catalog.chain import event_hash
from qrecords.cli import cli

TODAY = "2029-01-05"


def qrec(root: Path, *args: str, user: str = "wangwen", today: str = TODAY):
    return CliRunner().invoke(cli, ["-w", str(root), "--as", user, *map(str, args)],
                              env={"QREC_TODAY": today})


def qrec_process(root: Path, *args: str, user: str = "wangwen",
                 today: str = TODAY) -> subprocess.CompletedProcess:
    """The real `qrec` in its own process (as an auditor runs it on a tampered workspace)."""
    command = [str(Path(sys.executable).parent / "qrec"), "-w", str(root), "--as", user,
               *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QREC_TODAY": today})


def process_faults(root: Path, *more: str) -> list[str]:
    done = qrec_process(root, "verify", "--json", *more)
    assert done.returncode == 1, done.stdout + done.stderr
    return [f["problem"] for f in json.loads(done.stdout)["faults"]]


def faults(root: Path, *more: str) -> list[dict]:
    result = qrec(root, "verify", "--json", *more)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["faults"]


def problems(root: Path, *more: str) -> list[str]:
    return [f["problem"] for f in faults(root, *more)]


def sql(root: Path, *statements: str, params=()) -> None:
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    for statement in statements:
        db.execute(statement, params if "?" in statement else ())
    db.commit()
    db.close()


def clean(root: Path) -> None:
    result = qrec(root, "verify")
    assert result.exit_code == 0, result.output


def recompute_chain(root: Path, edit: str) -> None:
    """Run `edit` on the events, then re-hash every event and the chain head, as an attacker
    who knows the hashing rule does."""
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    db.row_factory = sqlite3.Row
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    db.execute(edit)
    prev = "0" * 64
    for new_id, row in enumerate(db.execute("SELECT * FROM events ORDER BY id").fetchall(), 1):
        event = dict(row, id=new_id)
        digest = event_hash(event, prev)
        db.execute("UPDATE events SET id = ?, prev_hash = ?, hash = ? WHERE id = ?",
                   (new_id, prev, digest, row["id"]))
        prev, last = digest, new_id
    db.execute("UPDATE meta SET value = ? WHERE key = 'chain_head'", (f"{last}:{prev}",))
    db.commit()
    db.close()
    restore_triggers(root)


def restore_triggers(root: Path) -> None:
    """Put the dropped triggers back as qrecords installs them (an attacker covering the
    tracks: a missing trigger is named by verify)."""
    from qrecords.catalog.sqlite_schema import triggers

    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    db.executescript(triggers())
    db.close()


# -- 1. a forged file with its row edited to match --------------------------------------------


def test_a_forged_pdf_with_its_row_edited_is_named_and_the_pack_does_not_certify_it(copy):
    key = "complaint/CC-2601-02/CC-2601-02_v1.pdf"
    path = copy / "records" / key
    path.chmod(0o644)
    forged = path.read_bytes().replace(b"%%EOF", b"% forged\n%%EOF")
    path.write_bytes(forged)
    import hashlib

    sql(copy, "DROP TRIGGER files_no_update",
        "UPDATE files SET sha256 = ?, size = ? WHERE path = ?",
        params=(hashlib.sha256(forged).hexdigest(), len(forged), key))
    found = faults(copy)
    assert [f["kind"] for f in found] == ["catalog", "file"]  # files_no_update is missing
    found = found[1:]
    assert [(f["kind"], f["file"]) for f in found] == [("file", key)]
    assert "its catalog row and the event that wrote it" in found[0]["problem"]
    pack = qrec(copy.parent, "-w", str(copy), "audit-pack", str(copy.parent / "p.zip"))
    pack = qrec(copy, "audit-pack", str(copy.parent / "p.zip"))
    assert pack.exit_code == 1 and "FAULTS" in pack.output


def test_a_forged_docx_with_its_row_edited_is_named(copy):
    key = "complaint/CC-2601-02/CC-2601-02_v1.docx"
    sql(copy, "DROP TRIGGER files_no_update",
        "UPDATE files SET sha256 = ?, size = 1 WHERE path = ?", params=("0" * 64, key))
    (copy / "records" / key).chmod(0o644)
    (copy / "records" / key).write_bytes(b"x")
    assert any(key in p and "the event that wrote it" in p for p in problems(copy))


# -- 2. derived columns of the record row -------------------------------------------------------


@pytest.mark.parametrize("column, value", [
    ("status", "'closed_unfounded'"), ("current_version", "2"), ("closed_on", "'2026-01-03'"),
    ("retention_from", "'2026-01-03'"), ("retention_until", "'2020-01-01'"), ("on_hold", "1"),
    ("title", "'someone else'")])
def test_every_edited_derived_column_is_named(copy, column, value):
    sql(copy, f"UPDATE records SET {column} = {value} WHERE number = 'CC-2601-02'")
    found = [p for p in problems(copy) if p.startswith(f"CC-2601-02: {column} is ")]
    assert found and "by its history (the row was edited)" in found[0], found


def test_an_open_complaint_made_to_look_due_is_not_disposed_of(copy):
    clean(copy)
    sql(copy, "UPDATE records SET status = 'closed_unfounded', closed_on = '2026-01-03', "
        "retention_from = '2026-01-03', retention_until = '2029-01-04' "
        "WHERE number = 'CC-2601-02'")
    result = qrec(copy, "dispose", "CC-2601-02", "--reason", "到期")
    assert result.exit_code != 0
    assert "CC-2601-02 is open" in result.output
    assert (copy / "records" / "complaint/CC-2601-02/CC-2601-02_v1.docx").exists()


def test_a_held_record_whose_hold_was_cleared_in_its_row_is_not_disposed_of(copy):
    done = qrec(copy, "do", "CC-2601-02", "close_unfounded", "--set", "disposition=unfounded",
                "--comment", "非质量问题", user="zhaomin", today="2026-01-10")
    assert done.exit_code == 0, done.output
    held = qrec(copy, "hold", "add", "CC-2601-02", "--reason", "诉讼", today="2029-02-01")
    assert held.exit_code == 0, held.output
    sql(copy, "UPDATE records SET on_hold = 0 WHERE number = 'CC-2601-02'")
    result = qrec(copy, "dispose", "CC-2601-02", "--reason", "到期", today="2029-02-01")
    assert result.exit_code != 0
    assert "CC-2601-02 is on hold" in result.output


# -- 2b. version rows and the form revision, their triggers dropped (review of issue 14) -----


def rows_to_match(root: Path, number: str) -> None:
    """Edit the record row's derived columns to what its (edited) versions derive, as an
    attacker covering the tracks does, and rebuild the index."""
    from qrecords.domain import derived
    from qrecords.workspace import Workspace

    ws = Workspace.open(root, "wangwen")
    try:
        row = ws.catalog.record(number)
        form, _ = ws.forms.frozen(row["form_revision_id"])
        want = derived.derive(form, ws.catalog.versions(row["id"]), ws.catalog.events(number))
    finally:
        ws.close()
    sql(root, "UPDATE records SET status = ?, closed_on = ?, retention_from = ?, "
        "retention_until = ? WHERE number = ?",
        params=(want["status"], want["closed_on"], want["retention_from"],
                want["retention_until"], number))
    rebuilt = qrec_process(root, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_an_open_complaint_closed_in_its_version_row_is_named_and_not_destroyed(copy):
    sql(copy, "DROP TRIGGER versions_no_update",
        "UPDATE versions SET status = 'closed_unfounded', effective_date = '2026-01-02' "
        "WHERE record_id = (SELECT id FROM records WHERE number = 'CC-2601-02')")
    rows_to_match(copy, "CC-2601-02")
    found = process_faults(copy)
    assert "CC-2601-02 v1: status is 'closed_unfounded' in its row but 'registered' by its " \
        "event" in "\n".join(found), found
    assert any(p.startswith("CC-2601-02 v1: effective_date is '2026-01-02' in its row")
               for p in found), found
    done = qrec_process(copy, "dispose", "CC-2601-02", "--reason", "到期")
    assert done.returncode != 0
    assert "CC-2601-02 does not match its history" in done.stderr, done.stderr
    assert "status is 'closed_unfounded' in its row" in done.stderr
    assert (copy / "records" / "complaint/CC-2601-02/CC-2601-02_v1.docx").exists()


def close_02(root: Path) -> None:
    """CC-2601-02 closed on 2026-01-10 (v2): kept 3 years, until 2029-01-10."""
    done = qrec(root, "do", "CC-2601-02", "close_unfounded", "--set", "disposition=unfounded",
                "--comment", "非质量问题", user="zhaomin", today="2026-01-10")
    assert done.exit_code == 0, done.output


def test_a_back_dated_closing_version_is_named_and_not_destroyed_early(copy):
    close_02(copy)
    sql(copy, "DROP TRIGGER versions_no_update",
        "UPDATE versions SET effective_date = '2025-01-02' WHERE record_id = (SELECT id FROM "
        "records WHERE number = 'CC-2601-02') AND version = 2")
    rows_to_match(copy, "CC-2601-02")
    found = process_faults(copy)
    assert any("CC-2601-02 v2: effective_date is '2025-01-02' in its row but '2026-01-10' by "
               "its event" in p for p in found), found
    done = qrec_process(copy, "dispose", "CC-2601-02", "--reason", "到期", today="2028-06-01")
    assert done.returncode != 0 and "CC-2601-02 does not match its history" in done.stderr
    transfer = qrec_process(copy, "transfer", "CC-2601-02", "--to", "城建档案馆", "--reason",
                            "移交", today="2028-06-01")
    assert transfer.returncode != 0, transfer.stdout
    assert "CC-2601-02 does not match its history" in transfer.stderr


@pytest.mark.parametrize("column, value", [
    ("author", "'zhaomin'"), ("reason", "'另一个原因'"),
    ("created_at", "'2026-01-01T00:00:00Z'")])
def test_every_edited_version_column_is_named(copy, column, value):
    sql(copy, "DROP TRIGGER versions_no_update",
        f"UPDATE versions SET {column} = {value} WHERE version = 1 AND record_id = "
        "(SELECT id FROM records WHERE number = 'CC-2601-02')")
    found = [p for p in process_faults(copy) if p.startswith(f"CC-2601-02 v1: {column} is ")]
    assert found and "by its event (id " in found[0] and "(the row was edited)" in found[0]


def test_an_older_catalog_without_anchors_still_has_its_status_checked(copy):
    """Events written before version_row: the status is checked against `to`, the initial
    state, and the version before an amend; the author, reason, times as they were."""
    recompute_chain(copy, "UPDATE events SET detail = json_remove(detail, '$.version_row', "
                    "'$.form_revision')")
    clean(copy)
    sql(copy, "DROP TRIGGER versions_no_update",
        "UPDATE versions SET status = 'closed_unfounded', author = 'zhaomin' WHERE "
        "record_id = (SELECT id FROM records WHERE number = 'CC-2601-02')")
    rows_to_match(copy, "CC-2601-02")
    found = process_faults(copy)
    assert "CC-2601-02 v1: status is 'closed_unfounded' in its row but 'registered'" in \
        "\n".join(found), found
    assert any("CC-2601-02 v1: author is 'zhaomin' in its row" in p for p in found), found


def test_a_record_moved_to_a_revision_with_a_shorter_retention_is_not_destroyed(copy):
    close_02(copy)
    schema = copy / "schemas" / "complaint.yaml"
    text = schema.read_text(encoding="utf-8")
    schema.write_text(text.replace("revision: A/0", "revision: A/1").replace(
        "period: 3y", "period: 1d"), encoding="utf-8")
    made = qrec(copy, "new", "complaint", "--data", Path(__file__).parent.parent / "examples"
                / "complaint.yaml", "--set", "received_date=2026-01-02", user="lina",
                today="2026-01-06")
    assert made.exit_code == 0, made.output
    sql(copy, "UPDATE records SET form_revision_id = (SELECT id FROM form_revisions WHERE "
        "form_id = 'complaint' AND revision = 'A/1') WHERE number = 'CC-2601-02'")
    rows_to_match(copy, "CC-2601-02")
    found = process_faults(copy)
    assert any(p.startswith("CC-2601-02: form_revision_id is ") and "by its event (id " in p
               for p in found), found
    done = qrec_process(copy, "dispose", "CC-2601-02", "--reason", "到期", today="2026-06-01")
    assert done.returncode != 0 and "CC-2601-02 does not match its history" in done.stderr
    assert "form_revision_id is" in done.stderr


# -- 3. the frozen form revision --------------------------------------------------------------


@pytest.mark.parametrize("also_rehash", [False, True])
def test_an_edited_frozen_schema_is_named(copy, also_rehash):
    from qrecords.api.verify_forms import revision_sha256

    db = sqlite3.connect(copy / "records" / "catalog.sqlite")
    text, template = db.execute("SELECT schema_text, template FROM form_revisions WHERE "
                                "form_id = 'complaint'").fetchone()
    db.close()
    edited = text.replace("period: 3y", "period: 1d")
    assert edited != text
    sql(copy, "DROP TRIGGER form_revisions_no_update",
        "UPDATE form_revisions SET schema_text = ?, sha256 = ? WHERE form_id = 'complaint'",
        params=(edited, revision_sha256(edited, template) if also_rehash else "x"))
    found = [p for p in problems(copy) if p.startswith("form complaint rev ")]
    assert found and "is not what event" in found[0] and "froze (edited)" in found[0]


def test_a_frozen_revision_without_its_event_is_named(copy):
    recompute_chain(copy, "DELETE FROM events WHERE action = 'form.frozen'")
    found = problems(copy)
    assert any("no form.frozen event records its schema and template" in p for p in found)


# -- 4. chain head, newest events, deletion through the disposal gate -------------------------


def test_removing_the_chain_head_and_the_newest_events_is_named(copy):
    sql(copy, "DELETE FROM meta WHERE key = 'chain_head'", "DROP TRIGGER events_no_delete",
        "DELETE FROM events WHERE id > (SELECT max(id) - 2 FROM events)")
    assert any("the catalog's chain head is missing" in p for p in problems(copy))


def test_a_record_deleted_through_the_disposal_gate_is_named(copy):
    sql(copy, "INSERT INTO disposal_gate VALUES ('DL-FAKE')",
        "DELETE FROM files WHERE record_id = (SELECT id FROM records WHERE number = "
        "'CC-2601-02')",
        "DELETE FROM versions WHERE record_id = (SELECT id FROM records WHERE number = "
        "'CC-2601-02')",
        "DELETE FROM records WHERE number = 'CC-2601-02'", "DELETE FROM disposal_gate")
    shutil.rmtree(copy / "records" / "complaint" / "CC-2601-02")
    found = problems(copy)
    assert any(p.startswith("CC-2601-02: ") and "neither rows nor a tombstone" in p
               for p in found), found


def test_an_event_naming_a_record_that_never_existed_is_named(copy):
    recompute_chain(copy, "UPDATE events SET record_number = 'CC-2601-09' WHERE id = "
                    "(SELECT max(id) FROM events WHERE action = 'reminder.made')")
    assert any(p.startswith("CC-2601-09: ") and "neither rows nor a tombstone" in p
               for p in problems(copy))


# -- 4b. the catalog's own safeguards and the tombstones (review of issue 14) ----------------


def test_an_edited_tombstone_is_named_column_by_column(copy):
    sql(copy, "DROP TRIGGER tombstones_no_update",
        "UPDATE tombstones SET retention_until = '2020-01-01', reason = '别的原因' "
        "WHERE number = 'CC-2601-01'")
    found = process_faults(copy)
    assert "catalog: the trigger tombstones_no_update is missing (dropped)" in found[0], found
    assert any(p.startswith("CC-2601-01: the tombstone's reason is '别的原因' but '保存期满' "
                            "by its event (id ") for p in found), found
    assert any(p.startswith("CC-2601-01: the tombstone's retention_until is '2020-01-01' but ")
               for p in found), found


def test_a_stray_disposal_gate_row_is_named_and_repair_removes_it(copy):
    sql(copy, "INSERT INTO disposal_gate VALUES ('DL-FAKE')")
    found = process_faults(copy)
    assert len(found) == 1 and "the disposal_gate table holds 1 row (DL-FAKE)" in found[0], \
        found
    repaired = qrec_process(copy, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "removed 1 stray disposal_gate row" in repaired.stdout
    clean(copy)


@pytest.mark.parametrize("trigger", ["events_no_update", "versions_no_delete",
                                     "form_revisions_no_update", "files_no_update"])
def test_a_dropped_immutability_trigger_is_named(copy, trigger):
    sql(copy, f"DROP TRIGGER {trigger}")
    found = process_faults(copy)
    assert found == [f"catalog: the trigger {trigger} is missing (dropped): its table's rows "
                     "can be changed 目录保护被篡改"], found


def test_a_trigger_replaced_by_one_that_does_nothing_is_named(copy):
    sql(copy, "DROP TRIGGER versions_no_update",
        "CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions BEGIN SELECT 1; END")
    found = process_faults(copy)
    assert len(found) == 1 and "versions_no_update is not the one qrecords installs" in \
        found[0], found


# -- 5. witnesses outside the catalog ---------------------------------------------------------


def checkpoint(root: Path) -> dict:
    result = qrec(root, "checkpoint", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_checkpoint_prints_and_appends_the_head(copy):
    made = checkpoint(copy)
    head = made["chain_head"]
    assert made["events"] == int(head.split(":")[0])
    assert (copy / "witness.log").read_text().splitlines() == [made["line"]]
    assert head in made["line"] and made["at"] in made["line"]
    text = qrec(copy, "checkpoint")
    assert text.exit_code == 0 and "chain head " in text.output
    assert len((copy / "witness.log").read_text().splitlines()) == 2
    clean(copy)


def test_a_recomputed_chain_passes_alone_but_not_against_the_witness_log(copy):
    made = checkpoint(copy)
    recompute_chain(copy, "UPDATE events SET actor = 'mazong' WHERE action = 'hold.placed' "
                    "OR id = 3")
    moved = copy.parent / "elsewhere.log"
    (copy / "witness.log").rename(moved)
    alone = faults(copy)  # inside the catalog, only that the witness log is gone
    assert [f["kind"] for f in alone] == ["witness"] and "it is missing" in alone[0]["problem"]
    found = faults(copy, "--witness", str(moved))
    assert [f["kind"] for f in found] == ["witness", "witness"]  # and the log is not in place
    assert found[0]["problem"].startswith(f"{moved}, line 1: the witness saw event "
                                          f"{made['events']} as ")
    assert "rewritten" in found[0]["problem"]
    printed = faults(copy, "--witness", made["chain_head"])
    assert [f["kind"] for f in printed] == ["witness", "witness"]


def test_the_witness_log_is_found_where_the_settings_put_it(copy, tmp_path):
    other = tmp_path / "share" / "qrec-witness.log"
    config = copy / "qrecords.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "witness_log: witness.log", f"witness_log: {other}"), encoding="utf-8")
    checkpoint(copy)
    assert other.exists() and not (copy / "witness.log").exists()
    recompute_chain(copy, "UPDATE events SET actor = 'mazong' WHERE id = 3")
    assert [f["kind"] for f in faults(copy)] == ["witness"]


def backed_up_then_a_complaint(copy: Path) -> None:
    """A backup of the catalog taken now (backup.sqlite beside the workspace), then one more
    complaint: what putting the backup back loses."""
    old = sqlite3.connect(copy / "records" / "catalog.sqlite")
    backup = sqlite3.connect(copy.parent / "backup.sqlite")
    old.backup(backup)
    old.close()
    backup.close()
    made = qrec(copy, "new", "complaint", "--data", Path(__file__).parent.parent / "examples"
                / "complaint.yaml", "--set", "received_date=2029-01-02", user="lina")
    assert made.exit_code == 0, made.output


def put_the_backup_back(copy: Path) -> None:
    """The older catalog put back in place of the current one (a rollback)."""
    for suffix in ("-wal", "-shm"):
        (copy / "records" / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy.parent / "backup.sqlite", copy / "records" / "catalog.sqlite")


def test_an_older_catalog_put_back_is_named_against_the_witness(copy):
    backed_up_then_a_complaint(copy)
    witnessed = checkpoint(copy)
    put_the_backup_back(copy)
    found = [f for f in faults(copy) if f["kind"] == "witness"]
    assert len(found) == 1
    assert f"the witness saw event {witnessed['events']} " in found[0]["problem"]
    assert "an older catalog was put back (a rollback)" in found[0]["problem"]


def truncate_to(root: Path, last: int) -> None:
    """Delete the events after `last` and move the chain head to it (a truncation)."""
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    digest = db.execute("SELECT hash FROM events WHERE id = ?", (last,)).fetchone()[0]
    db.close()
    sql(root, "DROP TRIGGER events_no_delete", f"DELETE FROM events WHERE id > {last}",
        f"UPDATE meta SET value = '{last}:{digest}' WHERE key = 'chain_head'")
    restore_triggers(root)


def test_a_truncation_after_a_checkpoint_with_the_witness_log_deleted_is_named(copy):
    checkpoint(copy)
    held = qrec(copy, "hold", "add", "CC-2601-02", "--reason", "诉讼")
    assert held.exit_code == 0, held.output
    witnessed = checkpoint(copy)  # the hold's event is witnessed, then taken away
    truncate_to(copy, witnessed["events"] - 1)  # and the second checkpoint event with it
    sql(copy, "UPDATE records SET on_hold = 0 WHERE number = 'CC-2601-02'")
    (copy / "witness.log").unlink()
    found = process_faults(copy)
    assert len(found) == 1, found
    assert found[0].startswith(f"witness log {copy / 'witness.log'}: 1 checkpoint in the "
                               "audit log"), found
    assert "but it is missing" in found[0]


def test_a_witness_log_on_a_share_not_mounted_is_named(copy, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    config = copy / "qrecords.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "witness_log: witness.log", f"witness_log: {share / 'witness.log'}"), encoding="utf-8")
    checkpoint(copy)
    shutil.rmtree(share)  # as a share that is not mounted
    found = process_faults(copy)
    assert len(found) == 1 and f"witness log {share / 'witness.log'}: " in found[0], found


def test_a_witness_log_that_lacks_a_checkpoint_is_named(copy):
    first = checkpoint(copy)
    checkpoint(copy)
    (copy / "witness.log").write_text(first["line"] + "\n", encoding="utf-8")
    found = process_faults(copy)
    assert len(found) == 1 and "which the witness log does not hold" in found[0], found


def test_an_index_ahead_of_the_catalog_is_a_possible_rollback_and_kept(copy):
    backed_up_then_a_complaint(copy)
    put_the_backup_back(copy)
    for _ in range(2):  # reported, and left as it is for the next look
        found = [p for p in process_faults(copy) if "debris" not in p]  # CC-2901-01's files
        assert len(found) == 1 and found[0].startswith("the search index had applied event "), \
            found
        assert "possible rollback" in found[0]
    repaired = qrec_process(copy, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "rebuilt the search index" in repaired.stdout


def test_an_audit_pack_is_a_witness(copy):
    pack = copy.parent / "pack.zip"
    made = qrec(copy, "audit-pack", str(pack))
    assert made.exit_code == 0, made.output
    import zipfile

    head = zipfile.ZipFile(pack).read("CHAIN_HEAD.txt").decode()
    assert "chain head " in head
    recompute_chain(copy, "UPDATE events SET actor = 'mazong' WHERE id = 3")
    found = faults(copy, "--witness", str(pack))
    assert [f["kind"] for f in found] == ["witness"]
    assert found[0]["problem"].startswith(f"{pack} (CHAIN_HEAD.txt): the witness saw event ")


def test_a_witness_that_cannot_be_read_is_a_fault(copy):
    found = faults(copy, "--witness", str(copy / "nothing.log"))
    assert [f["kind"] for f in found] == ["witness"]
    assert "cannot be read" in found[0]["problem"]


def test_the_disposition_list_is_a_witness(copy):
    from docx import Document

    listed = copy / "records" / "disposals" / "DL-2029-001.docx"
    text = "\n".join(cell.text for table in Document(str(listed)).tables
                     for row in table.rows for cell in row.cells)
    assert "审计链 Audit chain head" in text
    clean(copy)
    assert qrec(copy, "verify", "--witness", str(listed)).exit_code == 0
    recompute_chain(copy, "UPDATE events SET actor = 'mazong' WHERE id = 3")
    found = faults(copy, "--witness", str(listed))
    assert [f["kind"] for f in found] == ["witness"]
    assert found[0]["problem"].startswith(f"{listed} (word/document.xml): the witness saw "
                                          "event ")


def test_the_monthly_report_carries_the_chain_head(copy):
    made = qrec(copy, "report", "complaints", "--month", "2026-01", "--out",
                str(copy.parent / "r.docx"), "--json")
    assert made.exit_code == 0, made.output
    head = json.loads(made.stdout)
    from qrecords.api.verify_witness import heads_in

    found = list(heads_in(str(copy.parent / "r.docx")))
    assert len(found) == 1
    assert qrec(copy, "verify", "--witness", str(copy.parent / "r.docx")).exit_code == 0, head


# -- messages (review of issue 14) -------------------------------------------------------------


def test_one_fault_is_counted_in_the_singular(copy):
    sql(copy, "DROP TRIGGER events_no_update")
    done = qrec_process(copy, "verify")
    assert done.returncode == 1
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("1 fault in 2 records, ") and ", 1 tombstone 校验未通过" in last, last


def test_a_witness_typed_wrong_is_one_line_naming_it(copy):
    done = qrec_process(copy, "verify", "--witness", "20:abc")
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "20:abc: not a chain head (EVENT:SHA256" in lines[0], lines
    assert "Errno" not in done.stderr


def test_a_rewritten_chain_names_the_witness_and_the_audit_log_apart(copy):
    made = checkpoint(copy)
    recompute_chain(copy, "UPDATE events SET actor = 'mazong' WHERE id = 3")
    found = process_faults(copy)
    assert len(found) == 1, found
    assert f"the witness saw event {made['events']} as " in found[0]
    assert "the audit log in the catalog has " in found[0]
