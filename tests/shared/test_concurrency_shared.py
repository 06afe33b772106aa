"""8 `qrec` processes at once as 4 machines on one shared archive (PostgreSQL + SeaweedFS):
each machine its own workspace folder, search index and temporary folder; creating, amending
one shared record and their own, taking steps, signing and searching. Numbers stay unique and
gapless, the hash chain intact, every machine's `index check` clean, `verify` clean.

The streams are those of tests/test_concurrency.py (no PDFs in the fast run), pointed at the
machine whose folder they use.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from qrecords.api import records
from qrecords.workspace import Workspace, create_workspace
from tests import test_concurrency as single
from tests.conftest import TODAY, as_user, load_example
from tests.shared.pg import new_database

MACHINES, PER_MACHINE, ROUNDS = 4, 2, 2


def test_eight_processes_as_four_machines(pg_server, s3_server, tmp_path, monkeypatch):
    catalog = new_database(pg_server, "concurrency")
    bucket = s3_server.make_bucket("qrec-concurrency")
    for name, value in (("AWS_ACCESS_KEY_ID", s3_server.access_key),
                        ("AWS_SECRET_ACCESS_KEY", s3_server.secret_key),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    backends = {"catalog": catalog, "files": f"s3://{bucket}/acme",
                "s3_endpoint": s3_server.endpoint, "machines": "several"}
    roots = []
    for machine in range(MACHINES):
        root = create_workspace(tmp_path / f"machine-{machine}", backends, demo=True)
        (root / "tmp").mkdir()
        with open(root / "qrecords.yaml", "a", encoding="utf-8") as yaml:
            yaml.write(f"temp: {root / 'tmp'}\n")
        roots.append(root)
    first = Workspace.open(roots[0], "lina")
    records.new_record(as_user(first, "lina"), "complaint", load_example("complaint"),
                       pdf=False)  # the shared record every stream amends
    first.close()
    monkeypatch.setattr(single, "ROUNDS", ROUNDS)

    def run(i: int):
        return single.Stream(roots[i % MACHINES], i).run()

    with ThreadPoolExecutor(MACHINES * PER_MACHINE) as pool:
        streams = list(pool.map(run, range(MACHINES * PER_MACHINE)))

    complaints = [single.SHARED] + [n for s in streams for n in s.complaints]
    reviews = [n for s in streams for n in s.reviews]
    assert len(set(complaints + reviews)) == len(complaints + reviews)
    single.gapless(complaints, "CC-2611-")
    single.gapless(reviews, "CR-2026-")
    assert len(complaints) + len(reviews) == 1 + MACHINES * PER_MACHINE * ROUNDS
    for machine, root in enumerate(roots):
        stream = single.Stream(root, machine)
        stream.qrec("zhangwei", "search", "*", "--limit", "1")  # every command catches up
        checked = stream.qrec("wangwen", "index", "check")
        assert checked["differences"] == checked["damaged"] == [] and not checked["pending"], (machine, checked)
        assert not any((root / "tmp").iterdir())  # temporary copies cleaned up
    ws = Workspace.open(roots[1], "wangwen")
    try:
        history = records.history(ws, single.SHARED)
        assert [step["version"] for step in history] == list(range(1, len(history) + 1))
        assert len(history) == 1 + MACHINES * PER_MACHINE * ROUNDS
    finally:
        ws.close()
    verified = single.Stream(roots[3], 0).qrec("wangwen", "verify")
    assert verified["ok"], verified["faults"]
    assert verified["counts"]["records"] == len(complaints) + len(reviews)
    assert os.environ["QREC_TODAY"] == TODAY
