"""The catalog: WAL, immutable history rows, no number used by a failed `new`."""

import sqlite3

import pytest

from qrecords.errors import FormError
from tests.conftest import as_user, load_example, snapshot
from qrecords.api import records


def _db(ws):
    return sqlite3.connect(ws.root / "records" / "catalog.sqlite")


def test_catalog_is_wal(ws):
    assert _db(ws).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("statement", [
    "UPDATE versions SET data = '{}'",
    "DELETE FROM versions",
    "UPDATE files SET sha256 = 'x'",
    "DELETE FROM events",
    "UPDATE form_revisions SET template = x''",
])
def test_history_rows_cannot_be_rewritten(ws, statement):
    records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    db = _db(ws)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute(statement)


def test_failed_render_leaves_no_gap_and_no_trace(ws, monkeypatch):
    data = load_example("complaint")
    assert records.new_record(as_user(ws, "lina"), "complaint", data)["number"] == "CC-2611-01"
    before = snapshot(ws.root)

    def broken(*args, **kwargs):
        raise FormError("templates/complaint.docx: simulated render failure")

    monkeypatch.setattr("qrecords.render.docx.render_docx", broken)
    with pytest.raises(FormError):
        records.new_record(as_user(ws, "lina"), "complaint", data)
    assert snapshot(ws.root) == before
    monkeypatch.undo()
    monkeypatch.setenv("QREC_TODAY", "2026-11-23")
    assert records.new_record(as_user(ws, "lina"), "complaint", data)["number"] == "CC-2611-02"


def test_version_files_are_read_only_and_hashed(ws):
    import hashlib
    import os

    record = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    path = record["files"]["docx"]
    assert os.stat(path).st_mode & 0o222 == 0
    stored = _db(ws).execute("SELECT sha256 FROM files").fetchone()[0]
    assert stored == hashlib.sha256(open(path, "rb").read()).hexdigest()
