"""The embedded catalog: one SQLite file (records/catalog.sqlite), the contract of base.py.

SQLite has one writer at a time by design: `write()` takes BEGIN IMMEDIATE, so concurrent
writers queue on the busy timeout (rules 1-3 of the contract hold because of that lock), and WAL
lets readers go on meanwhile. Rows of versions, files, events, form revisions and tombstones are
immutable: triggers refuse UPDATE and DELETE (a disposal passes through `disposal_gate`), so
even a bug elsewhere cannot rewrite history silently.
"""

from __future__ import annotations

import json
import os
import sqlite3
from urllib.parse import quote
from contextlib import contextmanager
from pathlib import Path

from ..errors import Busy, IntegrityError, WorkspaceError
from ..domain.access import fold
from .base import SCHEMA_VERSION, Catalog, canonical_json, tombstone_files
from .sqlite_identity import SqliteIdentity
from .sqlite_schema import DDL, INDEXED, triggers
from .upgrade import UPGRADABLE_FROM, sensitive_rows

BUSY_TIMEOUT_MS = 60_000

class _Counted(sqlite3.Connection):
    """A connection that counts the statements it is sent (Catalog.statements), and turns
    SQLite's "database is locked" and damage reports into one clear line naming the file:
    Busy and IntegrityError (issue 14, line 14)."""

    statements = 0
    path: Path | None = None
    busy_timeout_ms = BUSY_TIMEOUT_MS

    def execute(self, *args):
        self.statements += 1
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise _clear(exc, self.path, self.busy_timeout_ms) from None

    def executescript(self, script):
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as exc:
            raise _clear(exc, self.path, self.busy_timeout_ms) from None


def _read_only_uri(path: Path) -> str:
    """A URI that reads the catalog in a folder no lock or WAL index can be written to:
    immutable when no write-ahead log holds data (nothing else can be writing a read-only
    folder); else a private copy of the file and its log, opened read-only."""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return f"file:{quote(str(path.resolve()))}?immutable=1"
    import shutil
    import tempfile

    copy = Path(tempfile.mkdtemp(prefix="qrec-catalog-")) / path.name
    shutil.copyfile(path, copy)
    shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return f"file:{quote(str(copy))}?mode=ro"


_DAMAGE = ("malformed", "not a database", "corrupt")


def _clear(exc: sqlite3.DatabaseError, path, busy_timeout_ms: int) -> Exception:
    """The error to raise for a SQLite error: Busy for a lock held past the timeout,
    IntegrityError for a damaged file, else the error itself (a bug: its traceback)."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return Busy(f"{path}: another qrec kept the catalog locked for "
                    f"{busy_timeout_ms / 1000:g} s; try again")
    if "disk is full" in text or "disk i/o error" in text.lower():
        why = "the disk is full" if "full" in text else "the disk failed (disk I/O error: " \
            "full, or failing)"
        return WorkspaceError(f"{path}: {why}; this change was not stored (free some space "
                              "and run the command again)")
    if any(word in text.lower() for word in _DAMAGE):
        return IntegrityError(f"{path}: the catalog is damaged ({text}); restore it from a "
                              "backup (`qrec verify` on the copy tells whether it is whole)")
    return exc


class SqliteCatalog(SqliteIdentity, Catalog):
    """A SQLite catalog file. `open()` an existing one, `create()` a new one."""

    def __init__(self, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        # A catalog in a folder this process cannot write (an archive copy, a backup mount)
        # is opened read-only: reading, verifying and audit packs work; a write is refused.
        self.read_only = self.path.exists() and not os.access(self.path.parent, os.W_OK)
        target = _read_only_uri(self.path) if self.read_only else self.path
        try:
            self._db = sqlite3.connect(target, timeout=busy_timeout_ms / 1000,
                                       isolation_level=None, factory=_Counted,
                                       uri=self.read_only)
            self._db.row_factory = sqlite3.Row
            self._db.path, self._db.busy_timeout_ms = self.path, busy_timeout_ms
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            self._db.execute("PRAGMA foreign_keys = ON")
            if not self.read_only:
                self._db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise IntegrityError(f"{self.path}: cannot open the catalog ({exc})") from None

    @property
    def statements(self) -> int:
        return self._db.statements

    @classmethod
    def create(cls, path: Path) -> "SqliteCatalog":
        """Make the catalog's tables in a new file at `path`."""
        catalog = cls(path)
        catalog._db.execute("PRAGMA journal_mode = WAL")
        catalog._db.executescript(
            "BEGIN IMMEDIATE;" + DDL + triggers()
            + f"INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
            + "COMMIT;")
        return catalog

    @classmethod
    def open(cls, path: Path) -> "SqliteCatalog":
        """The catalog at `path`, checked to be a qrecords catalog of this schema version.
        Raises WorkspaceError naming the file when it is missing, foreign or of another
        version."""
        path = Path(path)
        if not path.exists():
            raise WorkspaceError(f"{path}: the catalog is missing; this workspace is broken")
        catalog = cls(path)
        try:
            version = catalog.schema_version()
        except (sqlite3.DatabaseError, IntegrityError) as exc:
            catalog.close()
            if isinstance(exc, IntegrityError) and "not a database" not in str(exc):
                raise
            why = "file is not a database" if isinstance(exc, IntegrityError) else exc
            raise WorkspaceError(f"{path}: not a qrecords catalog ({why})") from None
        if UPGRADABLE_FROM <= version < SCHEMA_VERSION and not catalog.read_only:
            catalog._upgrade()
        elif version != SCHEMA_VERSION:
            catalog.close()
            raise WorkspaceError(f"{path}: catalog schema version {version}; this qrec reads "
                                 f"version {SCHEMA_VERSION} (make a new workspace)")
        return catalog

    def _upgrade(self) -> None:
        """Bring a catalog of an older schema version up to this one, in one transaction:
        the new tables, indexes and triggers (DDL is idempotent) and what they derive from
        the history (upgrade.py)."""
        # executescript commits a pending transaction first: so it begins this one itself.
        self._db.executescript("BEGIN IMMEDIATE;" + DDL + triggers())
        try:
            if self.schema_version() == SCHEMA_VERSION:  # another process did it meanwhile
                self._db.execute("COMMIT")
                return
            revisions = self._db.execute(
                "SELECT id, form_id, revision, schema_text FROM form_revisions").fetchall()
            versions = self._db.execute(
                "SELECT v.record_id, v.version, r.form_revision_id, v.data FROM versions v "
                "JOIN records r ON r.id = v.record_id").fetchall()
            for row in sensitive_rows(revisions, versions):
                self._db.execute("INSERT INTO sensitive_values VALUES (?, ?, ?, ?)", row)
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                             (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self.close()
            raise

    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def write(self):
        """BEGIN IMMEDIATE: concurrent writers queue on the busy timeout instead of failing
        half-way. Rolled back on any exception."""
        if self.read_only:
            raise WorkspaceError(f"{self.path.parent}: the workspace is read-only (an archive "
                                 "copy or a read-only mount); this command changes it")
        self._db.execute("BEGIN IMMEDIATE")  # Busy past the timeout (_Counted)
        try:
            yield self
            self._db.execute("COMMIT")  # may fail too (a full disk): then rolled back
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def read(self):
        if self._db.in_transaction:  # already inside write(): that is the snapshot
            yield self
            return
        self._db.execute("BEGIN")
        try:
            yield self
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
        if row is None:
            raise IntegrityError(f"{self.path}: form revision {revision_id} is missing")
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

    def next_seq(self, counter: str, period: str) -> int:
        row = self._db.execute(
            "INSERT INTO counters (form_id, period, last_seq) VALUES (?, ?, 1) "
            "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = last_seq + 1 "
            "RETURNING last_seq", (counter, period)).fetchone()
        return row[0]

    # -- records and versions ----------------------------------------------------------------

    def raise_seq(self, counter: str, period: str, seq: int) -> None:
        self._db.execute(
            "INSERT INTO counters (form_id, period, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = max(last_seq, "
            "excluded.last_seq)", (counter, period, seq))

    def add_record(self, number: str, form_id: str, form_revision_id: int, at: str,
                   author: str, status: str) -> int:
        try:
            return self._db.execute(
                "INSERT INTO records (number, form_id, form_revision_id, created_at, "
                "created_by, current_version, status) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (number, form_id, form_revision_id, at, author, status)).lastrowid
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(f"{self.path}: record {number} exists already ({exc})") \
                from None

    def add_version(self, record_id: int, version: int, status: str, data: dict,
                    data_sha256: str, at: str, effective_date: str, author: str,
                    reason: str | None, derived: dict | None = None, *,
                    sensitive: dict[str, str]) -> None:
        self._db.execute(
            "INSERT INTO versions (record_id, version, status, data, data_sha256, created_at, "
            "effective_date, author, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, version, status, canonical_json(data), data_sha256, at, effective_date,
             author, reason))
        if sensitive:
            self._db.execute(
                "INSERT INTO sensitive_values (record_id, version, field, folded) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(sensitive)),
                [v for fid, folded in sensitive.items()
                 for v in (record_id, version, fid, folded)])
        if derived is None:
            self._db.execute("UPDATE records SET current_version = ?, status = ? WHERE id = ?",
                             (version, status, record_id))
            return
        self._db.execute(
            "UPDATE records SET current_version = ?, status = ?, title = ?, closed_on = ?, "
            "retention_from = ?, retention_until = ? WHERE id = ?",
            (version, status, derived["title"], derived["closed_on"],
             derived["retention_from"], derived["retention_until"], record_id))

    def add_file(self, record_id: int, version: int, kind: str, path: str, sha256: str,
                 size: int, at: str) -> None:
        self._db.execute(
            "INSERT INTO files (record_id, version, kind, path, sha256, size, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (record_id, version, kind, path, sha256, size, at))

    def record(self, number: str) -> dict | None:
        row = self._db.execute("SELECT * FROM records WHERE number = ?", (number,)).fetchone()
        return dict(row) if row else None

    def record_by_id(self, record_id: int) -> dict:
        row = self._db.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise IntegrityError(f"{self.path}: record id {record_id} is missing")
        return dict(row)

    def record_numbers(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT number FROM records ORDER BY id")]

    def sensitive_matches(self, text: str) -> list[str]:
        """Numbers of records whose current version holds `text` in a sensitive field,
        ignoring case, spaces and dashes: a scan of the covering index of the
        sensitive-values table (instr, not LIKE: no escaping, no ASCII-only case)."""
        rows = self._db.execute(
            "SELECT DISTINCT r.id, r.number FROM sensitive_values s INDEXED BY "
            "sensitive_values_folded JOIN records r ON r.id = s.record_id AND "
            "r.current_version = s.version WHERE instr(s.folded, ?) > 0 ORDER BY r.id",
            (fold(text),)).fetchall()
        return [row[1] for row in rows]

    def sensitive_rows(self) -> list[dict]:
        return [dict(row) for row in self._db.execute(
            "SELECT record_id, version, field, folded FROM sensitive_values "
            "ORDER BY record_id, version, field")]

    def versions(self, record_id: int) -> list[dict]:
        rows = self._db.execute("SELECT * FROM versions WHERE record_id = ? ORDER BY version",
                                (record_id,)).fetchall()
        return [_version(row) for row in rows]

    def records_with_versions(self, numbers: list[str]) -> dict[str, tuple[dict, list[dict]]]:
        if not numbers:
            return {}
        marks = ", ".join("?" * len(numbers))
        records = {row["id"]: dict(row) for row in self._db.execute(
            f"SELECT * FROM records WHERE number IN ({marks})", list(numbers))}
        found = {record["number"]: (record, []) for record in records.values()}
        for row in self._db.execute(
                "SELECT v.* FROM versions v JOIN records r ON r.id = v.record_id WHERE "
                f"r.number IN ({marks}) ORDER BY v.record_id, v.version", list(numbers)):
            found[records[row["record_id"]]["number"]][1].append(_version(row))
        return found

    def versions_data(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int],
                                                               tuple[int, dict]]:
        if not keys:
            return {}
        # The records by their numbers' index first, then their versions by primary key.
        numbers = ", ".join("?" * len(keys))
        pairs = ", ".join(["(?, ?)"] * len(keys))
        rows = self._db.execute(
            "SELECT r.number, v.version, r.form_revision_id, v.data FROM records r "
            f"JOIN versions v ON v.record_id = r.id WHERE r.number IN ({numbers}) AND "
            f"(r.number, v.version) IN (VALUES {pairs})",
            [number for number, _ in keys] + [value for key in keys for value in key]
        ).fetchall()
        return {(row[0], row[1]): (row[2], json.loads(row[3])) for row in rows}

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
        retention_from, retention_until, on_hold, created_on (the effective date of
        version 1) and the data of its current version."""
        rows = self._db.execute(
            "SELECT r.number, r.form_revision_id, r.status, r.closed_on, r.retention_from, "
            "r.retention_until, r.on_hold, first.effective_date AS created_on, v.data "
            "FROM records r "
            "JOIN versions v ON v.record_id = r.id AND v.version = r.current_version "
            "JOIN versions first ON first.record_id = r.id AND first.version = 1 "
            "WHERE r.form_id = ? ORDER BY r.id", (form_id,)).fetchall()
        return [dict(_version(row), on_hold=bool(row["on_hold"])) for row in rows]

    def closings(self, form_id: str) -> dict[str, dict]:
        """{number: detail of the workflow step that closed it} of a form's records (the
        detail holds `closed`, and `days_taken`, `due`, `late` when the form has a deadline)."""
        rows = self._db.execute(
            "SELECT e.record_number, e.detail FROM events e JOIN records r ON r.number = "
            "e.record_number WHERE r.form_id = ? AND e.action IN ('record.transition', "
            "'record.imported') AND "
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
        rows = self._db.execute("SELECT * FROM files WHERE record_id = ? ORDER BY version, kind",
                                (record_id,)).fetchall()
        return [dict(row) for row in rows]

    def dispose(self, record_id: int, tombstone: dict) -> None:
        # The gate row lets the immutability triggers pass for this transaction only.
        self._db.execute("INSERT INTO disposal_gate VALUES (?)", (tombstone["list_number"],))
        self._db.execute("DELETE FROM files WHERE record_id = ?", (record_id,))
        self._db.execute("DELETE FROM sensitive_values WHERE record_id = ?", (record_id,))
        self._db.execute("DELETE FROM versions WHERE record_id = ?", (record_id,))
        self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))
        self._db.execute("DELETE FROM disposal_gate")
        self.add_tombstone(tombstone)

    def guard_problems(self) -> list[str]:
        from .sqlite_schema import trigger_sql

        found = dict(self._db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        problems = []
        for name, statement in trigger_sql().items():
            if name not in found:
                problems.append(f"the trigger {name} is missing (dropped): its table's rows "
                                "can be changed")
            elif " ".join(found[name].split()) != " ".join(statement.split()):
                problems.append(f"the trigger {name} is not the one qrecords installs "
                                "(replaced)")
        gate = self._db.execute("SELECT list_number FROM disposal_gate").fetchall()
        if gate:
            problems.append(f"the disposal_gate table holds {len(gate)} row"
                            f"{'s' if len(gate) != 1 else ''} ({gate[0][0]}) outside a "
                            "disposal: the delete protection of versions and files is off "
                            "(`qrec verify --repair` removes them)")
        return problems

    def clear_disposal_gate(self) -> int:
        return self._db.execute("DELETE FROM disposal_gate").rowcount

    def counters(self) -> dict[tuple[str, str], int]:
        return {(row[0], row[1]): row[2] for row in
                self._db.execute("SELECT form_id, period, last_seq FROM counters")}

    def set_counter(self, counter: str, period: str, last_seq: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?, ?)",
                         (counter, period, last_seq))

    def add_tombstone(self, tombstone: dict) -> None:
        row = {**tombstone, "files": canonical_json(tombstone["files"])}
        self._db.execute(f"INSERT INTO tombstones ({', '.join(row)}) VALUES "
                         f"({', '.join('?' * len(row))})", tuple(row.values()))

    def tombstone(self, number: str) -> dict | None:
        row = self._db.execute("SELECT * FROM tombstones WHERE number = ?", (number,)).fetchone()
        return dict(row, files=tombstone_files(row["files"])) if row else None

    def tombstones(self) -> list[dict]:
        rows = self._db.execute("SELECT * FROM tombstones ORDER BY at, number").fetchall()
        return [dict(row, files=tombstone_files(row["files"])) for row in rows]

    # -- events ------------------------------------------------------------------------------

    def _chain_tail(self) -> tuple[int, str | None]:
        if not self._db.in_transaction:
            raise RuntimeError("add_event outside a write transaction")
        last = self._db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        return (last[0], last[1]) if last else (0, None)

    def _append_event(self, event: dict, prev_hash: str, digest: str) -> None:
        self._db.execute(
            "INSERT INTO events (id, at, effective_date, actor, action, record_number, version,"
            " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*event.values(), prev_hash, digest))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('chain_head', ?)",
                         (f"{event['id']}:{digest}",))

    def rows(self, table: str) -> list[dict]:
        if table not in ("records", "versions", "files", "tombstones"):
            raise ValueError(table)
        return [dict(row) for row in self._db.execute(f"SELECT * FROM {table} ORDER BY rowid")]

    def chain_head(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'chain_head'").fetchone()
        return row[0] if row else None

    def raw_events(self) -> list[dict]:
        return [dict(row) for row in self._db.execute("SELECT * FROM events ORDER BY id")]

    def latest_change_id(self) -> int:
        """The id of the last event that changed what the index holds of a record."""
        row = self._db.execute(f"SELECT id FROM events WHERE {INDEXED} "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else 0

    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        """(latest change id, numbers of the records changed by events after `event_id`),
        read in one snapshot so nothing committed in between is missed or counted twice."""
        with self.read():
            latest = self.latest_change_id()
            rows = self._db.execute(
                "SELECT record_number FROM events WHERE id > ? AND id <= ? AND record_number "
                f"IS NOT NULL AND {INDEXED} GROUP BY record_number ORDER BY min(id)",
                (event_id, latest)).fetchall()
        return latest, [row[0] for row in rows]

    def changes_after(self, event_id: int) -> int:
        """How many events after `event_id` change what the index holds."""
        return self._db.execute(f"SELECT count(*) FROM events WHERE id > ? AND {INDEXED}",
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

    def events_by_action(self, actions) -> list[dict]:
        actions = list(actions)
        rows = self._db.execute(
            f"SELECT * FROM events WHERE action IN ({', '.join('?' * len(actions))}) "
            "ORDER BY id", actions).fetchall()
        return [dict(row, detail=json.loads(row["detail"])) for row in rows]


def _version(row: sqlite3.Row) -> dict:
    return dict(row, data=json.loads(row["data"]))
