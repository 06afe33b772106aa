"""The catalog: the source of truth for records, versions, files and events.

This is the only module that speaks SQL. A PostgreSQL backend would be a second class with the
same public methods. Rows of versions, files, events and form revisions are immutable: triggers
refuse UPDATE and DELETE, so even a bug elsewhere cannot rewrite history silently.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .chain import GENESIS, event_hash

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 60_000

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS form_revisions (
    id INTEGER PRIMARY KEY,
    form_id TEXT NOT NULL,
    revision TEXT NOT NULL,
    schema_text TEXT NOT NULL,
    template BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (form_id, revision)
);
CREATE TABLE IF NOT EXISTS counters (
    form_id TEXT NOT NULL,
    period TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (form_id, period)
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    form_id TEXT NOT NULL,
    form_revision_id INTEGER NOT NULL REFERENCES form_revisions (id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    closed_on TEXT,              -- effective date it reached a closing (or void) state
    retention_from TEXT,         -- the date its retention period runs from
    retention_until TEXT,        -- the first day it may be disposed of (once closed)
    on_hold INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_form ON records (form_id);
CREATE INDEX IF NOT EXISTS records_due ON records (retention_until) WHERE closed_on IS NOT NULL;
-- What is left of a disposed record: who destroyed what, when, why, and the files' hashes.
CREATE TABLE IF NOT EXISTS tombstones (
    number TEXT PRIMARY KEY,
    form_id TEXT NOT NULL,
    form_revision TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_on TEXT NOT NULL,
    retention_from TEXT NOT NULL,
    retention_until TEXT NOT NULL,
    retention TEXT NOT NULL,
    action TEXT NOT NULL,
    versions INTEGER NOT NULL,
    files TEXT NOT NULL,
    list_number TEXT NOT NULL,
    authorised_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    effective_date TEXT NOT NULL
);
-- Holds the one row that lets a disposal delete versions and files, inside its transaction.
CREATE TABLE IF NOT EXISTS disposal_gate (list_number TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    record_id INTEGER NOT NULL REFERENCES records (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    author TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (record_id, version)
);
CREATE TABLE IF NOT EXISTS files (
    record_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (record_id, version, kind),
    FOREIGN KEY (record_id, version) REFERENCES versions (record_id, version)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_number TEXT,
    version INTEGER,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,     -- the hash of the event before (records/chain.py)
    hash TEXT NOT NULL
);
"""

_IMMUTABLE = ("form_revisions", "versions", "files", "events", "tombstones")
_DISPOSABLE = ("versions", "files")  # deleted only by a disposal, through disposal_gate
# Events that change nothing the search index holds (reads, a version's PDF); every other
# event naming a record makes the index re-read that record.
INDEX_NEUTRAL = ("record.sensitive_read", "search.sensitive", "file.pdf_made", "reminder.made",
                 "hold.placed", "hold.released", "register.sensitive_read", "report.made")
_INDEXED = f"action NOT IN ({', '.join(repr(a) for a in INDEX_NEUTRAL)})"  # constant SQL


def _triggers() -> str:
    return "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        + ("WHEN NOT EXISTS (SELECT 1 FROM disposal_gate) "
           if op == "DELETE" and table in _DISPOSABLE else "")
        + f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END;\n"
        for table in _IMMUTABLE for op in ("UPDATE", "DELETE"))


class Store:
    """A SQLite catalog file. Use `write()` for every change: one IMMEDIATE transaction."""

    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA synchronous = FULL")

    @classmethod
    def create(cls, path: Path) -> "Store":
        store = cls(path)
        store._db.execute("PRAGMA journal_mode = WAL")
        store._db.executescript(
            "BEGIN IMMEDIATE;" + _DDL + _triggers()
            + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
            + "COMMIT;")
        return store

    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def write(self):
        """One write transaction; taken with BEGIN IMMEDIATE so concurrent writers queue on the
        busy timeout instead of failing half-way. Rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _read(self):
        """A read transaction: every query inside sees one snapshot of the catalog."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    # -- form revisions ----------------------------------------------------------------------

    def form_revision(self, form_id: str, revision: str) -> dict | None:
        row = self._db.execute(
            "SELECT id, form_id, revision, schema_text, template, sha256 FROM form_revisions "
            "WHERE form_id = ? AND revision = ?", (form_id, revision)).fetchone()
        return dict(row) if row else None

    def form_revision_by_id(self, revision_id: int) -> dict:
        row = self._db.execute(
            "SELECT id, form_id, revision, schema_text, template, sha256 FROM form_revisions "
            "WHERE id = ?", (revision_id,)).fetchone()
        return dict(row)

    def form_revision_ids(self) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT id FROM form_revisions ORDER BY id")]

    def add_form_revision(self, form_id: str, revision: str, schema_text: str,
                          template: bytes, sha256: str, at: str) -> int:
        return self._db.execute(
            "INSERT INTO form_revisions (form_id, revision, schema_text, template, sha256, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (form_id, revision, schema_text, template, sha256, at)).lastrowid

    # -- numbering ---------------------------------------------------------------------------

    def next_seq(self, form_id: str, period: str) -> int:
        """The next serial of a period; inside write() so it commits or rolls back with the
        record that uses it (no duplicates, no gaps)."""
        row = self._db.execute(
            "INSERT INTO counters (form_id, period, last_seq) VALUES (?, ?, 1) "
            "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = last_seq + 1 "
            "RETURNING last_seq", (form_id, period)).fetchone()
        return row[0]

    # -- records and versions ----------------------------------------------------------------

    def add_record(self, number: str, form_id: str, form_revision_id: int, at: str,
                   author: str, status: str) -> int:
        return self._db.execute(
            "INSERT INTO records (number, form_id, form_revision_id, created_at, created_by, "
            "current_version, status) VALUES (?, ?, ?, ?, ?, 0, ?)",
            (number, form_id, form_revision_id, at, author, status)).lastrowid

    def add_version(self, record_id: int, version: int, status: str, data: dict,
                    data_sha256: str, at: str, effective_date: str, author: str,
                    reason: str | None) -> None:
        self._db.execute(
            "INSERT INTO versions (record_id, version, status, data, data_sha256, created_at, "
            "effective_date, author, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, version, status, canonical_json(data), data_sha256, at, effective_date,
             author, reason))
        self._db.execute("UPDATE records SET current_version = ?, status = ? WHERE id = ?",
                         (version, status, record_id))

    def add_file(self, record_id: int, version: int, kind: str, path: str, sha256: str,
                 size: int, at: str) -> None:
        self._db.execute(
            "INSERT INTO files (record_id, version, kind, path, sha256, size, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (record_id, version, kind, path, sha256, size, at))

    def record(self, number: str) -> dict | None:
        row = self._db.execute("SELECT * FROM records WHERE number = ?", (number,)).fetchone()
        return dict(row) if row else None

    def record_by_id(self, record_id: int) -> dict:
        return dict(self._db.execute("SELECT * FROM records WHERE id = ?",
                                     (record_id,)).fetchone())

    def record_numbers(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT number FROM records ORDER BY id")]

    def sensitive_matches(self, fields_by_revision: dict[int, list[str]], text: str) -> list[str]:
        """Numbers of records whose current version has `text` in one of the given sensitive
        fields (per form revision), ignoring case, spaces and dashes."""
        needle = "%" + _fold(text).replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        clauses, params = [], []
        for revision_id, fields in fields_by_revision.items():
            tests = " OR ".join(
                "replace(replace(lower(json_extract(v.data, ?)), ' ', ''), '-', '') "
                "LIKE ? ESCAPE '\\'" for _ in fields)
            clauses.append(f"(r.form_revision_id = ? AND ({tests}))")
            params.append(revision_id)
            for fid in fields:
                params += [f'$."{fid}"', needle]
        if not clauses:
            return []
        rows = self._db.execute(
            "SELECT r.number FROM records r JOIN versions v ON v.record_id = r.id "
            f"AND v.version = r.current_version WHERE {' OR '.join(clauses)} ORDER BY r.id",
            params).fetchall()
        return [row[0] for row in rows]

    def versions(self, record_id: int) -> list[dict]:
        rows = self._db.execute("SELECT * FROM versions WHERE record_id = ? ORDER BY version",
                                (record_id,)).fetchall()
        return [_version(row) for row in rows]

    def version(self, record_id: int, version: int) -> dict | None:
        row = self._db.execute("SELECT * FROM versions WHERE record_id = ? AND version = ?",
                               (record_id, version)).fetchone()
        return _version(row) if row else None

    def files(self, record_id: int, version: int) -> dict[str, dict]:
        rows = self._db.execute("SELECT * FROM files WHERE record_id = ? AND version = ?",
                                (record_id, version)).fetchall()
        return {row["kind"]: dict(row) for row in rows}

    def current_versions(self, form_id: str, states) -> list[dict]:
        """number, form_revision_id, status and data of the current version of every record of
        a form in one of `states`."""
        marks = ",".join("?" * len(states))
        rows = self._db.execute(
            "SELECT r.number, r.form_revision_id, r.status, v.data FROM records r JOIN "
            "versions v ON v.record_id = r.id AND v.version = r.current_version "
            f"WHERE r.form_id = ? AND r.status IN ({marks}) ORDER BY r.id",
            (form_id, *states)).fetchall()
        return [_version(row) for row in rows]

    def followers(self, form_id: str, field: str, number: str) -> list[str]:
        """Numbers of the form's records whose current version names `number` in `field`."""
        rows = self._db.execute(
            "SELECT r.number FROM records r JOIN versions v ON v.record_id = r.id AND "
            "v.version = r.current_version WHERE r.form_id = ? AND json_extract(v.data, ?) = ? "
            "ORDER BY r.id", (form_id, f'$."{field}"', number)).fetchall()
        return [row[0] for row in rows]

    def versions_lacking(self, kind: str) -> list[dict]:
        """(number, form_id, version, status) of every version without a file of `kind`."""
        query = ("SELECT r.number, r.form_id, v.version, v.status FROM versions v "
                 "JOIN records r ON r.id = v.record_id WHERE NOT EXISTS ("
                 "SELECT 1 FROM files f WHERE f.record_id = v.record_id "
                 "AND f.version = v.version AND f.kind = ?) ORDER BY r.id, v.version")
        rows = self._db.execute(query, (kind,)).fetchall()
        return [dict(row) for row in rows]

    # -- registers and reports ---------------------------------------------------------------

    def form_records(self, form_id: str) -> list[dict]:
        """Every record of a form, oldest first: number, form_revision_id, status, closed_on,
        retention_until, on_hold, created_on (the effective date of version 1) and the data
        of its current version."""
        rows = self._db.execute(
            "SELECT r.number, r.form_revision_id, r.status, r.closed_on, r.retention_until, "
            "r.on_hold, first.effective_date AS created_on, v.data FROM records r "
            "JOIN versions v ON v.record_id = r.id AND v.version = r.current_version "
            "JOIN versions first ON first.record_id = r.id AND first.version = 1 "
            "WHERE r.form_id = ? ORDER BY r.id", (form_id,)).fetchall()
        return [dict(_version(row), on_hold=bool(row["on_hold"])) for row in rows]

    def closings(self, form_id: str) -> dict[str, dict]:
        """{number: detail of the workflow step that closed it} of a form's records (the
        detail holds `closed`, and `days_taken`, `due`, `late` when the form has a deadline)."""
        rows = self._db.execute(
            "SELECT e.record_number, e.detail FROM events e JOIN records r ON r.number = "
            "e.record_number WHERE r.form_id = ? AND e.action = 'record.transition' AND "
            "json_extract(e.detail, '$.closed') IS NOT NULL ORDER BY e.id", (form_id,))
        return {number: json.loads(detail) for number, detail in rows}

    # -- retention ---------------------------------------------------------------------------

    def set_retention(self, record_id: int, title: str, closed_on: str | None,
                      retention_from: str | None, retention_until: str | None) -> None:
        self._db.execute(
            "UPDATE records SET title = ?, closed_on = ?, retention_from = ?, "
            "retention_until = ? WHERE id = ?",
            (title, closed_on, retention_from, retention_until, record_id))

    def set_hold(self, record_id: int, on_hold: bool) -> None:
        self._db.execute("UPDATE records SET on_hold = ? WHERE id = ?", (int(on_hold), record_id))

    def retention_counts(self, today: str) -> dict[str, dict]:
        """Per form: open, retained (closed, not due), due (not held), on_hold, disposed."""
        counts: dict[str, dict] = {}
        for row in self._db.execute(
                "SELECT form_id, sum(closed_on IS NULL), "
                "sum(closed_on IS NOT NULL AND NOT ifnull(retention_until <= ?1, 0)), "
                "sum(closed_on IS NOT NULL AND ifnull(retention_until <= ?1, 0) AND NOT on_hold),"
                " sum(on_hold) FROM records GROUP BY form_id", (today,)):
            counts[row[0]] = dict(zip(("open", "retained", "due", "on_hold"), row[1:]),
                                  disposed=0)
        for form_id, disposed in self._db.execute(
                "SELECT form_id, count(*) FROM tombstones GROUP BY form_id"):
            counts.setdefault(form_id, {"open": 0, "retained": 0, "due": 0, "on_hold": 0})
            counts[form_id]["disposed"] = disposed
        return counts

    def due_records(self, today: str) -> list[dict]:
        """Closed records whose retention ended on or before `today`, held ones included,
        earliest first."""
        rows = self._db.execute(
            "SELECT id, number, form_id, form_revision_id, title, status, closed_on, "
            "retention_from, retention_until, on_hold FROM records "
            "WHERE closed_on IS NOT NULL AND retention_until <= ? "
            "ORDER BY retention_until, id", (today,)).fetchall()
        return [dict(row, on_hold=bool(row["on_hold"])) for row in rows]

    def retention_until(self, numbers: list[str]) -> dict[str, str | None]:
        """{number: retention_until} of the given records."""
        marks = ",".join("?" * len(numbers))
        return dict(self._db.execute(f"SELECT number, retention_until FROM records WHERE "
                                     f"number IN ({marks})", numbers).fetchall())

    def record_files(self, record_id: int) -> list[dict]:
        rows = self._db.execute("SELECT version, kind, path, sha256, size FROM files WHERE "
                                "record_id = ? ORDER BY version, kind", (record_id,)).fetchall()
        return [dict(row) for row in rows]

    def dispose(self, record_id: int, tombstone: dict) -> None:
        """Delete a record's versions, files and row and keep its tombstone; call inside
        write(). The gate row lets the immutability triggers pass for this transaction only."""
        self._db.execute("INSERT INTO disposal_gate VALUES (?)", (tombstone["list_number"],))
        self._db.execute("DELETE FROM files WHERE record_id = ?", (record_id,))
        self._db.execute("DELETE FROM versions WHERE record_id = ?", (record_id,))
        self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))
        self._db.execute("DELETE FROM disposal_gate")
        row = {**tombstone, "files": canonical_json(tombstone["files"])}
        self._db.execute(f"INSERT INTO tombstones ({', '.join(row)}) VALUES "
                         f"({', '.join('?' * len(row))})", tuple(row.values()))

    def tombstone(self, number: str) -> dict | None:
        row = self._db.execute("SELECT * FROM tombstones WHERE number = ?", (number,)).fetchone()
        return dict(row, files=json.loads(row["files"])) if row else None

    def tombstones(self) -> list[dict]:
        rows = self._db.execute("SELECT * FROM tombstones ORDER BY at, number").fetchall()
        return [dict(row, files=json.loads(row["files"])) for row in rows]

    # -- events ------------------------------------------------------------------------------

    def add_event(self, at: str, effective_date: str, actor: str, action: str,
                  record_number: str | None = None, version: int | None = None,
                  detail: dict | None = None) -> None:
        """Append an event to the hash chain; inside write(), so the chain has one order."""
        if not self._db.in_transaction:
            raise RuntimeError("add_event outside a write transaction")
        last = self._db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        event = {"id": (last[0] if last else 0) + 1, "at": at, "effective_date": effective_date,
                 "actor": actor, "action": action, "record_number": record_number,
                 "version": version, "detail": canonical_json(detail or {})}
        prev_hash = last[1] if last else GENESIS
        digest = event_hash(event, prev_hash)
        self._db.execute(
            "INSERT INTO events (id, at, effective_date, actor, action, record_number, version,"
            " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*event.values(), prev_hash, digest))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('chain_head', ?)",
                         (f"{event['id']}:{digest}",))

    def rows(self, table: str):
        """Every row of a catalog table, in insertion order: what verify reads."""
        if table not in ("records", "versions", "files", "tombstones"):
            raise ValueError(table)
        return self._db.execute(f"SELECT * FROM {table} ORDER BY rowid")

    def chain_head(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'chain_head'").fetchone()
        return row[0] if row else None

    def raw_events(self):
        """Every event row as stored (detail as text), in order: what verify re-hashes."""
        return self._db.execute("SELECT * FROM events ORDER BY id")

    def latest_change_id(self) -> int:
        """The id of the last event that changed what the index holds of a record."""
        row = self._db.execute(f"SELECT id FROM events WHERE {_INDEXED} "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else 0

    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        """(latest change id, numbers of the records changed by events after `event_id`),
        read in one snapshot so nothing committed in between is missed or counted twice."""
        with self._read():
            latest = self.latest_change_id()
            rows = self._db.execute(
                "SELECT record_number FROM events WHERE id > ? AND id <= ? AND record_number "
                f"IS NOT NULL AND {_INDEXED} GROUP BY record_number ORDER BY min(id)",
                (event_id, latest)).fetchall()
        return latest, [row[0] for row in rows]

    def changes_after(self, event_id: int) -> int:
        """How many events after `event_id` change what the index holds."""
        return self._db.execute(f"SELECT count(*) FROM events WHERE id > ? AND {_INDEXED}",
                                (event_id,)).fetchone()[0]

    def written_files(self, record_number: str | None) -> set[str]:
        """The files (relative to records/) that events of a record, or with None the events
        of no record (disposition lists), name under `written`: what is known to be made."""
        rows = self._db.execute(
            "SELECT w.key FROM events e, json_each(e.detail, '$.written') w "
            "WHERE e.record_number IS ?", (record_number,)).fetchall()
        return {row[0] for row in rows}

    def events(self, record_number: str | None = None) -> list[dict]:
        query = "SELECT * FROM events" + (" WHERE record_number = ?" if record_number else "")
        rows = self._db.execute(query + " ORDER BY id",
                                (record_number,) if record_number else ()).fetchall()
        return [dict(row, detail=json.loads(row["detail"])) for row in rows]


def canonical_json(value) -> str:
    """The one serialisation of record data: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _fold(text: str) -> str:
    return text.lower().replace(" ", "").replace("-", "")


def _version(row: sqlite3.Row) -> dict:
    return dict(row, data=json.loads(row["data"]))
