"""What a new record does while other writers wait: its DOCX is rendered before the catalog's
write lock (the chain head's row lock) is taken, and the number the lock hands out is stamped
into it (issue 16, benchmarks: PostgreSQL limited by the cores, not by a lock held while a
DOCX renders)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psycopg
from docx import Document

from qrecords.workspace import Workspace, create_workspace
from tests.conftest import example
from tests.shared.pg import new_database

QREC = Path(sys.executable).with_name("qrec")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _waiting_on_a_lock(url: str, pid: int, seconds: float = 120) -> None:
    """Until the `qrec` process `pid` waits for a row lock in PostgreSQL."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as db:
        while time.monotonic() < deadline:
            if db.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'qrec' AND "
                          "wait_event_type = 'Lock'").fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"qrec (pid {pid}) never waited for the write lock")


def test_a_new_record_is_rendered_before_the_write_lock(pg_server, s3_server, tmp_path,
                                                          monkeypatch):
    url = new_database(pg_server, "write_lock")
    bucket = s3_server.make_bucket("qrec-write-lock")
    for name, value in (("AWS_ACCESS_KEY_ID", s3_server.access_key), ("AWS_DEFAULT_REGION",
                        "us-east-1"), ("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)):
        monkeypatch.setenv(name, value)
    root = create_workspace(tmp_path / "ws", {"catalog": url, "files": f"s3://{bucket}/acme",
                                              "s3_endpoint": s3_server.endpoint,
                                              "machines": "several"}, demo=True)
    env = dict(os.environ, QREC_SOFFICE="/nonexistent/soffice")
    holder = psycopg.connect(url)  # another writer, holding the chain head's row lock
    holder.execute("SELECT id FROM chain_head FOR UPDATE")
    writer = subprocess.Popen([str(QREC), "-w", str(root), "--as", "lina", "new", "complaint",
                               "--data", str(example("complaint")), "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _waiting_on_a_lock(url, writer.pid)
        # Into the next whole second (times are kept to the second), then let it go.
        time.sleep(1.1 - dt.datetime.now(dt.timezone.utc).microsecond / 1e6)
        released = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    finally:
        holder.rollback()
        holder.close()
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    made = json.loads(out)
    # The version's time is when it was rendered: before the lock was had.
    assert _utc(made["created_at"]) < released, (made["created_at"], released)

    ws = Workspace.open(root, "lina")
    try:
        record = ws.record_row(made["number"])
        key = ws.catalog.files(record["id"], 1)["docx"]["path"]
        content = ws.files.read(key)
    finally:
        ws.close()
    with zipfile.ZipFile(io.BytesIO(content)) as parts:
        assert not any(b"QRECNO" in parts.read(name) for name in parts.namelist())
    document = Document(io.BytesIO(content))
    properties = document.core_properties
    assert (properties.identifier, properties.keywords) == (made["number"], made["number"])
    assert made["number"] in properties.title
    assert properties.created.replace(tzinfo=dt.timezone.utc) == _utc(made["created_at"])
    with zipfile.ZipFile(io.BytesIO(content)) as parts:  # printed in the page header
        assert any(made["number"].encode() in parts.read(name)
                   for name in parts.namelist() if name.startswith("word/header"))
