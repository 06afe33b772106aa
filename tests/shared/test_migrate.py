"""`qrec migrate`: an embedded workspace copied into PostgreSQL + S3, checked before and after;
the shared workspace verifies, continues the numbering, and a second migration is refused."""

from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner

from qrecords.api import disposal, migrate, records, search, steps, verify
from qrecords.cli import cli
from qrecords.catalog import open_catalog
from qrecords.errors import Conflict
from qrecords.files import open_file_store
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import as_user, init_workspace, load_example
from tests.shared.pg import new_database

_NAMES = itertools.count(1)
CLOSE = [("zhaomin", "investigate", {}),
         ("zhaomin", "assign", {"cause_analysis": "包装不足", "responsible_department": "quality"}),
         ("lina", "propose", {"countermeasure": "改包装", "disposition": "credit",
                              "disposition_amount": "3000"}),
         ("huangjun", "decide", {}), ("zhaomin", "close", {"customer_accepted": "yes"})]


@pytest.fixture
def target(pg_server, s3_server, monkeypatch):
    n = next(_NAMES)
    url = new_database(pg_server, f"migrate_{n}")
    bucket = s3_server.make_bucket(f"qrec-migrate-{n}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return url, f"s3://{bucket}/acme", s3_server.endpoint


def _embedded(path, monkeypatch):
    """A workspace with open, closed, held and disposed records (and its disposal list)."""
    ws = init_workspace(path)
    made = [records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                               pdf=False)["number"] for _ in range(4)]
    records.amend(as_user(ws, "lina"), made[0], {"product": "铝合金外壳"}, "更正")
    for number in made[1:4]:
        for user, action, fields in CLOSE:
            steps.transition(as_user(ws, user), number, action, fields, pdf=False)
    disposal.hold(ws, [made[2]], "诉讼 litigation", place=True)
    ws.close()
    monkeypatch.setenv("QREC_TODAY", "2040-01-02")
    ws = Workspace.open(path, "wangwen")
    disposal.dispose(ws, [made[3]], False, "保存期满")
    ws.close()
    return made


def test_migrate_copies_everything_and_the_shared_workspace_verifies(target, tmp_path,
                                                                     monkeypatch):
    catalog, files, endpoint = target
    made = _embedded(tmp_path / "embedded", monkeypatch)
    result = CliRunner().invoke(cli, ["-w", str(tmp_path / "embedded"), "--as", "wangwen",
                                      "migrate", "--catalog", catalog, "--files", files,
                                      "--s3-endpoint", endpoint, "--json"])
    assert result.exit_code == 0, result.output
    source = Workspace.open(tmp_path / "embedded", "wangwen")
    head, numbers = source.catalog.chain_head(), source.catalog.record_numbers()
    tombstones, users = source.catalog.tombstones(), source.catalog.users()
    facts = {key: source.catalog.meta_value(key) for key in migrate.WORKSPACE_FACTS}
    source.close()
    create_workspace(tmp_path / "shared", {"catalog": catalog, "files": files,
                                           "s3_endpoint": endpoint})
    ws = Workspace.open(tmp_path / "shared", "wangwen")
    try:
        assert ws.catalog.chain_head() == head and ws.catalog.record_numbers() == numbers
        assert ws.catalog.tombstones() == tombstones and made[3] not in numbers
        # the users with their roles and password hashes, and the facts (a demo stays one)
        assert ws.catalog.users() == users and ws.demo
        assert {key: ws.catalog.meta_value(key) for key in migrate.WORKSPACE_FACTS} == facts
        assert ws.catalog.record(made[2])["on_hold"] == 1
        report = verify.verify(ws)
        assert report["ok"], report["faults"]
        key = ws.catalog.record_files(ws.catalog.record(made[1])["id"])[0]["path"]
        assert ws.files.lock_of(key)["mode"] == "COMPLIANCE"  # closed: locked to its date
        assert ws.files.lock_of(
            ws.catalog.record_files(ws.catalog.record(made[2])["id"])[0]["path"])["legal_hold"]
        ws.sync_index()
        assert made[0] in [h["number"] for h in search.search(ws, "铝合金外壳")["hits"]]
        monkeypatch.setenv("QREC_TODAY", "2026-11-23")  # the month of the copied records
        nxt = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                                 pdf=False)["number"]
        assert int(nxt.rsplit("-", 1)[1]) == 5  # the counter continues, gapless
        with pytest.raises(Conflict, match="not empty"):
            migrate.migrate(Workspace.open(tmp_path / "embedded", "wangwen"), catalog, files,
                            endpoint)
    finally:
        ws.close()


def test_migrate_refuses_a_store_that_is_not_empty(target, tmp_path, s3_server):
    catalog, files, endpoint = target
    s3_server.client().put_object(Bucket=files[5:].split("/")[0], Key="acme/x", Body=b"x")
    ws = init_workspace(tmp_path / "embedded")
    try:
        with pytest.raises(Conflict, match=r"files s3://.*: not empty"):
            migrate.migrate(ws, catalog, files, endpoint)
    finally:
        ws.close()


def _interrupted(ws, files: str, endpoint: str, count: int) -> list[str]:
    """What a migrate killed after its first `count` objects leaves: those objects in the
    store (under the store's legal hold), an empty catalog. Returns their keys."""
    store = open_file_store(files, ws.root / "debris", (), endpoint, None)
    keys = sorted(row["path"] for row in ws.catalog.rows("files"))[:count]
    for key in keys:
        store.put(key, ws.files.read(key))
    return keys


def test_a_rerun_after_an_interrupted_migrate_takes_over_the_objects_it_wrote(
        target, tmp_path, monkeypatch):
    catalog, files, endpoint = target
    _embedded(tmp_path / "embedded", monkeypatch)
    ws = Workspace.open(tmp_path / "embedded", "wangwen")
    try:
        left = _interrupted(ws, files, endpoint, 2)
        done = migrate.migrate(ws, catalog, files, endpoint)
        head = ws.catalog.chain_head()
    finally:
        ws.close()
    assert done["chain_head"] == head
    create_workspace(tmp_path / "shared", {"catalog": catalog, "files": files,
                                           "s3_endpoint": endpoint})
    shared = Workspace.open(tmp_path / "shared", "wangwen")
    try:
        report = verify.verify(shared)
        assert report["ok"], report["faults"]
        assert all(key in set(shared.files.keys()) for key in left)
    finally:
        shared.close()


def test_a_rerun_refuses_an_object_that_is_not_what_it_would_write(target, tmp_path,
                                                                   monkeypatch, s3_server):
    catalog, files, endpoint = target
    _embedded(tmp_path / "embedded", monkeypatch)
    ws = Workspace.open(tmp_path / "embedded", "wangwen")
    try:
        key = _interrupted(ws, files, endpoint, 1)[0]
        bucket, prefix = files[5:].split("/", 1)
        s3_server.client().put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=b"other")
        with pytest.raises(Conflict, match=rf"{key} is there with another SHA-256"):
            migrate.migrate(ws, catalog, files, endpoint)
        assert ws.catalog.record_numbers() and open_catalog(catalog).record_numbers() == []
    finally:
        ws.close()
