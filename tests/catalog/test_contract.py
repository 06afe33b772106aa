"""The catalog contract (qrecords/catalog/base.py), run against every catalog backend.

Each backend is given by a fixture that makes an empty catalog and returns (url, raw), where
`raw(statement)` runs SQL with the application's own connection, as a bug or an attacker with
the application's credentials would. PostgreSQL: a new database per test in the session's
throw-away cluster (tests/servers.py), set up by its owner role as `qrec db setup` does, used
with the application role.
"""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
from importlib import resources

import pytest

from qrecords.catalog import create_catalog, open_catalog
from qrecords.catalog.base import GENESIS, INDEX_NEUTRAL, Catalog
from qrecords.catalog.chain import event_hash
from qrecords.errors import Busy, IntegrityError

NOW, TODAY = "2026-11-23T08:00:00Z", "2026-11-23"
SCHEMA = (resources.files("qrecords") / "schemas" / "complaint.yaml").read_text(encoding="utf-8")
# SQLite's triggers say "immutable"; PostgreSQL refuses the application role the privilege.
REFUSED = "immutable|permission denied"


def _sqlite(tmp_path):
    url = f"sqlite:{tmp_path / 'catalog.sqlite'}"
    create_catalog(url).close()

    def raw(statement: str) -> None:
        db = sqlite3.connect(tmp_path / "catalog.sqlite")
        try:
            db.execute(statement)
            db.commit()
        finally:
            db.close()
    return url, raw


_DATABASES = itertools.count(1)


def _postgres(tmp_path, server):
    from tests.shared.pg import new_database

    url = new_database(server, f"contract_{next(_DATABASES)}")
    create_catalog(url).close()

    def raw(statement: str) -> None:
        from qrecords.catalog.postgres import connect

        db = connect(url)  # the application's own role and credentials
        try:
            db.execute(statement)
        finally:
            db.close()
    return url, raw


BACKENDS = {"sqlite": _sqlite, "postgresql": _postgres}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path):
    if request.param == "sqlite":
        return _sqlite(tmp_path)
    return _postgres(tmp_path, request.getfixturevalue("pg_server"))


@pytest.fixture
def catalog(backend):
    opened = open_catalog(backend[0])
    yield opened
    opened.close()


def a_record(tx: Catalog, number: str = "CC-2611-01", status: str = "registered",
             sensitive: dict | None = None) -> int:
    """A record with version 1 and its DOCX row, as `new` stores it (inside write())."""
    revision = tx.form_revision("complaint", "A/0")
    revision_id = revision["id"] if revision else tx.add_form_revision(
        "complaint", "A/0", "id: complaint", b"docx", "f" * 64, NOW)
    record_id = tx.add_record(number, "complaint", revision_id, NOW, "lina", status)
    tx.add_version(record_id, 1, status, {"customer": "华东"}, "d" * 64, NOW, TODAY, "lina",
                   None, sensitive=sensitive or {})
    tx.add_file(record_id, 1, "docx", f"complaint/{number}/{number}_v1.docx", "a" * 64, 10, NOW)
    tx.add_event(NOW, TODAY, "lina", "record.created", number, 1, {"files": {"docx": "a" * 64}})
    return record_id


def a_complaint(tx, closed_on: str | None = TODAY, period: str = "3y", demo: bool = True,
                number: str = "CC-2611-01", sensitive: dict | None = None) -> int:
    """A complaint record made with the real form (its policy frozen with the revision):
    version 1 registered on TODAY, version 2 closed on `closed_on` (none when None), the row's
    derived columns set (until 2029-11-23 whatever the period: PostgreSQL's disposal function
    does not read them); the catalog a demonstration's when `demo` (its effective dates may
    be later than the server's today). Inside write(); returns the record id."""
    schema = SCHEMA.replace("period: 3y", f"period: {period}")
    revision = tx.form_revision("complaint", "A/0")
    revision_id = revision["id"] if revision else tx.add_form_revision(
        "complaint", "A/0", schema, b"docx", "f" * 64, NOW)
    if tx.meta_value("demo") is None:
        tx.set_meta("demo", "1" if demo else "0")
    record_id = tx.add_record(number, "complaint", revision_id, NOW, "lina", "registered")
    tx.add_version(record_id, 1, "registered", {"customer": "华东"}, "d" * 64, NOW, TODAY,
                   "lina", None, sensitive=sensitive or {})
    tx.add_event(NOW, TODAY, "lina", "record.created", number, 1, {})
    if closed_on:
        tx.add_version(record_id, 2, "closed", {"customer": "华东"}, "d" * 64, NOW, closed_on,
                       "lina", None, sensitive=sensitive or {})
        tx.add_event(NOW, closed_on, "lina", "record.closed", number, 2, {})
        tx.set_retention(record_id, "华东", closed_on, closed_on, "2029-11-23")
    return record_id


def test_a_write_commits_whole_or_not_at_all(catalog):
    with pytest.raises(RuntimeError):
        with catalog.write() as tx:
            a_record(tx)
            raise RuntimeError("fails half-way")
    assert catalog.record("CC-2611-01") is None and catalog.raw_events() == []
    with catalog.write() as tx:
        record_id = a_record(tx)
    assert catalog.record("CC-2611-01")["id"] == record_id
    assert catalog.version(record_id, 1)["data"] == {"customer": "华东"}
    assert catalog.files(record_id, 1)["docx"]["size"] == 10


def test_numbers_are_gapless_per_counter_and_period_and_a_rollback_gives_one_back(catalog):
    with catalog.write() as tx:
        assert [tx.next_seq("complaint", "2611") for _ in range(3)] == [1, 2, 3]
        assert tx.next_seq("complaint", "2612") == 1
        assert tx.next_seq("contract_review", "2026") == 1
    with pytest.raises(RuntimeError):
        with catalog.write() as tx:
            assert tx.next_seq("complaint", "2611") == 4
            raise RuntimeError("the record using 4 failed")
    with catalog.write() as tx:
        assert tx.next_seq("complaint", "2611") == 4


def test_a_raised_counter_goes_on_after_the_imported_serial_and_never_back(catalog):
    with catalog.write() as tx:
        tx.raise_seq("complaint", "2311", 5)  # CC-2311-05 imported with its own number
        assert tx.next_seq("complaint", "2311") == 6
        tx.raise_seq("complaint", "2311", 2)  # an earlier serial: the counter stays
        assert tx.next_seq("complaint", "2311") == 7
        assert tx.next_seq("complaint", "2312") == 1


def _allocate(url: str, count: int, queue) -> None:
    catalog = open_catalog(url)
    try:
        for _ in range(count):
            with catalog.write() as tx:
                queue.put(tx.next_seq("complaint", "2611"))
    finally:
        catalog.close()


def test_writers_in_several_processes_never_share_or_skip_a_number(backend):
    queue = multiprocessing.get_context("spawn").Queue()
    workers = [multiprocessing.get_context("spawn").Process(target=_allocate,
                                                            args=(backend[0], 25, queue))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    numbers = [queue.get(timeout=60) for _ in range(100)]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sorted(numbers) == list(range(1, 101))


def test_the_hash_chain_has_one_serial_order(catalog):
    with catalog.write() as tx:
        a_record(tx)
        assert tx.add_event(NOW, TODAY, "wangwen", "hold.placed", "CC-2611-01") == 2
    events = catalog.raw_events()
    assert [e["id"] for e in events] == [1, 2]
    assert events[0]["prev_hash"] == GENESIS and events[1]["prev_hash"] == events[0]["hash"]
    for event in events:
        assert event_hash(event, event["prev_hash"]) == event["hash"]
    assert catalog.chain_head() == f"2:{events[1]['hash']}"
    assert catalog.events("CC-2611-01")[1]["detail"] == {}


def test_an_event_outside_a_write_is_refused(catalog):
    with pytest.raises(RuntimeError, match="outside a write"):
        catalog.add_event(NOW, TODAY, "lina", "record.created")


@pytest.mark.parametrize("statement", [
    "UPDATE versions SET data = '{}'", "DELETE FROM versions",
    "UPDATE files SET sha256 = 'x'", "DELETE FROM files",
    "UPDATE events SET actor = 'x'", "DELETE FROM events",
    "UPDATE form_revisions SET template = 'x'", "DELETE FROM form_revisions",
    "UPDATE sensitive_values SET folded = 'x'", "DELETE FROM sensitive_values",
])
def test_history_rows_are_refused_change_by_the_backend_itself(catalog, backend, statement):
    with catalog.write() as tx:
        a_record(tx, sensitive={"customer_phone": "13800001234"})
    with pytest.raises(Exception, match=REFUSED):
        backend[1](statement)
    assert len(catalog.sensitive_rows()) == 1
    assert len(catalog.rows("versions")) == 1 and len(catalog.raw_events()) == 1


def test_disposal_is_the_one_way_out_and_leaves_a_tombstone(catalog, backend):
    with catalog.write() as tx:  # a demonstration's: its effective dates may lie ahead
        record_id = a_complaint(tx, sensitive={"customer_contact": "王磊"})
    assert catalog.due_records("2029-11-22") == []
    assert [r["number"] for r in catalog.due_records("2029-11-23")] == ["CC-2611-01"]
    tombstone = {"number": "CC-2611-01", "form_id": "complaint", "form_revision": "A/0",
                 "title": "华东", "created_at": NOW, "closed_on": TODAY,
                 "retention_from": TODAY, "retention_until": "2029-11-23", "retention": "3y",
                 "action": "destroy", "versions": 2,
                 "files": {"complaint/CC-2611-01/CC-2611-01_v1.docx": "a" * 64},
                 "list_number": "DL-2029-001", "authorised_by": "wangwen", "reason": "保存期满",
                 "at": NOW, "effective_date": "2029-11-23"}
    with catalog.write() as tx:
        tx.dispose(record_id, tombstone)
    assert catalog.record("CC-2611-01") is None and catalog.rows("versions") == []
    assert catalog.sensitive_rows() == [] and catalog.sensitive_matches("王磊") == []
    assert catalog.tombstone("CC-2611-01")["files"] == tombstone["files"]
    for statement in ("DELETE FROM tombstones", "UPDATE tombstones SET reason = 'x'"):
        with pytest.raises(Exception, match=REFUSED):
            backend[1](statement)


def test_sensitive_values_are_kept_per_version_and_matched_on_the_current_one(catalog):
    with catalog.write() as tx:
        first = a_record(tx, sensitive={"customer_contact": "王磊",
                                        "customer_phone": "13800001234"})
        second = a_record(tx, "CC-2611-02", sensitive={"customer_phone": "13800001234"})
        tx.add_version(second, 2, "registered", {"customer": "华南"}, "e" * 64, NOW, TODAY,
                       "lina", "更正", sensitive={"customer_phone": "13912345678"})
        third = a_record(tx, "CC-2611-03", sensitive={"customer_contact": "li_ming%"})
    assert catalog.sensitive_rows() == [
        {"record_id": first, "version": 1, "field": "customer_contact", "folded": "王磊"},
        {"record_id": first, "version": 1, "field": "customer_phone", "folded": "13800001234"},
        {"record_id": second, "version": 1, "field": "customer_phone", "folded": "13800001234"},
        {"record_id": second, "version": 2, "field": "customer_phone", "folded": "13912345678"},
        {"record_id": third, "version": 1, "field": "customer_contact", "folded": "li_ming%"}]
    before = catalog.statements
    assert catalog.sensitive_matches("138 0000-1234") == ["CC-2611-01"]  # v2 is current
    assert catalog.statements - before == 1
    assert catalog.sensitive_matches("1391234") == ["CC-2611-02"]
    assert catalog.sensitive_matches("LI_MING%") == ["CC-2611-03"]
    assert catalog.sensitive_matches("g%") == ["CC-2611-03"]
    assert catalog.sensitive_matches("l%") == []  # no LIKE wildcards


def test_a_hold_and_the_derived_columns(catalog):
    with catalog.write() as tx:
        record_id = a_record(tx)
        tx.set_retention(record_id, "华东 / 控制板", TODAY, TODAY, "2029-11-23")
        tx.set_hold(record_id, True)
    row = catalog.record("CC-2611-01")
    assert (row["title"], row["closed_on"], row["retention_until"], row["on_hold"]) == \
        ("华东 / 控制板", TODAY, "2029-11-23", 1)
    counts = catalog.retention_counts("2029-11-23")["complaint"]
    assert counts == {"open": 0, "retained": 0, "due": 0, "on_hold": 1, "disposed": 0}
    [listed] = catalog.form_records("complaint")  # the register's rows
    assert (listed["closed_on"], listed["retention_from"], listed["retention_until"],
            listed["on_hold"]) == (TODAY, TODAY, "2029-11-23", True)


def test_the_data_of_several_versions_in_one_statement(catalog):
    with catalog.write() as tx:
        first = a_record(tx)
        second = a_record(tx, "CC-2611-02")
        tx.add_version(second, 2, "registered", {"customer": "华南"}, "e" * 64, NOW, TODAY,
                       "lina", "更正", sensitive={})
    revision = catalog.record("CC-2611-01")["form_revision_id"]
    before = catalog.statements
    found = catalog.versions_data([("CC-2611-01", 1), ("CC-2611-02", 2), ("CC-2611-02", 3),
                                   ("CC-2611-09", 1)])
    assert catalog.statements - before == 1
    assert found == {("CC-2611-01", 1): (revision, {"customer": "华东"}),
                     ("CC-2611-02", 2): (revision, {"customer": "华南"})}
    assert catalog.versions_data([]) == {} and first != second


def test_records_and_their_versions_in_two_statements(catalog):
    """The index catching up with records changed elsewhere reads them in batches."""
    with catalog.write() as tx:
        a_record(tx)
        second = a_record(tx, "CC-2611-02")
        tx.add_version(second, 2, "registered", {"customer": "华南"}, "e" * 64, NOW, TODAY,
                       "lina", "更正", sensitive={})
    before = catalog.statements
    found = catalog.records_with_versions(["CC-2611-02", "CC-2611-01", "CC-2611-09"])
    assert catalog.statements - before == 2
    assert sorted(found) == ["CC-2611-01", "CC-2611-02"]
    for number in found:
        record, versions = found[number]
        assert record == catalog.record(number)
        assert versions == catalog.versions(record["id"])
    assert [v["data"] for v in found["CC-2611-02"][1]] == [{"customer": "华东"},
                                                           {"customer": "华南"}]
    assert catalog.records_with_versions([]) == {}


def test_the_data_of_a_few_versions_is_found_by_index_not_by_a_scan(tmp_path):
    """A search page asks for 20 versions among 100,000: a scan of the versions table was
    50 ms a page. SQLite's virtual machine counts the steps (SQLite only: PostgreSQL's plan
    is its planner's choice)."""
    catalog = open_catalog(_sqlite(tmp_path)[0])
    try:
        with catalog.write() as tx:
            for n in range(1, 2001):
                a_record(tx, f"CC-2611-{n:04d}")
        steps = []
        catalog._db.set_progress_handler(lambda: steps.append(1), 10)
        assert len(catalog.versions_data([("CC-2611-0007", 1), ("CC-2611-1999", 1)])) == 2
        catalog._db.set_progress_handler(None, 0)
        assert len(steps) * 10 < 2000  # a scan steps through every one of 2,000 versions
    finally:
        catalog.close()


def test_the_index_follows_event_ids_in_one_snapshot(catalog):
    with catalog.write() as tx:
        a_record(tx)
        tx.add_event(NOW, TODAY, "wangwen", INDEX_NEUTRAL[0], "CC-2611-01", 1)
    assert catalog.latest_change_id() == 1  # a read changes nothing the index holds
    with catalog.write() as tx:
        a_record(tx, "CC-2611-02")
    assert catalog.changed_since(0) == (3, ["CC-2611-01", "CC-2611-02"])
    assert catalog.changed_since(1) == (3, ["CC-2611-02"])
    assert catalog.changes_after(1) == 1


def test_a_writer_waiting_too_long_is_told_the_catalog_is_busy(backend, tmp_path):
    if backend[0].startswith("sqlite:"):
        from qrecords.catalog.sqlite import SqliteCatalog

        path = backend[0].removeprefix("sqlite:")
        holder, waiter = SqliteCatalog(path), SqliteCatalog(path, busy_timeout_ms=200)
    else:
        from qrecords.catalog.postgres import PostgresCatalog

        holder = PostgresCatalog(backend[0])
        waiter = PostgresCatalog(backend[0], busy_timeout_ms=200)
    try:
        with holder.write():
            with pytest.raises(Busy, match="another qrec kept the catalog locked"):
                with waiter.write():
                    pass
    finally:
        holder.close()
        waiter.close()


def test_a_number_already_used_is_an_integrity_error(catalog):
    with catalog.write() as tx:
        a_record(tx)
    with pytest.raises(IntegrityError, match="CC-2611-01"):
        with catalog.write() as tx:
            a_record(tx)


def test_statements_are_counted(catalog):
    before = catalog.statements
    catalog.record("CC-2611-01")
    assert catalog.statements == before + 1



def a_user(user_id: str = "lina", os_account: str | None = None) -> dict:
    return {"id": user_id, "name": "李娜", "department": "quality", "roles": ["clerk"],
            "disabled": False, "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$x$y",
            "os_account": os_account, "failed_logins": 0, "locked_until": None}


def test_users_are_saved_changed_and_read_back_with_their_roles(catalog):
    with catalog.write():
        catalog.save_user(a_user())
        catalog.save_user(a_user("wangwen"))
    with catalog.write():
        catalog.save_user({**a_user(), "roles": ["clerk", "privacy"], "failed_logins": 2,
                           "locked_until": "2026-11-23T08:15:00Z"})
    row = catalog.user("lina")
    assert row["roles"] == ["clerk", "privacy"] and row["failed_logins"] == 2
    assert row["locked_until"] == "2026-11-23T08:15:00Z" and row["disabled"] is False
    assert [u["id"] for u in catalog.users()] == ["lina", "wangwen"]
    assert catalog.user("nobody") is None


def test_an_os_account_is_bound_to_one_user_only(catalog):
    with catalog.write():
        catalog.save_user(a_user("lina", os_account="li"))
    assert catalog.user_by_os_account("li")["id"] == "lina"
    with pytest.raises(IntegrityError, match="bound to 'lina'"):
        with catalog.write():
            catalog.save_user(a_user("wangwen", os_account="li"))
    assert catalog.user("wangwen") is None  # the write was rolled back whole


def test_sessions_are_kept_by_token_hash_and_dropped(catalog):
    with catalog.write():
        catalog.save_user(a_user())
        for token in ("a" * 64, "b" * 64):
            catalog.add_session({"token_sha256": token, "user_id": "lina", "created_at": NOW,
                                 "expires_at": "2026-11-23T16:00:00Z"})
    assert catalog.session("a" * 64)["user_id"] == "lina"
    with catalog.write():
        assert catalog.drop_sessions("lina", "a" * 64) == 1
    assert catalog.session("a" * 64) is None and catalog.session("b" * 64) is not None
    with catalog.write():
        assert catalog.drop_sessions("lina") == 1
    assert catalog.session("b" * 64) is None


def test_a_workspace_fact_is_set_once(catalog):
    with catalog.write():
        catalog.set_meta("demo", "0")
        catalog.set_meta("demo", "0")  # the same value again changes nothing
    with pytest.raises(IntegrityError, match="'demo' is set already"):
        with catalog.write():
            catalog.set_meta("demo", "1")
    assert catalog.meta_value("demo") == "0" and catalog.meta_value("other") is None


def _as_owner(url: str, statement: str) -> None:
    """Run `statement` as whoever may change the schema: the SQLite file's writer, or
    PostgreSQL's owner role (the application role may not drop triggers)."""
    if url.startswith("sqlite:"):
        db = sqlite3.connect(url.removeprefix("sqlite:"))
        db.execute(statement)
        db.commit()
        db.close()
        return
    import psycopg

    from tests.shared.pg import APP, OWNER

    with psycopg.connect(url.replace(f"{APP}@", f"{OWNER}@"), autocommit=True) as db:
        db.execute(statement)


def test_the_guards_are_in_place_and_a_dropped_or_disabled_trigger_is_named(backend):
    url, _ = backend
    catalog = open_catalog(url)
    try:
        assert catalog.guard_problems() == []
        sqlite = url.startswith("sqlite:")
        _as_owner(url, "DROP TRIGGER events_no_update" if sqlite else
                  "DROP TRIGGER events_immutable ON events")
        _as_owner(url, "DROP TRIGGER versions_no_delete" if sqlite else
                  "ALTER TABLE versions DISABLE TRIGGER versions_immutable")
        found = catalog.guard_problems()
        if sqlite:
            assert found == [
                "the trigger versions_no_delete is missing (dropped): its table's rows can be "
                "changed",
                "the trigger events_no_update is missing (dropped): its table's rows can be "
                "changed"]
        else:
            assert found == [
                "the trigger versions_immutable is disabled: its table's rows can be changed",
                "the trigger events_immutable is missing (dropped): its table's rows can be "
                "changed"]
    finally:
        catalog.close()


def test_a_stray_disposal_gate_row_is_named_and_cleared(tmp_path):
    url, raw = _sqlite(tmp_path)
    raw("INSERT INTO disposal_gate VALUES ('DL-FAKE')")
    catalog = open_catalog(url)
    try:
        assert catalog.guard_problems() == [
            "the disposal_gate table holds 1 row (DL-FAKE) outside a disposal: the delete "
            "protection of versions and files is off (`qrec verify --repair` removes them)"]
        with catalog.write():
            assert catalog.clear_disposal_gate() == 1
        assert catalog.guard_problems() == []
    finally:
        catalog.close()
