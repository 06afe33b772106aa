"""The portal on a shared archive (PostgreSQL catalog, S3 object storage): the same pages and
rules, a normal workspace's login against the catalog's users, and a download that is the
object as stored, byte for byte."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from qrecords.api import records, users
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import load_example
from tests.shared.pg import new_database
from tests.web.portal import PASSWORD, client, log_in, post

_NAMES = itertools.count(1)


@pytest.fixture
def shared_root(pg_server, s3_server, monkeypatch, tmp_path):
    monkeypatch.delenv("QREC_TODAY", raising=False)  # a normal workspace
    n = next(_NAMES)
    for name, value in (("AWS_ACCESS_KEY_ID", s3_server.access_key),
                        ("AWS_SECRET_ACCESS_KEY", s3_server.secret_key),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    root = create_workspace(tmp_path / "ws", {
        "catalog": new_database(pg_server, f"portal_{n}"),
        "files": f"s3://{s3_server.make_bucket(f'qrec-portal-{n}')}/acme",
        "s3_endpoint": s3_server.endpoint})
    controller = Workspace.open(root, "wangwen")
    users.set_password(controller, "lina", PASSWORD, "portal test")
    controller.close()
    return root


def test_the_portal_serves_a_shared_archive(shared_root):
    ws = Workspace.open(shared_root, "lina")
    number = records.new_record(ws, "complaint", load_example("complaint"))["number"]
    stored = ws.catalog.files(ws.record_row(number)["id"], 1)
    ws.close()
    c = log_in(client(shared_root), "lina")
    hits = post(c, "/search", {"q": "华东"}, headers={"HX-Request": "true"})
    assert number in hits.text
    for kind in ("pdf", "docx"):
        got = c.get(f"/records/{number}/v1.{kind}")
        assert got.status_code == 200
        assert hashlib.sha256(got.data).hexdigest() == stored[kind]["sha256"]


def test_a_catalog_server_that_is_down_is_503_in_both_languages(shared_root):
    """The portal answered 500 with psycopg's fragment, a stray tab in it: the server being
    down is no fault of the portal's, and the same page works once it is back."""
    c = log_in(client(shared_root), "lina")
    config = shared_root / "qrecords.yaml"
    text = config.read_text(encoding="utf-8")
    catalog = next(line.split(": ", 1)[1] for line in text.splitlines()
                   if line.startswith("catalog: "))
    down = catalog.replace(catalog.split("@", 1)[1].split("/", 1)[0], "127.0.0.1:1")
    config.write_text(text.replace(catalog, down), encoding="utf-8")
    page = c.get("/")
    assert page.status_code == 503, page.text
    assert "无法连接目录库 cannot connect" in page.text and "\t" not in page.text
    config.write_text(text, encoding="utf-8")  # back up
    assert c.get("/").status_code == 200
