"""The shared archive (PostgreSQL + S3) beside the embedded one (SQLite + folder), in one run.

- records per second with 8 concurrent writers (8 streams of `qrec new complaint`, each its
  own process per record, PDFs left to `qrec render`, as on a machine without LibreOffice):
  PostgreSQL + SeaweedFS against SQLite + folder. Target: PostgreSQL at least 1.5× SQLite.
- catching up 1,000 events made elsewhere: machine B makes records (in-process, through the
  verbs), then machine A's next `qrec search` brings its own index up to date from the shared
  log. Target: under 5 s.

The servers are the tests' throw-away ones (tests/servers.py), started and stopped here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from common import QREC, REPO, TODAY, WORK, Row, step

WRITERS, PER_WRITER = 8, 4
CATCH_UP = 1000


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_TODAY=TODAY, QREC_SOFFICE="/nonexistent/soffice", **extra)
    return env


def _writers(root, env) -> float:
    """Records per second of WRITERS streams of PER_WRITER `qrec new` each."""
    example = str(REPO / "examples" / "complaint.yaml")

    def stream(_):
        for _ in range(PER_WRITER):
            subprocess.run([str(QREC), "-w", str(root), "--as", "lina", "new", "complaint",
                            "--data", example], env=env, check=True, capture_output=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(stream, range(WRITERS)))
    return WRITERS * PER_WRITER / (time.perf_counter() - start)


def _servers():
    sys.path.insert(0, str(REPO))
    from tests.servers import start_postgres, start_seaweedfs
    from tests.shared.pg import new_database

    pg, s3 = start_postgres(), start_seaweedfs()
    env = _env({"AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                           "AWS_DEFAULT_REGION")})
    return pg, s3, env, new_database


def bench_shared() -> list[Row]:
    from qrecords.workspace import create_workspace

    pg, s3, env, new_database = _servers()
    try:
        step(f"{WRITERS} writers × {PER_WRITER} `qrec new` on SQLite + folder")
        embedded = create_workspace(WORK / "shared-sqlite", demo=True)
        sqlite_rate = _writers(embedded, _env({}))
        step(f"{WRITERS} writers × {PER_WRITER} `qrec new` on PostgreSQL + S3")
        backends = {"catalog": new_database(pg, "bench_writers"), "files":
                    f"s3://{s3.make_bucket('qrec-bench-writers')}/acme",
                    "s3_endpoint": s3.endpoint, "machines": "several"}
        shared = create_workspace(WORK / "shared-pg", backends, demo=True)
        pg_rate = _writers(shared, env)
        rows = [Row(f"records/s, {WRITERS} concurrent writers: PostgreSQL + S3 (vs SQLite + "
                    "folder)", pg_rate, sqlite_rate, "rec/s", sqlite_rate / pg_rate,
                    "≥ 1.5× SQLite", pg_rate >= 1.5 * sqlite_rate)]
        rows.append(_catch_up(pg, s3, env, new_database))
        return rows
    finally:
        s3.stop()
        pg.stop()


def _catch_up(pg, s3, env, new_database) -> Row:
    from qrecords.api import records
    from qrecords.workspace import Workspace, create_workspace
    from common import open_workspace  # noqa: F401  (the path set-up)

    sys.path.insert(0, str(REPO))
    from tests.conftest import load_example

    backends = {"catalog": new_database(pg, "bench_catch_up"), "files":
                f"s3://{s3.make_bucket('qrec-bench-catch-up')}/acme",
                "s3_endpoint": s3.endpoint, "machines": "several"}
    machine_a = create_workspace(WORK / "catch-up-a", backends, demo=True)
    machine_b = create_workspace(WORK / "catch-up-b", backends, demo=True)
    subprocess.run([str(QREC), "-w", str(machine_a), "--as", "lina", "search", "华东"],
                   env=env, check=True, capture_output=True)  # A's index is current
    step(f"machine B makes {CATCH_UP} events")
    ws = Workspace.open(machine_b, "lina")
    before = ws.catalog.latest_change_id()
    while ws.catalog.latest_change_id() - before < CATCH_UP:
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    made = ws.catalog.latest_change_id() - before
    ws.close()
    step(f"machine A catches up {made} events in its next `qrec search`")
    start = time.perf_counter()
    subprocess.run([str(QREC), "-w", str(machine_a), "--as", "lina", "search", "华东"],
                   env=env, check=True, capture_output=True)
    caught = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([str(QREC), "-w", str(machine_a), "--as", "lina", "search", "华东"],
                   env=env, check=True, capture_output=True)
    current = time.perf_counter() - start
    return Row(f"`qrec search` catching up {made} events made on another machine (vs "
               "with nothing to catch up)", caught, current, "s", caught / current, "< 5 s",
               caught < 5)


if __name__ == "__main__":
    for row in bench_shared():
        print(row, file=sys.stderr)
