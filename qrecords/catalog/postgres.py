"""The shared catalog: PostgreSQL (15 or later, through psycopg 3), the contract of base.py.

Many writers on several machines keep the contract's rules like this:

1. `write()` is one transaction whose first statement locks the chain head row
   (`SELECT ... FROM chain_head FOR UPDATE`): writers queue on that one row (up to the busy
   timeout, then `Busy`), and under READ COMMITTED each statement after the lock sees every
   earlier writer's commit, so a write reads what a serial writer would.
2. `next_seq` updates the counter row (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`), a
   row lock held until commit: gapless, a rollback gives the number back.
3. The chain's tail is the locked head row, never max(id)+1.
4. `dispose` calls `qrec_dispose`, a SECURITY DEFINER function owned by the database owner,
   which derives again in SQL, from the immutable versions, events and the frozen form
   revision's policy (postgres_policy.py), that the record is closed, past retention and not
   on hold, and refuses an effective date after the server's today (+1 day). The
   application role has no UPDATE or DELETE on history rows (postgres_schema.py), and triggers
   refuse them even to the owner.
5. The head lock is taken before an event id is allocated and held until commit, so ids
   commit in id order and a reader never sees event N+1 before N.

Credentials never come from the workspace's YAML: the URL names host, port, database and
user, and libpq takes the password from PGPASSWORD or a password file (PGPASSFILE).
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ..errors import Busy, IntegrityError, Unavailable, WorkspaceError
from ..domain.access import fold
from .base import SCHEMA_VERSION, Catalog, canonical_json, tombstone_files
from .postgres_policy import sql_policy
from .postgres_identity import PostgresIdentity
from .postgres_schema import INDEXED, setup_statements
from .upgrade import UPGRADABLE_FROM, sensitive_rows

BUSY_TIMEOUT_MS = 60_000
_ORDER = {"records": "id", "versions": "ord", "files": "ord", "tombstones": "ord"}


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    return (f"postgresql://{parts.get('user', '')}@{parts.get('host', '')}:"
            f"{parts.get('port', '5432')}/{parts.get('dbname', '')}")


def connect(url: str, autocommit: bool = True) -> psycopg.Connection:
    """A connection to `url`. Raises WorkspaceError (one line, no password) when the server
    cannot be reached or refuses the credentials."""
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10,
                               row_factory=dict_row, application_name="qrec")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else \
            type(exc).__name__
        raise Unavailable(f"catalog {safe_url(url)}: 无法连接目录库 cannot connect ({reason})") \
            from None


def setup_database(owner_url: str, app_role: str = "qrec_app") -> None:
    """`qrec db setup`: make the schema, triggers, disposal function, the application role
    `app_role` (without a password, when missing) and its grants, connected as the
    database's owner at `owner_url`. Idempotent. Raises WorkspaceError."""
    db = connect(owner_url, autocommit=False)
    try:
        with db.transaction():
            db.execute("SET LOCAL lock_timeout = '60s'")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, "
                       "value text NOT NULL)")
            db.execute("LOCK TABLE meta IN EXCLUSIVE MODE")  # one setup at a time
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            for statement in setup_statements(app_role):
                db.execute(statement)
            if row is not None and UPGRADABLE_FROM <= int(row["value"]) < SCHEMA_VERSION:
                _fill_sensitive_values(db)
    except psycopg.Error as exc:
        raise WorkspaceError(f"catalog {safe_url(owner_url)}: setup failed: "
                             f"{str(exc).strip().splitlines()[0]}") from None
    finally:
        db.close()


def _fill_sensitive_values(db: psycopg.Connection) -> None:
    """Upgrade to schema 5: the sensitive-values rows of every version stored before."""
    revisions = db.execute("SELECT id, form_id, revision, schema_text FROM form_revisions")
    versions = db.execute("SELECT v.record_id, v.version, r.form_revision_id, v.data "
                          "FROM versions v JOIN records r ON r.id = v.record_id").fetchall()
    rows = sensitive_rows(revisions.fetchall(), versions)
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO sensitive_values VALUES (%s, %s, %s, %s)", rows)


class PostgresCatalog(PostgresIdentity, Catalog):
    """A PostgreSQL catalog set up by `setup_database`, used with the application role."""

    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self._db = connect(url)
        self._count = 0
        self._tail: tuple[int, str | None] | None = None  # the locked head inside write()

    @property
    def statements(self) -> int:
        return self._count

    def _x(self, query: str, params=None) -> psycopg.Cursor:
        self._count += 1
        try:
            return self._db.execute(query, params)
        except pgerrors.LockNotAvailable:
            raise Busy(f"catalog {safe_url(self.url)}: another qrec kept the catalog locked "
                       f"for {self.busy_timeout_ms / 1000:g} s; try again") from None
        except (pgerrors.InsufficientPrivilege, pgerrors.RaiseException,
                psycopg.IntegrityError) as exc:
            raise IntegrityError(f"catalog {safe_url(self.url)}: "
                                 f"{str(exc).strip().splitlines()[0]}") from None
        except psycopg.OperationalError as exc:
            raise Unavailable(f"catalog {safe_url(self.url)}: 与目录库的连接中断 lost the "
                              f"connection ({str(exc).strip().splitlines()[0]})") from None

    @classmethod
    def open(cls, url: str) -> "PostgresCatalog":
        """The catalog at `url`, checked to be set up at this schema version. Raises
        WorkspaceError (cannot connect, not set up, other version)."""
        catalog = cls(url)
        try:
            version = catalog.schema_version()
        except (psycopg.Error, WorkspaceError, IntegrityError):
            catalog.close()
            raise WorkspaceError(f"catalog {safe_url(url)}: no qrecords schema here; the "
                                 "database owner runs `qrec db setup` once") from None
        if version != SCHEMA_VERSION:
            catalog.close()
            upgrade = " (the database owner runs `qrec db setup` to upgrade it)" \
                if UPGRADABLE_FROM <= version < SCHEMA_VERSION else ""
            raise WorkspaceError(f"catalog {safe_url(url)}: schema version {version}; this "
                                 f"qrec reads version {SCHEMA_VERSION}{upgrade}")
        return catalog

    def schema_version(self) -> int:
        row = self._x("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"]) if row else 0

    def close(self) -> None:
        self._db.close()

    def _in_transaction(self) -> bool:
        return self._db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @contextmanager
    def write(self):
        """One transaction holding the chain head's row lock (rule 1); rolled back on any
        exception. Raises Busy after the busy timeout."""
        with self._db.transaction():
            self._x(f"SET LOCAL lock_timeout = {int(self.busy_timeout_ms)}")
            head = self._x("SELECT id, hash FROM chain_head FOR UPDATE").fetchone()
            self._tail = (head["id"], head["hash"])
            try:
                yield self
            finally:
                self._tail = None

    @contextmanager
    def read(self):
        if self._in_transaction():
            yield self
            return
        with self._db.transaction():
            self._x("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield self

    # -- form revisions ----------------------------------------------------------------------

    _REVISION = "SELECT id, form_id, revision, schema_text, template, sha256 FROM form_revisions"

    def form_revision(self, form_id: str, revision: str) -> dict | None:
        return self._x(self._REVISION + " WHERE form_id = %s AND revision = %s",
                       (form_id, revision)).fetchone()

    def form_revision_by_id(self, revision_id: int) -> dict:
        row = self._x(self._REVISION + " WHERE id = %s", (revision_id,)).fetchone()
        if row is None:
            raise IntegrityError(f"catalog {safe_url(self.url)}: form revision {revision_id} "
                                 "is missing")
        return row

    def form_revision_ids(self) -> list[int]:
        return [row["id"] for row in self._x("SELECT id FROM form_revisions ORDER BY id")]

    def add_form_revision(self, form_id, revision, schema_text, template, sha256, at) -> int:
        return self._x(
            "INSERT INTO form_revisions (form_id, revision, schema_text, template, sha256, "
            "created_at, policy) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (form_id, revision, schema_text, template, sha256, at,
             sql_policy(schema_text))).fetchone()["id"]

    def next_seq(self, counter: str, period: str) -> int:
        return self._x(
            "INSERT INTO counters AS c (form_id, period, last_seq) VALUES (%s, %s, 1) "
            "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = c.last_seq + 1 "
            "RETURNING last_seq", (counter, period)).fetchone()["last_seq"]

    def raise_seq(self, counter: str, period: str, seq: int) -> None:
        self._x("INSERT INTO counters AS c (form_id, period, last_seq) VALUES (%s, %s, %s) "
                "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = "
                "greatest(c.last_seq, excluded.last_seq)", (counter, period, seq))

    # -- records, versions, files ------------------------------------------------------------

    def add_record(self, number, form_id, form_revision_id, at, author, status) -> int:
        try:
            return self._x(
                "INSERT INTO records (number, form_id, form_revision_id, created_at, "
                "created_by, current_version, status) VALUES (%s, %s, %s, %s, %s, 0, %s) "
                "RETURNING id", (number, form_id, form_revision_id, at, author, status)
            ).fetchone()["id"]
        except IntegrityError as exc:
            raise IntegrityError(f"record {number} exists already ({exc})") from None

    def add_version(self, record_id, version, status, data, data_sha256, at, effective_date,
                    author, reason, derived=None, *, sensitive) -> None:
        self._x("INSERT INTO versions (record_id, version, status, data, data_sha256, "
                "created_at, effective_date, author, reason) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (record_id, version, status, canonical_json(data), data_sha256, at,
                 effective_date, author, reason))
        if sensitive:
            self._x("INSERT INTO sensitive_values (record_id, version, field, folded) VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(sensitive)),
                    [v for fid, folded in sensitive.items()
                     for v in (record_id, version, fid, folded)])
        if derived is None:
            self._x("UPDATE records SET current_version = %s, status = %s WHERE id = %s",
                    (version, status, record_id))
            return
        self._x("UPDATE records SET current_version = %s, status = %s, title = %s, "
                "closed_on = %s, retention_from = %s, retention_until = %s WHERE id = %s",
                (version, status, derived["title"], derived["closed_on"],
                 derived["retention_from"], derived["retention_until"], record_id))

    def add_file(self, record_id, version, kind, path, sha256, size, at) -> None:
        self._x("INSERT INTO files (record_id, version, kind, path, sha256, size, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (record_id, version, kind, path, sha256, size, at))

    def record(self, number: str) -> dict | None:
        return self._x("SELECT * FROM records WHERE number = %s", (number,)).fetchone()

    def record_by_id(self, record_id: int) -> dict:
        return self._x("SELECT * FROM records WHERE id = %s", (record_id,)).fetchone()

    def record_numbers(self) -> list[str]:
        return [row["number"] for row in self._x("SELECT number FROM records ORDER BY id")]

    def versions(self, record_id: int) -> list[dict]:
        rows = self._x(f"SELECT {_VERSION} FROM versions WHERE record_id = %s ORDER BY version",
                       (record_id,)).fetchall()
        return [_decoded(row) for row in rows]

    def records_with_versions(self, numbers: list[str]) -> dict[str, tuple[dict, list[dict]]]:
        if not numbers:
            return {}
        records = {row["id"]: row for row in self._x(
            "SELECT * FROM records WHERE number = ANY(%s)", (list(numbers),))}
        found = {record["number"]: (record, []) for record in records.values()}
        for row in self._x(
                f"SELECT {_VERSION} FROM versions WHERE record_id = ANY(%s) "
                "ORDER BY record_id, version", (list(records),)):
            found[records[row["record_id"]]["number"]][1].append(_decoded(row))
        return found

    def versions_data(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int],
                                                               tuple[int, dict]]:
        if not keys:
            return {}
        rows = self._x(
            "SELECT r.number, v.version, r.form_revision_id, v.data FROM records r "
            "JOIN versions v ON v.record_id = r.id WHERE r.number = ANY(%s) AND "
            "(r.number, v.version) IN (SELECT * FROM unnest(%s::text[], %s::int[]))",
            ([number for number, _ in keys], [number for number, _ in keys],
             [version for _, version in keys]))
        return {(row["number"], row["version"]): (row["form_revision_id"],
                                                  json.loads(row["data"])) for row in rows}

    def version(self, record_id: int, version: int) -> dict | None:
        row = self._x(f"SELECT {_VERSION} FROM versions WHERE record_id = %s AND version = %s",
                      (record_id, version)).fetchone()
        return _decoded(row) if row else None

    def files(self, record_id: int, version: int) -> dict[str, dict]:
        rows = self._x(f"SELECT {_FILE} FROM files WHERE record_id = %s AND version = %s",
                       (record_id, version)).fetchall()
        return {row["kind"]: row for row in rows}

    def record_files(self, record_id: int) -> list[dict]:
        return self._x("SELECT version, kind, path, sha256, size FROM files WHERE "
                       "record_id = %s ORDER BY version, kind", (record_id,)).fetchall()

    def current_versions(self, form_id: str, states) -> list[dict]:
        rows = self._x(
            "SELECT r.number, r.form_revision_id, r.status, v.data FROM records r JOIN "
            "versions v ON v.record_id = r.id AND v.version = r.current_version "
            "WHERE r.form_id = %s AND r.status = ANY(%s) ORDER BY r.id",
            (form_id, list(states))).fetchall()
        return [_decoded(row) for row in rows]

    def followers(self, form_id: str, field: str, number: str) -> list[str]:
        rows = self._x(
            "SELECT r.number FROM records r JOIN versions v ON v.record_id = r.id AND "
            "v.version = r.current_version WHERE r.form_id = %s AND "
            "(v.data::jsonb ->> %s) = %s ORDER BY r.id", (form_id, field, number)).fetchall()
        return [row["number"] for row in rows]

    def versions_lacking(self, kind: str) -> list[dict]:
        return self._x(
            "SELECT r.number, r.form_id, v.version, v.status FROM versions v JOIN records r "
            "ON r.id = v.record_id WHERE NOT EXISTS (SELECT 1 FROM files f WHERE "
            "f.record_id = v.record_id AND f.version = v.version AND f.kind = %s) "
            "ORDER BY r.id, v.version", (kind,)).fetchall()

    def sensitive_matches(self, text: str) -> list[str]:
        """See the contract: strpos over the sensitive-values table (no LIKE escaping)."""
        rows = self._x("SELECT DISTINCT r.id, r.number FROM sensitive_values s JOIN records r "
                       "ON r.id = s.record_id AND r.current_version = s.version "
                       "WHERE strpos(s.folded, %s) > 0 ORDER BY r.id",
                       (fold(text),)).fetchall()
        return [row["number"] for row in rows]

    def sensitive_rows(self) -> list[dict]:
        return self._x("SELECT record_id, version, field, folded FROM sensitive_values "
                       "ORDER BY record_id, version, field").fetchall()

    # -- registers and reports ---------------------------------------------------------------

    def form_records(self, form_id: str) -> list[dict]:
        rows = self._x(
            "SELECT r.number, r.form_revision_id, r.status, r.closed_on, r.retention_from, "
            "r.retention_until, r.on_hold, first.effective_date AS created_on, v.data "
            "FROM records r "
            "JOIN versions v ON v.record_id = r.id AND v.version = r.current_version "
            "JOIN versions first ON first.record_id = r.id AND first.version = 1 "
            "WHERE r.form_id = %s ORDER BY r.id", (form_id,)).fetchall()
        return [dict(_decoded(row), on_hold=bool(row["on_hold"])) for row in rows]

    def closings(self, form_id: str) -> dict[str, dict]:
        rows = self._x(
            "SELECT e.record_number, e.detail FROM events e JOIN records r ON r.number = "
            "e.record_number WHERE r.form_id = %s AND e.action = 'record.transition' AND "
            "(e.detail::jsonb ->> 'closed') IS NOT NULL ORDER BY e.id", (form_id,))
        return {row["record_number"]: json.loads(row["detail"]) for row in rows}

    # -- retention and disposal --------------------------------------------------------------

    def set_retention(self, record_id, title, closed_on, retention_from, retention_until):
        self._x("UPDATE records SET title = %s, closed_on = %s, retention_from = %s, "
                "retention_until = %s WHERE id = %s",
                (title, closed_on, retention_from, retention_until, record_id))

    def set_hold(self, record_id: int, on_hold: bool) -> None:
        self._x("UPDATE records SET on_hold = %s WHERE id = %s", (int(on_hold), record_id))

    def retention_counts(self, today: str) -> dict[str, dict]:
        due = "coalesce(retention_until <= %(today)s, false)"
        counts: dict[str, dict] = {}
        for row in self._x(
                "SELECT form_id, count(*) FILTER (WHERE closed_on IS NULL) AS open, "
                f"count(*) FILTER (WHERE closed_on IS NOT NULL AND NOT {due}) AS retained, "
                f"count(*) FILTER (WHERE closed_on IS NOT NULL AND {due} AND on_hold = 0) "
                "AS due, count(*) FILTER (WHERE on_hold <> 0) AS on_hold FROM records "
                "GROUP BY form_id", {"today": today}):
            form_id = row.pop("form_id")
            counts[form_id] = dict(row, disposed=0)
        for row in self._x("SELECT form_id, count(*) AS n FROM tombstones GROUP BY form_id"):
            counts.setdefault(row["form_id"], {"open": 0, "retained": 0, "due": 0, "on_hold": 0})
            counts[row["form_id"]]["disposed"] = row["n"]
        return counts

    def due_records(self, today: str) -> list[dict]:
        rows = self._x(
            "SELECT id, number, form_id, form_revision_id, title, status, closed_on, "
            "retention_from, retention_until, on_hold FROM records WHERE closed_on IS NOT NULL "
            "AND retention_until <= %s ORDER BY retention_until, id", (today,)).fetchall()
        return [dict(row, on_hold=bool(row["on_hold"])) for row in rows]

    def retention_until(self, numbers: list[str]) -> dict[str, str | None]:
        rows = self._x("SELECT number, retention_until FROM records WHERE number = ANY(%s)",
                       (list(numbers),))
        return {row["number"]: row["retention_until"] for row in rows}

    def dispose(self, record_id: int, tombstone: dict) -> None:
        row = {**tombstone, "files": canonical_json(tombstone["files"])}
        self._x("SELECT qrec_dispose(%s, %s)", (record_id, canonical_json(row)))

    def counters(self) -> dict[tuple[str, str], int]:
        return {(row["form_id"], row["period"]): row["last_seq"] for row in
                self._x("SELECT form_id, period, last_seq FROM counters")}

    def set_counter(self, counter: str, period: str, last_seq: int) -> None:
        self._x("INSERT INTO counters AS c (form_id, period, last_seq) VALUES (%s, %s, %s) "
                "ON CONFLICT (form_id, period) DO UPDATE SET last_seq = excluded.last_seq",
                (counter, period, last_seq))

    def add_tombstone(self, tombstone: dict) -> None:
        row = {**tombstone, "files": canonical_json(tombstone["files"])}
        self._x(f"INSERT INTO tombstones ({', '.join(row)}) VALUES "
                f"({', '.join(['%s'] * len(row))})", tuple(row.values()))

    def tombstone(self, number: str) -> dict | None:
        row = self._x("SELECT * FROM tombstones WHERE number = %s", (number,)).fetchone()
        return _tombstone(row) if row else None

    def guard_problems(self) -> list[str]:
        from .postgres_schema import IMMUTABLE

        rows = self._x("SELECT t.tgname AS name, t.tgenabled AS enabled FROM pg_trigger t "
                       "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND "
                       "c.relnamespace = current_schema()::regnamespace").fetchall()
        found = {row["name"]: row["enabled"] for row in rows}
        problems = []
        for table in IMMUTABLE:
            for name in (f"{table}_immutable", f"{table}_no_truncate"):
                if name not in found:
                    problems.append(f"the trigger {name} is missing (dropped): its table's "
                                    "rows can be changed")
                elif found[name] == "D":
                    problems.append(f"the trigger {name} is disabled: its table's rows can "
                                    "be changed")
        guard = self._x("SELECT 1 FROM pg_proc WHERE proname = 'qrec_refuse_change'").fetchone()
        if guard is None:
            problems.append("the function qrec_refuse_change is missing (dropped)")
        return problems

    def clear_disposal_gate(self) -> int:
        return 0  # qrec_dispose() lets a disposal pass; there is no gate table

    def tombstones(self) -> list[dict]:
        rows = self._x("SELECT * FROM tombstones ORDER BY at, number").fetchall()
        return [_tombstone(row) for row in rows]

    # -- events ------------------------------------------------------------------------------

    def _chain_tail(self) -> tuple[int, str | None]:
        if self._tail is None:
            raise RuntimeError("add_event outside a write transaction")
        return self._tail

    def _append_event(self, event: dict, prev_hash: str, digest: str) -> None:
        self._x("INSERT INTO events (id, at, effective_date, actor, action, record_number, "
                "version, detail, prev_hash, hash) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", (*event.values(), prev_hash, digest))
        self._x("UPDATE chain_head SET id = %s, hash = %s", (event["id"], digest))
        self._tail = (event["id"], digest)

    def chain_head(self) -> str | None:
        row = self._x("SELECT id, hash FROM chain_head").fetchone()
        return f"{row['id']}:{row['hash']}" if row and row["id"] else None

    def raw_events(self) -> list[dict]:
        return self._x("SELECT * FROM events ORDER BY id").fetchall()

    def events(self, record_number: str | None = None) -> list[dict]:
        query = "SELECT * FROM events" + (" WHERE record_number = %s" if record_number else "")
        rows = self._x(query + " ORDER BY id", (record_number,) if record_number else None)
        return [dict(row, detail=json.loads(row["detail"])) for row in rows]

    def events_by_action(self, actions) -> list[dict]:
        rows = self._x("SELECT * FROM events WHERE action = ANY(%s) ORDER BY id",
                       (list(actions),))
        return [dict(row, detail=json.loads(row["detail"])) for row in rows]

    def rows(self, table: str) -> list[dict]:
        if table not in _ORDER:
            raise ValueError(table)
        rows = self._x(f"SELECT * FROM {table} ORDER BY {_ORDER[table]}").fetchall()
        for row in rows:
            row.pop("ord", None)
        return rows

    def latest_change_id(self) -> int:
        row = self._x(f"SELECT max(id) AS id FROM events WHERE {INDEXED}").fetchone()
        return row["id"] or 0

    def changed_since(self, event_id: int) -> tuple[int, list[str]]:
        with self.read():
            latest = self.latest_change_id()
            rows = self._x(
                "SELECT record_number FROM events WHERE id > %s AND id <= %s AND record_number "
                f"IS NOT NULL AND {INDEXED} GROUP BY record_number ORDER BY min(id)",
                (event_id, latest)).fetchall()
        return latest, [row["record_number"] for row in rows]

    def changes_after(self, event_id: int) -> int:
        return self._x(f"SELECT count(*) AS n FROM events WHERE id > %s AND {INDEXED}",
                       (event_id,)).fetchone()["n"]

    def written_files(self, record_number: str | None) -> set[str]:
        rows = self._x(
            "SELECT k FROM events e, jsonb_object_keys(CASE WHEN jsonb_typeof("
            "e.detail::jsonb -> 'written') = 'object' THEN e.detail::jsonb -> 'written' "
            "ELSE '{}'::jsonb END) AS k WHERE e.record_number IS NOT DISTINCT FROM %s::text",
            (record_number,)).fetchall()
        return {row["k"] for row in rows}


_VERSION = ("record_id, version, status, data, data_sha256, created_at, effective_date, "
            "author, reason")
_FILE = "record_id, version, kind, path, sha256, size, created_at"


def _decoded(row: dict) -> dict:
    return dict(row, data=json.loads(row["data"]))


def _tombstone(row: dict) -> dict:
    row.pop("ord", None)
    return dict(row, files=tombstone_files(row["files"]))
