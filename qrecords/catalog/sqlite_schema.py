"""The SQLite catalog's tables, and the triggers that keep history rows immutable."""

from __future__ import annotations

from .base import INDEX_NEUTRAL

DDL = """
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
-- The normalised sensitive values of each version (domain/access.sensitive_values), written
-- with the version: a privacy user's search looks them up here instead of in every record's
-- JSON. Derived from the versions; verify checks it against them.
CREATE TABLE IF NOT EXISTS sensitive_values (
    record_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    field TEXT NOT NULL,
    folded TEXT NOT NULL,
    PRIMARY KEY (record_id, version, field),
    FOREIGN KEY (record_id, version) REFERENCES versions (record_id, version)
);
-- Covering: a substring search reads this index alone, not the table.
CREATE INDEX IF NOT EXISTS sensitive_values_folded
    ON sensitive_values (folded, record_id, version);
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
CREATE INDEX IF NOT EXISTS events_action ON events (action, id);  -- facts kept as events
-- Users and roles (seeded from qrecords.yaml at init, then changed only by logged verbs).
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    department TEXT NOT NULL,
    roles TEXT NOT NULL,         -- JSON list
    disabled INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,          -- Argon2id PHC string
    os_account TEXT UNIQUE,      -- an operating-system account bound to the user
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
-- Login sessions: only the SHA-256 of each token is kept.
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""

_IMMUTABLE = ("form_revisions", "versions", "files", "events", "tombstones",
              "sensitive_values")
_DISPOSABLE = ("versions", "files", "sensitive_values")  # deleted only by a disposal, through disposal_gate
INDEXED = f"action NOT IN ({', '.join(repr(a) for a in INDEX_NEUTRAL)})"  # constant SQL


def trigger_sql() -> dict[str, str]:
    """{trigger name: its CREATE TRIGGER statement as sqlite_master keeps it}."""
    return {
        f"{table}_no_{op.lower()}":
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        + ("WHEN NOT EXISTS (SELECT 1 FROM disposal_gate) "
           if op == "DELETE" and table in _DISPOSABLE else "")
        + f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END"
        for table in _IMMUTABLE for op in ("UPDATE", "DELETE")}


def triggers() -> str:
    return "".join(statement.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
                   + ";\n" for statement in trigger_sql().values())
