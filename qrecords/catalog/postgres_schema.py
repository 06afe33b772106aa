"""The PostgreSQL catalog's tables, the roles' grants and the one disposal function.

`setup_statements(app_role)` is what `qrec db setup` runs once, connected as the database's
owner: the tables (owned by that owner), triggers that refuse UPDATE and DELETE of history
rows even to the owner, the application role (created when missing, without a password) and
its grants, and `qrec_dispose`, a SECURITY DEFINER function owned by the owner that is the
application's only way to delete a record: it derives closure and retention from the
immutable versions, events and the form revision's frozen policy (postgres_policy.py), never
from the record row, and refuses an effective date after the server's today (+1 day) outside
a demonstration workspace. The application role gets:

- SELECT on every table;
- INSERT on form_revisions, records, versions, files, events, tombstones, counters,
  sensitive_values, and on
  meta (workspace facts are set once, never changed);
- INSERT and UPDATE on users (never DELETE), INSERT and DELETE on sessions;
- UPDATE of the counter (numbers), of the chain head (the hash chain's lock row) and of the
  records' derived columns (current version, status, title, closure, retention, hold);
- EXECUTE on qrec_dispose; no DELETE, no TRUNCATE, no UPDATE of history rows at all.
"""

from __future__ import annotations

from .base import INDEX_NEUTRAL, SCHEMA_VERSION

IMMUTABLE = ("form_revisions", "versions", "files", "events", "tombstones",
             "sensitive_values")
INDEXED = f"action NOT IN ({', '.join(repr(a) for a in INDEX_NEUTRAL)})"  # constant SQL

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
-- The hash chain's head: one row, locked by every writer (SELECT ... FOR UPDATE) before it
-- allocates an event id, so ids are handed out and committed in one serial order.
CREATE TABLE IF NOT EXISTS chain_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    id bigint NOT NULL,
    hash text
);
INSERT INTO chain_head (one, id, hash) VALUES (true, 0, NULL) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS form_revisions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_id text NOT NULL,
    revision text NOT NULL,
    schema_text text NOT NULL,
    template bytea NOT NULL,
    sha256 text NOT NULL,
    created_at text NOT NULL,
    policy text,  -- postgres_policy.py: what qrec_dispose reads; NULL: no valid form
    UNIQUE (form_id, revision)
);
ALTER TABLE form_revisions ADD COLUMN IF NOT EXISTS policy text;
CREATE TABLE IF NOT EXISTS counters (
    form_id text NOT NULL,
    period text NOT NULL,
    last_seq integer NOT NULL,
    PRIMARY KEY (form_id, period)
);
CREATE TABLE IF NOT EXISTS records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number text NOT NULL UNIQUE,
    form_id text NOT NULL,
    form_revision_id bigint NOT NULL REFERENCES form_revisions (id),
    created_at text NOT NULL,
    created_by text NOT NULL,
    current_version integer NOT NULL,
    status text NOT NULL,
    title text NOT NULL DEFAULT '',
    closed_on text,
    retention_from text,
    retention_until text,
    on_hold integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_form ON records (form_id);
CREATE INDEX IF NOT EXISTS records_due ON records (retention_until) WHERE closed_on IS NOT NULL;
CREATE TABLE IF NOT EXISTS tombstones (
    ord bigint GENERATED ALWAYS AS IDENTITY,
    number text PRIMARY KEY,
    form_id text NOT NULL,
    form_revision text NOT NULL,
    title text NOT NULL,
    created_at text NOT NULL,
    closed_on text NOT NULL,
    retention_from text NOT NULL,
    retention_until text NOT NULL,
    retention text NOT NULL,
    action text NOT NULL,
    versions integer NOT NULL,
    files text NOT NULL,
    list_number text NOT NULL,
    authorised_by text NOT NULL,
    reason text NOT NULL,
    at text NOT NULL,
    effective_date text NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    ord bigint GENERATED ALWAYS AS IDENTITY,
    record_id bigint NOT NULL REFERENCES records (id),
    version integer NOT NULL,
    status text NOT NULL,
    data text NOT NULL,
    data_sha256 text NOT NULL,
    created_at text NOT NULL,
    effective_date text NOT NULL,
    author text NOT NULL,
    reason text,
    PRIMARY KEY (record_id, version)
);
CREATE TABLE IF NOT EXISTS files (
    ord bigint GENERATED ALWAYS AS IDENTITY,
    record_id bigint NOT NULL,
    version integer NOT NULL,
    kind text NOT NULL,
    path text NOT NULL UNIQUE,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (record_id, version, kind),
    FOREIGN KEY (record_id, version) REFERENCES versions (record_id, version)
);
-- The normalised sensitive values of each version (domain/access.sensitive_values), written
-- with the version and searched by a privacy user's query; derived, checked by verify.
CREATE TABLE IF NOT EXISTS sensitive_values (
    record_id bigint NOT NULL,
    version integer NOT NULL,
    field text NOT NULL,
    folded text NOT NULL,
    PRIMARY KEY (record_id, version, field),
    FOREIGN KEY (record_id, version) REFERENCES versions (record_id, version)
);
CREATE INDEX IF NOT EXISTS sensitive_values_folded
    ON sensitive_values (folded, record_id, version);
CREATE TABLE IF NOT EXISTS events (
    id bigint PRIMARY KEY,
    at text NOT NULL,
    effective_date text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    record_number text,
    version integer,
    detail text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS events_record ON events (record_number, id);
CREATE INDEX IF NOT EXISTS events_action ON events (action, id);  -- facts kept as events
-- Users and roles (seeded from qrecords.yaml at init, then changed only by logged verbs).
CREATE TABLE IF NOT EXISTS users (
    id text PRIMARY KEY,
    name text NOT NULL,
    department text NOT NULL,
    roles text NOT NULL,         -- JSON list
    disabled integer NOT NULL DEFAULT 0,
    password_hash text,          -- Argon2id PHC string
    os_account text UNIQUE,      -- an operating-system account bound to the user
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until text
);
-- Login sessions: only the SHA-256 of each token is kept.
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    created_at text NOT NULL,
    expires_at text NOT NULL
);
"""

GUARD = """
CREATE OR REPLACE FUNCTION qrec_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('versions', 'files', 'sensitive_values')
       AND current_setting('qrec.disposing', true) = 'on' THEN
        RETURN OLD;  -- inside qrec_dispose only
    END IF;
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
"""

DISPOSE = """
CREATE OR REPLACE FUNCTION qrec_dispose(p_record_id bigint, p_tombstone text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    r records;
    t jsonb := p_tombstone::jsonb;
    policy jsonb;
    first_day date;
    closed date;
    imported_closed date;
    void_version int;
    current_status text;
    current_data jsonb;
    start_day date;
    until date;
    held boolean;
    demo boolean;
BEGIN
    SELECT * INTO r FROM records WHERE id = p_record_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'record id % does not exist', p_record_id;
    END IF;
    IF r.number IS DISTINCT FROM t->>'number' THEN
        RAISE EXCEPTION 'the tombstone names %, not record %', t->>'number', r.number;
    END IF;
    -- Nothing here trusts the record row's derived columns (the application may UPDATE
    -- them): closure and retention are derived again from the immutable versions and events
    -- and the policy frozen with the record's form revision (form_revision_id is not
    -- updatable by the application).
    SELECT f.policy::jsonb INTO policy FROM form_revisions f WHERE f.id = r.form_revision_id;
    IF policy IS NULL THEN
        RAISE EXCEPTION 'record %: its form revision has no retention policy the database '
            'can read (frozen before qrec db setup added it)', r.number;
    END IF;
    SELECT effective_date::date INTO first_day FROM versions WHERE record_id = r.id
        ORDER BY version LIMIT 1;
    SELECT status, data::jsonb INTO current_status, current_data FROM versions
        WHERE record_id = r.id ORDER BY version DESC LIMIT 1;
    -- A record brought in from an old ledger closed on the day its record.imported event
    -- names; any other on the effective date of its first closing (or void) version.
    SELECT (detail::jsonb ->> 'closed')::date INTO closed FROM events
        WHERE record_number = r.number AND action = 'record.imported'
          AND detail::jsonb ? 'closed' ORDER BY id LIMIT 1;
    imported_closed := closed;
    IF closed IS NULL THEN
        SELECT effective_date::date INTO closed FROM versions WHERE record_id = r.id
            AND status IN (SELECT jsonb_array_elements_text(policy->'closing'))
            ORDER BY version LIMIT 1;
    END IF;
    IF closed IS NULL THEN
        RAISE EXCEPTION 'record % is not closed; it cannot be disposed of', r.number;
    END IF;
    IF current_status IN (SELECT jsonb_array_elements_text(policy->'void')) THEN
        -- a void record's period runs from the day it was voided (its first void version,
        -- or the void date its record.imported event names when it was imported void),
        -- even when it was final (closed) before
        SELECT version, effective_date::date INTO void_version, start_day FROM versions
            WHERE record_id = r.id
            AND status IN (SELECT jsonb_array_elements_text(policy->'void'))
            ORDER BY version LIMIT 1;
        IF void_version = 1 AND imported_closed IS NOT NULL THEN
            start_day := imported_closed;
        END IF;
    ELSIF policy->>'from' = 'closure' THEN
        start_day := closed;
    ELSIF policy->>'from' = 'creation' THEN
        start_day := first_day;
    ELSE
        start_day := (current_data ->> substr(policy->>'from', 7))::date;
    END IF;
    IF start_day IS NULL THEN
        RAISE EXCEPTION 'record %: its retention period has not started', r.number;
    END IF;
    IF (policy->>'days')::int > 0 THEN
        until := start_day + (policy->>'days')::int;
    ELSE
        until := start_day + make_interval(years => (policy->>'years')::int,
                                           months => (policy->>'months')::int);
        IF extract(day FROM until) <> extract(day FROM start_day) THEN
            -- no such day in that month: the first of the next (domain/retention.py)
            until := (date_trunc('month', until) + interval '1 month')::date;
        END IF;
    END IF;
    IF t->>'closed_on' IS DISTINCT FROM closed::text
       OR t->>'retention_until' IS DISTINCT FROM until::text THEN
        RAISE EXCEPTION 'record %: the tombstone says closed on %, retained until %; its '
            'history says closed on %, retained until %', r.number, t->>'closed_on',
            t->>'retention_until', closed, until;
    END IF;
    -- The effective date is the caller's word: never later than the server's today (+1 day
    -- for time zones), except in a demonstration workspace (its fact in meta, set once),
    -- whose dates move with QREC_TODAY.
    SELECT coalesce(bool_or(value = '1'), false) INTO demo FROM meta WHERE key = 'demo';
    IF NOT demo AND (t->>'effective_date')::date > current_date + 1 THEN
        RAISE EXCEPTION 'record %: the effective date % is later than the server''s date %',
            r.number, t->>'effective_date', current_date;
    END IF;
    -- Nothing is destroyed before its period ends. A transfer destroys nothing (the archive
    -- keeps the record until the date its tombstone names), so it may go earlier.
    IF until > (t->>'effective_date')::date AND t->>'action' IS DISTINCT FROM 'transfer' THEN
        RAISE EXCEPTION 'record % is retained until %', r.number, until;
    END IF;
    -- The hold as the record row says, and as the immutable event history says.
    SELECT action = 'hold.placed' INTO held FROM events WHERE record_number = r.number
        AND action IN ('hold.placed', 'hold.released') ORDER BY id DESC LIMIT 1;
    IF r.on_hold <> 0 OR coalesce(held, false) THEN
        RAISE EXCEPTION 'record % is on hold; it cannot be disposed of', r.number;
    END IF;
    PERFORM set_config('qrec.disposing', 'on', true);
    DELETE FROM files WHERE record_id = r.id;
    DELETE FROM sensitive_values WHERE record_id = r.id;
    DELETE FROM versions WHERE record_id = r.id;
    DELETE FROM records WHERE id = r.id;
    PERFORM set_config('qrec.disposing', 'off', true);
    INSERT INTO tombstones (number, form_id, form_revision, title, created_at, closed_on,
        retention_from, retention_until, retention, action, versions, files, list_number,
        authorised_by, reason, at, effective_date)
    SELECT number, form_id, form_revision, title, created_at, closed_on, retention_from,
        retention_until, retention, action, versions, files, list_number, authorised_by,
        reason, at, effective_date
    FROM jsonb_populate_record(NULL::tombstones, t);
END $$;
"""

APP_COLUMNS = ("current_version", "status", "title", "closed_on", "retention_from",
               "retention_until", "on_hold")


def setup_statements(app_role: str, schema: str = "public") -> list[str]:
    """The statements `qrec db setup` runs as the database owner, in order (idempotent)."""
    role = _ident(app_role)
    statements = [
        f"SET search_path = {_ident(schema)}",
        TABLES,
        GUARD,
        DISPOSE.format(schema=_ident(schema)),
        f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ]
    for table in IMMUTABLE:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}",
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION qrec_refuse_change()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION qrec_refuse_change()",
        ]
    statements += [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{app_role}') "
        f"THEN CREATE ROLE {role} LOGIN; END IF; END $$",
        f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {_ident(schema)} FROM {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {_ident(schema)} TO {role}",
        f"GRANT INSERT ON form_revisions, records, versions, files, events, tombstones, "
        f"counters, sensitive_values TO {role}",
        f"GRANT UPDATE ON counters, chain_head TO {role}",
        f"GRANT INSERT ON meta TO {role}",  # workspace facts: set once, never changed
        f"GRANT INSERT, UPDATE ON users TO {role}",  # never DELETE: a user's history stays
        f"GRANT INSERT, DELETE ON sessions TO {role}",
        f"GRANT UPDATE ({', '.join(APP_COLUMNS)}) ON records TO {role}",
        "REVOKE ALL ON FUNCTION qrec_dispose(bigint, text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION qrec_dispose(bigint, text) TO {role}",
    ]
    return statements


def _ident(name: str) -> str:
    """`name` as an SQL identifier: letters, digits and underscores only (ValueError else)."""
    if not name or not all(c.isalnum() or c == "_" for c in name) or name[0].isdigit():
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name
