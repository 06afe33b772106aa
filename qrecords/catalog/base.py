"""The catalog contract: what every catalog backend (SQLite today, PostgreSQL next) keeps.

The catalog is the source of truth: form revisions, records, their versions and files, the
hash-chained events and the tombstones. Everything else (files' bytes, the search index, PDFs)
is derived from it or checked against it. Backends implement the abstract methods below; the
rules that make the history trustworthy are stated here and, where they can be, enforced here:

1. **One writer at a time.** Every change happens inside `write()`, one transaction that
   commits whole or not at all. Two writers never interleave: the second waits (up to the
   backend's busy timeout, then `Busy`). Reads inside `write()` see the writer's own changes
   and nothing committed by others since it began.
2. **Gapless numbering.** `next_seq(counter, period)` hands out 1, 2, 3 ... per counter and
   period, inside the writer's transaction: a transaction that rolls back gives its number
   back, so no number is used twice and none is skipped.
3. **One serial order of the hash chain.** `add_event` appends to one chain: each event's
   `prev_hash` is the hash of the event before it and ids are 1, 2, 3 ... without gaps. The
   chain's tail is read and written under the write lock (`_chain_tail` is called only inside
   `write()`), never computed from max()+1 outside it.
4. **Disposal is checked again under the write lock.** A caller decides what to dispose of
   from reads made inside the same `write()` that calls `dispose`, so nothing placed on hold
   or amended meanwhile is destroyed. `dispose` is the only way rows of versions and files
   are deleted; rows of versions, files, events, form revisions and tombstones are otherwise
   immutable, and the backend refuses UPDATE and DELETE of them itself.
5. **Event ids the index can follow.** An event becomes visible to readers only after every
   event with a smaller id is visible, so a reader that has seen event N and asks
   `changed_since(N)` never misses one committed late.

Shapes: rows are plain dicts (the TypedDicts below); `data` and `detail` are decoded JSON
unless a method says "as stored". Times are ISO 8601 UTC strings (`2026-11-23T08:00:00Z`),
dates `YYYY-MM-DD` (the effective date). Errors: `Busy` when the write lock cannot be had in
time; `IntegrityError` when the catalog is damaged or refuses a change to history.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Iterable, TypedDict

from ..errors import IntegrityError
from .chain import GENESIS, event_hash
from .identity import IdentityStore

SCHEMA_VERSION = 5

# Events that change nothing the search index holds (reads, a version's PDF); every other
# event naming a record makes the index re-read that record.
INDEX_NEUTRAL = ("record.sensitive_read", "search.sensitive", "file.pdf_made", "reminder.made",
                 "hold.placed", "hold.released", "register.sensitive_read", "report.made",
                 "form.frozen", "record.downloaded", "access.refused", "workspace.created",
                 "user.added", "user.granted", "user.revoked", "user.disabled", "user.enabled",
                 "user.password_set", "user.bound", "login.succeeded", "login.failed",
                 "login.locked", "logout", "signature.failed", "limits.set")

# Events that say a record was read: its objects' locks stay as they are (Workspace.log).
READS = ("record.sensitive_read", "record.downloaded")


class FormRevisionRow(TypedDict):
    id: int
    form_id: str
    revision: str
    schema_text: str
    template: bytes
    sha256: str


class RecordRow(TypedDict):
    id: int
    number: str
    form_id: str
    form_revision_id: int
    created_at: str
    created_by: str
    current_version: int
    status: str
    title: str
    closed_on: str | None
    retention_from: str | None
    retention_until: str | None
    on_hold: int


class Derived(TypedDict):
    """A record's columns derived from its newest version (by the verbs, from the form)."""

    title: str
    closed_on: str | None
    retention_from: str | None
    retention_until: str | None


class VersionRow(TypedDict):
    record_id: int
    version: int
    status: str
    data: dict
    data_sha256: str
    created_at: str
    effective_date: str
    author: str
    reason: str | None


class FileRow(TypedDict):
    record_id: int
    version: int
    kind: str  # "docx" or "pdf"
    path: str  # the file store key
    sha256: str
    size: int  # bytes
    created_at: str


class EventRow(TypedDict):
    id: int
    at: str
    effective_date: str
    actor: str
    action: str
    record_number: str | None
    version: int | None
    detail: dict
    prev_hash: str
    hash: str


def tombstone_files(text: str) -> dict[str, str]:
    """A tombstone's `files` column decoded: {store key: SHA-256}. A value that is no such
    mapping (written outside qrecords: the application role may INSERT tombstones) comes
    back as {"(unreadable)": text}, so that `qrec show`, audit packs and letters still work
    and `qrec verify` names it against the disposal's event."""
    try:
        files = json.loads(text)
    except (TypeError, ValueError):
        files = None
    if isinstance(files, dict) and all(isinstance(key, str) and isinstance(value, str)
                                       for key, value in files.items()):
        return files
    return {"(unreadable)": str(text)}


def canonical_json(value) -> str:
    """The one serialisation of record data and event details: sorted keys, no whitespace,
    UTF-8 kept. Its SHA-256 is what versions and events are hashed by."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Catalog(IdentityStore, ABC):
    """A catalog backend. See the module docstring for the rules every backend keeps.

    `statements` counts the statements sent to the database (for the benchmarks: each one is a
    round trip on a networked catalog)."""

    statements: int = 0
    # True for a catalog opened where it cannot be written (an archive copy, a read-only
    # mount): reads work, write() raises WorkspaceError.
    read_only: bool = False

    # -- transactions ------------------------------------------------------------------------

    @abstractmethod
    def write(self) -> AbstractContextManager["Catalog"]:
        """One write transaction (rule 1): `with catalog.write() as tx: ...` commits when the
        block ends, rolls back on any exception. Raises Busy after the busy timeout."""

    @abstractmethod
    def read(self) -> AbstractContextManager["Catalog"]:
        """One read snapshot: every query inside the block sees the same committed state."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection. The catalog is not used afterwards."""

    @abstractmethod
    def schema_version(self) -> int:
        """The version of the catalog's tables (SCHEMA_VERSION when current)."""

    # -- form revisions ----------------------------------------------------------------------

    @abstractmethod
    def form_revision(self, form_id: str, revision: str) -> FormRevisionRow | None:
        """The frozen copy of a form revision, or None when no record was made with it."""

    @abstractmethod
    def form_revision_by_id(self, revision_id: int) -> FormRevisionRow:
        """The frozen copy with this id. Raises IntegrityError when it does not exist."""

    @abstractmethod
    def form_revision_ids(self) -> list[int]:
        """Ids of every frozen form revision, oldest first."""

    @abstractmethod
    def add_form_revision(self, form_id: str, revision: str, schema_text: str,
                          template: bytes, sha256: str, at: str) -> int:
        """Freeze a form revision (inside write()); returns its id."""

    # -- numbering (rule 2) ------------------------------------------------------------------

    @abstractmethod
    def next_seq(self, counter: str, period: str) -> int:
        """The next serial of `counter` (a form id, or a list's or report's counter) in
        `period` (e.g. "2611"), starting at 1; inside write()."""

    @abstractmethod
    def raise_seq(self, counter: str, period: str, seq: int) -> None:
        """Make `seq` used in the counter's period: next_seq then gives more than `seq` (a
        record imported with its original number CC-2311-05 moves the November 2023 serial
        to at least 5); a counter already past it stays. Inside write()."""

    # -- records, versions, files ------------------------------------------------------------

    @abstractmethod
    def add_record(self, number: str, form_id: str, form_revision_id: int, at: str,
                   author: str, status: str) -> int:
        """A new record row with no version yet (inside write()); returns its id. The number
        must be free (IntegrityError otherwise)."""

    @abstractmethod
    def add_version(self, record_id: int, version: int, status: str, data: dict,
                    data_sha256: str, at: str, effective_date: str, author: str,
                    reason: str | None, derived: Derived | None = None, *,
                    sensitive: dict[str, str]) -> None:
        """Store version `version` of a record and make it current, with the record's
        `derived` columns as of this version when given, and its `sensitive` values
        ({field id: folded value}, domain/access.sensitive_values) in the sensitive-values
        table, in the same transaction (inside write())."""

    @abstractmethod
    def add_file(self, record_id: int, version: int, kind: str, path: str, sha256: str,
                 size: int, at: str) -> None:
        """Record a version's file (kind "docx" or "pdf", its store key, SHA-256 and size in
        bytes), inside write(). A version has at most one file of each kind."""

    @abstractmethod
    def record(self, number: str) -> RecordRow | None:
        """The record with this number, or None (also when it was disposed of)."""

    @abstractmethod
    def record_by_id(self, record_id: int) -> RecordRow:
        """The record with this id. Raises IntegrityError when it does not exist."""

    @abstractmethod
    def record_numbers(self) -> list[str]:
        """Every record's number, oldest first."""

    @abstractmethod
    def versions(self, record_id: int) -> list[VersionRow]:
        """Every version of a record, oldest first."""

    @abstractmethod
    def records_with_versions(self, numbers: list[str]) -> dict[str, tuple[RecordRow,
                                                                            list[VersionRow]]]:
        """{number: (record row, its versions oldest first)} of those of `numbers` that
        exist (a disposed record is left out), in two statements whatever their count (the
        index catching up with many records changed elsewhere)."""

    @abstractmethod
    def version(self, record_id: int, version: int) -> VersionRow | None:
        """One version, or None when the record has no such version."""

    @abstractmethod
    def versions_data(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int],
                                                               tuple[int, dict]]:
        """{(number, version): (form revision id, data)} of those of the given versions that
        exist, in one statement (a search page's snippets, for 20 hits)."""

    @abstractmethod
    def files(self, record_id: int, version: int) -> dict[str, FileRow]:
        """{kind: file row} of one version."""

    @abstractmethod
    def record_files(self, record_id: int) -> list[FileRow]:
        """Every file row of a record, by version and kind."""

    @abstractmethod
    def current_versions(self, form_id: str, states: Iterable[str]) -> list[dict]:
        """{number, form_revision_id, status, data} of the current version of every record
        of a form in one of `states`, oldest record first."""

    @abstractmethod
    def followers(self, form_id: str, field: str, number: str) -> list[str]:
        """Numbers of the form's records whose current version holds `number` in `field`."""

    @abstractmethod
    def versions_lacking(self, kind: str) -> list[dict]:
        """{number, form_id, version, status} of every version without a file of `kind`."""

    @abstractmethod
    def sensitive_matches(self, text: str) -> list[str]:
        """Numbers of records, oldest first, whose current version holds `text` in one of its
        sensitive fields, ignoring case, spaces and dashes (domain/access.fold): looked up in
        the sensitive-values table, not in the versions' data."""

    @abstractmethod
    def sensitive_rows(self) -> list[dict]:
        """Every row of the sensitive-values table: {record_id, version, field, folded},
        by record and version (for verify)."""

    # -- registers and reports ---------------------------------------------------------------

    @abstractmethod
    def form_records(self, form_id: str) -> list[dict]:
        """Every record of a form, oldest first: number, form_revision_id, status, closed_on,
        retention_from, retention_until, on_hold (bool), created_on (version 1's
        effective date) and the data of its current version."""

    @abstractmethod
    def closings(self, form_id: str) -> dict[str, dict]:
        """{number: detail of the workflow step that closed it} of a form's records."""

    # -- retention and disposal (rule 4) ----------------------------------------------------

    @abstractmethod
    def set_retention(self, record_id: int, title: str, closed_on: str | None,
                      retention_from: str | None, retention_until: str | None) -> None:
        """Set the record's derived columns (inside write()); versions set them as they are
        stored (add_version), this is for recomputing them."""

    @abstractmethod
    def set_hold(self, record_id: int, on_hold: bool) -> None:
        """Place or release a hold (inside write(), with its event)."""

    @abstractmethod
    def retention_counts(self, today: str) -> dict[str, dict]:
        """{form_id: {open, retained, due, on_hold, disposed}} as of the date `today`."""

    @abstractmethod
    def due_records(self, today: str) -> list[dict]:
        """Closed records whose retention ended on or before `today`, held ones included,
        earliest first: id, number, form_id, form_revision_id, title, status, closed_on,
        retention_from, retention_until, on_hold (bool)."""

    @abstractmethod
    def retention_until(self, numbers: list[str]) -> dict[str, str | None]:
        """{number: retention_until} of the given records that exist."""

    @abstractmethod
    def dispose(self, record_id: int, tombstone: dict) -> None:
        """Delete a record's versions, files and row, and keep its tombstone; only inside
        write(), after the caller re-checked the record there (rule 4): closed, not on hold,
        and, when the tombstone's action is destroy, past its retention date on the
        tombstone's effective date (a transfer may go earlier: it destroys nothing, and the
        tombstone keeps the date the archive keeps it until)."""

    @abstractmethod
    def tombstone(self, number: str) -> dict | None:
        """The tombstone of a disposed record (its `files` decoded), or None."""

    @abstractmethod
    def tombstones(self) -> list[dict]:
        """Every tombstone, in the order they were made."""

    # -- events (rules 3 and 5) --------------------------------------------------------------

    def add_event(self, at: str, effective_date: str, actor: str, action: str,
                  record_number: str | None = None, version: int | None = None,
                  detail: dict | None = None) -> int:
        """Append an event to the hash chain (inside write(): rule 3); returns its id.
        `detail` is any JSON-able mapping; `at` the real UTC time, `effective_date` the
        workspace's date."""
        last_id, last_hash = self._chain_tail()
        event = {"id": last_id + 1, "at": at, "effective_date": effective_date,
                 "actor": actor, "action": action, "record_number": record_number,
                 "version": version, "detail": canonical_json(detail or {})}
        prev_hash = last_hash or GENESIS
        self._append_event(event, prev_hash, event_hash(event, prev_hash))
        return event["id"]

    def copy_event(self, row: dict) -> None:
        """Append an event row as stored in another catalog (`qrec migrate`), inside write():
        its id must follow the tail and its hashes must hold, so the copy keeps the chain.
        Raises IntegrityError otherwise."""
        last_id, last_hash = self._chain_tail()
        event = {name: row[name] for name in ("id", "at", "effective_date", "actor", "action",
                                               "record_number", "version", "detail")}
        if row["id"] != last_id + 1 or row["prev_hash"] != (last_hash or GENESIS) or \
                event_hash(event, row["prev_hash"]) != row["hash"]:
            raise IntegrityError(f"event {row['id']} does not follow event {last_id} of the "
                                 "chain being copied")
        self._append_event(event, row["prev_hash"], row["hash"])

    @abstractmethod
    def counters(self) -> dict[tuple[str, str], int]:
        """{(counter, period): the last serial handed out} (`qrec migrate` copies them)."""

    @abstractmethod
    def set_counter(self, counter: str, period: str, last_seq: int) -> None:
        """Make `counter` in `period` continue after `last_seq` (inside write(), on a catalog
        being filled by `qrec migrate`)."""

    @abstractmethod
    def add_tombstone(self, tombstone: dict) -> None:
        """Keep a tombstone copied from another catalog (`qrec migrate`), inside write()."""

    @abstractmethod
    def _chain_tail(self) -> tuple[int, str | None]:
        """(id, hash) of the newest event, (0, None) when there is none; locked for the
        writer (raises RuntimeError outside write())."""

    @abstractmethod
    def _append_event(self, event: dict, prev_hash: str, digest: str) -> None:
        """Insert the event row (its detail as stored text) and move the chain head."""

    @abstractmethod
    def chain_head(self) -> str | None:
        """"<id>:<hash>" of the newest event as the catalog last recorded it, or None."""

    @abstractmethod
    def raw_events(self) -> list[dict]:
        """Every event row as stored (detail as text), by id: what verify re-hashes."""

    @abstractmethod
    def events(self, record_number: str | None = None) -> list[EventRow]:
        """Every event (of one record when a number is given), by id, detail decoded."""

    @abstractmethod
    def events_by_action(self, actions: Iterable[str]) -> list[EventRow]:
        """Every event whose action is one of `actions`, by id, detail decoded (the issues
        and returns of controlled blank forms are read so)."""

    @abstractmethod
    def rows(self, table: str) -> list[dict]:
        """Every row of "records", "versions", "files" or "tombstones" as stored (JSON as
        text), in insertion order: what verify reads. Raises ValueError for another table."""

    @abstractmethod
    def latest_change_id(self) -> int:
        """The id of the newest event that changed what the index holds of a record."""

    @abstractmethod
    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        """(latest change id, numbers of records changed by events after `event_id`), read
        in one snapshot (rule 5)."""

    @abstractmethod
    def changes_after(self, event_id: int) -> int:
        """How many events after `event_id` change what the index holds."""

    @abstractmethod
    def guard_problems(self) -> list[str]:
        """One line per safeguard of the catalog's own that is missing or switched off: an
        immutability trigger its schema installs that is gone or altered (SQLite:
        sqlite_master; PostgreSQL: pg_trigger, and the guard function), a stray
        disposal_gate row (SQLite: it lets rows be deleted). [] when all are in place."""

    @abstractmethod
    def clear_disposal_gate(self) -> int:
        """Remove stray disposal_gate rows (inside write(); none outside a disposal's own
        transaction). Returns how many were removed (always 0 on PostgreSQL, which has no
        such table)."""

    @abstractmethod
    def written_files(self, record_number: str | None) -> set[str]:
        """The file store keys that events of a record (with None: of no record, as
        disposition lists and reports) name under `written`."""
