"""Kills (SIGKILL at a fault point, qrecords/faults.py) on PostgreSQL + S3: the next ordinary
command, or `verify --repair` where debris is left, leaves a shared archive that verifies,
numbers gapless. The bucket here has no Object Lock: the effective date is moved to 2029 for
the disposal, which the store's real clock would not allow (the lock has its own tests)."""

from __future__ import annotations

import itertools
import json

import pytest

from qrecords.catalog import open_catalog
from qrecords.workspace import create_workspace
from tests.shared.pg import new_database
from tests.test_crash import AMEND, CLOSED, DISPOSE, DUE, NEW, a_closed_complaint, \
    a_complaint, qrec
from qrecords.workspace import Workspace

_NAMES = itertools.count(1)

SCENARIOS = [  # (id, prepare, command, user, today, point, next command, repair)
    ("docx-new", a_complaint, NEW, "lina", None, "version.after_docx", NEW, False),
    ("docx-amend", a_complaint, AMEND, "lina", None, "version.after_docx", AMEND, False),
    ("new-committed", a_complaint, NEW, "lina", None, "new.after_commit", ("search", "*"),
     False),
    ("dispose-committed", a_closed_complaint, DISPOSE, "wangwen", DUE, "dispose.after_commit",
     ("dispose", "--due", "--reason", "保存期满"), False),
]


@pytest.fixture
def shared_root(pg_server, s3_server, monkeypatch, tmp_path):
    n = next(_NAMES)
    for name, value in (("AWS_ACCESS_KEY_ID", s3_server.access_key),
                        ("AWS_SECRET_ACCESS_KEY", s3_server.secret_key),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    return create_workspace(tmp_path / "ws", {
        "catalog": new_database(pg_server, f"crash_{n}"),
        "files": f"s3://{s3_server.make_bucket(f'qrec-crash-{n}', object_lock=False)}/acme",
        "s3_endpoint": s3_server.endpoint, "machines": "several"}, demo=True)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s[0])
def test_a_kill_on_the_shared_archive_leaves_it_verifying(shared_root, scenario):
    name, prepare, command, user, today, point, then, repair = scenario
    ws = Workspace.open(shared_root, "wangwen")
    prepare(ws)
    ws.close()
    today = today or "2026-11-23"
    killed = qrec(shared_root, *command, user=user, today=today, fault=point)
    assert killed.returncode == -9, killed.stderr
    done = qrec(shared_root, *then, user=user, today=today)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    if repair:  # debris the catalog says is left
        repaired = qrec(shared_root, "verify", "--repair", "--json", user="wangwen",
                        today=today)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    verified = qrec(shared_root, "verify", "--json", user="wangwen", today=today)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"]
    settings_catalog = [line.split(": ", 1)[1] for line in
                        (shared_root / "qrecords.yaml").read_text().splitlines()
                        if line.startswith("catalog: ")][0]
    catalog = open_catalog(settings_catalog)
    try:
        numbers = catalog.record_numbers() + [t["number"] for t in catalog.tombstones()]
        assert len(numbers) == len(set(numbers))
        serials: dict[str, list[int]] = {}
        for number in numbers:
            prefix, serial = number.rsplit("-", 1)
            serials.setdefault(prefix, []).append(int(serial))
        for prefix, found in serials.items():
            assert sorted(found) == list(range(1, len(found) + 1)), (prefix, found)
        assert max(catalog.counters().values()) == max(len(f) for f in serials.values())
    finally:
        catalog.close()
    assert CLOSED  # the closed complaint's date, imported with its scenario
