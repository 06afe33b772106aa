"""What the PostgreSQL catalog defends by itself, beyond the shared contract: the application
role's refused SQL, the disposal function's own checks, the owner's triggers, and event ids
that become visible in id order while writers in other processes commit."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing

import psycopg
import pytest

from qrecords.catalog import open_catalog
from qrecords.catalog.postgres import connect
from qrecords.errors import IntegrityError, WorkspaceError
from tests.catalog.test_contract import NOW, SCHEMA, TODAY, a_complaint, a_record
from tests.shared.pg import OWNER, new_database

_NAMES = itertools.count(1)


@pytest.fixture
def url(pg_server):
    return new_database(pg_server, f"pgcat_{next(_NAMES)}")


def _tombstone(number="CC-2611-01", until="2029-11-23", on="2029-11-23", action="destroy",
               closed=TODAY):
    return {"number": number, "form_id": "complaint", "form_revision": "A/0", "title": "华东",
            "created_at": NOW, "closed_on": closed, "retention_from": closed,
            "retention_until": until, "retention": "3y", "action": action, "versions": 1,
            "files": {}, "list_number": "DL-2029-001", "authorised_by": "wangwen",
            "reason": "保存期满", "at": NOW, "effective_date": on}


@pytest.mark.parametrize("statement", [
    "DELETE FROM records", "TRUNCATE versions", "TRUNCATE events CASCADE",
    "UPDATE records SET number = 'X'", "UPDATE records SET created_by = 'X'",
    "SELECT set_config('qrec.disposing', 'on', false); DELETE FROM files",
    "DROP TABLE events", "ALTER TABLE events DISABLE TRIGGER ALL",
    "CREATE TABLE public.mine (x int)", "DROP FUNCTION qrec_dispose(bigint, text)",
    # identity: a user's row stays (disabled, never deleted); workspace facts never change
    "DELETE FROM users", "UPDATE meta SET value = '1' WHERE key = 'demo'",
    "DELETE FROM meta WHERE key = 'demo'", "UPDATE sessions SET expires_at = '2999-01-01'",
])
def test_the_application_role_is_refused(url, statement):
    catalog = open_catalog(url)
    with catalog.write() as tx:
        a_record(tx)
    db = connect(url)
    try:
        with pytest.raises(psycopg.Error, match="permission denied|must be owner"):
            db.execute(statement)
    finally:
        db.close()
    assert catalog.record("CC-2611-01") and len(catalog.raw_events()) == 1
    catalog.close()


@pytest.mark.parametrize("change, refusal, action", [
    ("open", "is not closed", "destroy"), ("early", "is retained until", "destroy"),
    ("held", "on hold", "destroy"), ("held_by_event", "on hold", "destroy"),
    ("open", "is not closed", "transfer"), ("held", "on hold", "transfer"),
    ("held_by_event", "on hold", "transfer"),
])
def test_the_disposal_function_checks_again_in_sql(url, change, refusal, action):
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx, closed_on=None if change == "open" else TODAY)
        if change == "held":
            tx.set_hold(record_id, True)
        if change == "held_by_event":  # the row says free, the history says held
            tx.add_event(NOW, TODAY, "wangwen", "hold.placed", "CC-2611-01")
    on = "2029-11-22" if change == "early" else "2029-11-23"
    with pytest.raises(IntegrityError, match=refusal):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone(on=on, action=action))
    assert catalog.record("CC-2611-01") is not None and catalog.tombstones() == []
    catalog.close()


def test_the_disposal_function_derives_closure_and_retention_not_from_the_row(url):
    """The review's attack: as the application role, the row of an open record is made to
    say closed long ago, and the tombstone claims today. The history says open: refused."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx, closed_on=None, demo=False)
    db = connect(url)  # the application's own role and credentials
    try:
        db.execute("UPDATE records SET status = 'closed', closed_on = '2000-01-01', "
                   "retention_from = '2000-01-01', retention_until = '2001-01-01' "
                   "WHERE id = %s", (record_id,))
        tombstone = _tombstone(closed="2000-01-01", until="2001-01-01",
                               on=dt.date.today().isoformat())
        with pytest.raises(psycopg.Error, match="CC-2611-01 is not closed"):
            db.execute("SELECT qrec_dispose(%s, %s)", (record_id, json.dumps(tombstone)))
    finally:
        db.close()
    assert catalog.record("CC-2611-01") is not None and catalog.tombstones() == []
    catalog.close()


def test_a_record_whose_revision_has_no_policy_is_not_disposed_of(url):
    """A revision whose schema is no valid form (or was frozen before the policy column)
    gives the function nothing to derive retention from: refused."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_record(tx)  # its revision's schema is "id: complaint"
        tx.set_meta("demo", "1")
        tx.set_retention(record_id, "华东", TODAY, TODAY, "2029-11-23")
    with pytest.raises(IntegrityError, match="its form revision has no retention policy"):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone())
    assert catalog.record("CC-2611-01") is not None
    catalog.close()


def test_the_disposal_function_refuses_a_tombstone_that_differs_from_the_history(url):
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx)  # closed TODAY, 3 years: until 2029-11-23
        tx.set_retention(record_id, "华东", TODAY, TODAY, "2027-01-01")  # the row lies
    with pytest.raises(IntegrityError, match="its history says closed on 2026-11-23, "
                                             "retained until 2029-11-23"):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone(until="2027-01-01", on="2027-01-01"))
    assert catalog.record("CC-2611-01") is not None
    catalog.close()


def test_an_effective_date_after_the_servers_today_is_refused_outside_a_demo(url):
    """The caller names the effective date: later than the server's today (+1 day for time
    zones) only a demonstration workspace may (its dates move with QREC_TODAY)."""
    today = dt.date.today()
    catalog = open_catalog(url)
    with catalog.write() as tx:  # closed on TODAY with 1 day: due the day after
        record_id = a_complaint(tx, period="1d", demo=False)
    far = (today + dt.timedelta(days=2)).isoformat()
    with pytest.raises(IntegrityError, match=f"the effective date {far} is later than the "
                                             "server's date"):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone(until="2026-11-24", on=far))
    with catalog.write() as tx:  # today itself is fine
        tx.dispose(record_id, _tombstone(until="2026-11-24", on=today.isoformat()))
    assert catalog.record("CC-2611-01") is None
    catalog.close()


@pytest.mark.parametrize("period, closed, until", [
    ("3y", "2028-02-29", "2031-03-01"), ("1m", "2027-01-31", "2027-03-01"),
    ("10d", "2026-12-25", "2027-01-04"), ("2y", "2027-06-15", "2029-06-15")])
def test_the_disposal_function_ends_a_period_as_the_domain_does(url, period, closed, until):
    """A day the month lacks ends the period on the first of the next (domain/retention.py)."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx, closed_on=closed, period=period)
    before = (dt.date.fromisoformat(until) - dt.timedelta(days=1)).isoformat()
    with pytest.raises(IntegrityError, match=f"retained until {until}"):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone(closed=closed, until=until, on=before))
    with catalog.write() as tx:
        tx.dispose(record_id, _tombstone(closed=closed, until=until, on=until))
    assert [t["retention_until"] for t in catalog.tombstones()] == [until]
    catalog.close()


def test_a_transfer_may_go_before_the_retention_date_a_destruction_may_not(url):
    """A transfer destroys nothing: the archive keeps the record until the date its
    tombstone names. Destruction stays refused before it, in SQL."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx)
    with pytest.raises(IntegrityError, match="is retained until"):
        with catalog.write() as tx:
            tx.dispose(record_id, _tombstone(on=TODAY))
    with catalog.write() as tx:
        tx.dispose(record_id, {**_tombstone(on=TODAY, action="transfer"),
                               "list_number": "TL-2026-001"})
    assert catalog.record("CC-2611-01") is None
    assert [(t["action"], t["retention_until"]) for t in catalog.tombstones()] == [
        ("transfer", "2029-11-23")]
    catalog.close()


def test_even_the_owner_cannot_rewrite_history(pg_server, url):
    catalog = open_catalog(url)
    with catalog.write() as tx:
        a_record(tx)
    catalog.close()
    with psycopg.connect(pg_server.url(url.rsplit("/", 1)[1], OWNER), autocommit=True) as db:
        for statement in ("UPDATE versions SET data = '{}'", "DELETE FROM events",
                          "TRUNCATE tombstones"):
            with pytest.raises(psycopg.Error, match="immutable"):
                db.execute(statement)


def test_a_server_that_is_down_is_one_line(pg_server):
    with pytest.raises(WorkspaceError, match=r"^catalog postgresql://qrec_app@127\.0\.0\.1:1/x:"
                                             r" 无法连接目录库 cannot connect \(\S.*\)$"):
        open_catalog("postgresql://qrec_app:secret@127.0.0.1:1/x")


def test_a_database_not_set_up_says_who_sets_it_up(pg_server):
    url = new_database(pg_server, f"bare_{next(_NAMES)}", setup=False)
    with pytest.raises(WorkspaceError, match="qrec db setup"):
        open_catalog(url)


def _write_events(url: str, count: int) -> None:
    catalog = open_catalog(url)
    for _ in range(count):
        with catalog.write() as tx:
            tx.add_event(NOW, TODAY, "lina", "record.created", None)
    catalog.close()


def test_event_ids_become_visible_in_id_order_under_concurrent_writers(url):
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_events, args=(url, 40)) for _ in range(4)]
    for writer in writers:
        writer.start()
    reader, seen_max, gaps = open_catalog(url), 0, []
    while any(w.is_alive() for w in writers) or seen_max < 160:
        with reader.read():
            ids = [e["id"] for e in reader.raw_events()]
        if ids != list(range(1, len(ids) + 1)):
            gaps.append(ids)
        seen_max = len(ids)
        if not any(w.is_alive() for w in writers) and seen_max < 160:
            break
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    assert gaps == [] and seen_max == 160
    events = reader.raw_events()
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:]))
    reader.close()


def test_db_setup_upgrades_a_schema_4_catalog_with_its_sensitive_values(pg_server, url):
    from pathlib import Path

    from qrecords.catalog.postgres import setup_database

    schema = (Path(__file__).parents[2] / "qrecords" / "schemas" / "complaint.yaml").read_text(
        encoding="utf-8")
    catalog = open_catalog(url)
    with catalog.write() as tx:
        revision = tx.add_form_revision("complaint", "A/0", schema, b"docx", "f" * 64, NOW)
        record_id = tx.add_record("CC-2611-01", "complaint", revision, NOW, "lina", "registered")
        tx.add_version(record_id, 1, "registered", {"customer_contact": "Wang Lei",
                                                    "customer_phone": "138-0000 1234"},
                       "d" * 64, NOW, TODAY, "lina", None,
                       sensitive={"customer_contact": "wanglei"})  # as a schema 4 had none
    catalog.close()
    owner_url = pg_server.url(url.rsplit("/", 1)[1], OWNER)
    with psycopg.connect(owner_url, autocommit=True) as db:  # what a schema 4 catalog was
        db.execute("DROP TABLE sensitive_values")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match=r"schema version 4; .* `qrec db setup` to "
                                             r"upgrade it"):
        open_catalog(url)
    setup_database(owner_url)
    catalog = open_catalog(url)
    try:
        assert catalog.sensitive_rows() == [
            {"record_id": record_id, "version": 1, "field": "customer_contact",
             "folded": "wanglei"},
            {"record_id": record_id, "version": 1, "field": "customer_phone",
             "folded": "13800001234"}]
        assert catalog.sensitive_matches("1380000") == ["CC-2611-01"]
    finally:
        catalog.close()


def test_a_record_closed_then_voided_is_kept_from_the_void_date_in_sql(url):
    """Review of issue 18: a record final (closed) before it was voided is kept from the void
    date; the disposal function derives the same, and refuses the period from the closure."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        record_id = a_complaint(tx)  # closed on TODAY (2026-11-23)
        tx.add_version(record_id, 3, "void", {"customer": "华东"}, "d" * 64, NOW,
                       "2027-01-10", "wangwen", "误建", sensitive={})
        tx.add_event(NOW, "2027-01-10", "wangwen", "record.voided", "CC-2611-01", 3, {})
    with catalog.write() as tx:
        with pytest.raises(IntegrityError, match="retained until 2030-01-10"):
            tx.dispose(record_id, _tombstone(until="2029-11-23", on="2029-11-23"))
    with catalog.write() as tx:
        tx.dispose(record_id, {**_tombstone(until="2030-01-10", on="2030-01-10"),
                               "retention_from": "2027-01-10"})
    assert [t["number"] for t in catalog.tombstones()] == ["CC-2611-01"]
    catalog.close()


def test_the_disposal_function_runs_an_imported_void_record_from_its_void_date(url):
    """A record imported void (version 1 void, dated the day it was received) keeps its
    void date in its record.imported event: its period runs from there, as the domain's."""
    catalog = open_catalog(url)
    with catalog.write() as tx:
        revision = tx.form_revision("complaint", "A/0")
        revision_id = revision["id"] if revision else tx.add_form_revision(
            "complaint", "A/0", SCHEMA, b"docx", "f" * 64, NOW)
        tx.set_meta("demo", "1")
        record_id = tx.add_record("CC-2501-01", "complaint", revision_id, NOW, "wangwen", "void")
        tx.add_version(record_id, 1, "void", {"customer": "华东"}, "d" * 64, NOW, "2025-01-05",
                       "wangwen", None, sensitive={})
        tx.add_event(NOW, TODAY, "wangwen", "record.imported", "CC-2501-01", 1,
                     {"closed": "2025-02-01", "source": "a.csv", "row": 2})
        tx.set_retention(record_id, "华东", "2025-02-01", "2025-02-01", "2028-02-01")
    stone = {**_tombstone("CC-2501-01", until="2028-02-01", on="2028-01-31",
                          closed="2025-02-01")}
    with pytest.raises(IntegrityError, match="retained until 2028-02-01"):
        with catalog.write() as tx:
            tx.dispose(record_id, stone)
    with catalog.write() as tx:
        tx.dispose(record_id, {**stone, "effective_date": "2028-02-01"})
    assert [t["retention_until"] for t in catalog.tombstones()] == ["2028-02-01"]
    catalog.close()
