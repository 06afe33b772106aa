"""The shared archive (PostgreSQL + S3) beside the embedded one (SQLite + folder), in one run.

- records per second with 8 concurrent writers (8 streams of `qrec new complaint`, each its
  own process per record, PDFs left to `qrec render`, as on a machine without LibreOffice):
  PostgreSQL + SeaweedFS against SQLite + folder. Target: PostgreSQL at least 1.5× SQLite.
  What limits it is said beside it: the CPU per record of the writers' processes and of the
  two servers, and the share of the machine's cores they used together (near 1: the cores,
  not a lock, set the pace); and the same 8 writers as resident processes (a portal's
  workers: each opens its workspace once and makes its records in-process).
- `qrec new` on each backend, one at a time: its wall time (median of LATENCY runs), the
  CPU time of its process, and the catalog statements it sends (each a round trip on a
  networked catalog), counted in-process from opening the workspace to closing it.
- catching up 1,000 events made elsewhere: machine B makes records (in-process, through the
  verbs), then machine A's next `qrec search` brings its own index up to date from the shared
  log. Target: under 5 s.

The servers are the tests' throw-away ones (tests/servers.py), started and stopped here.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from common import QREC, REPO, TODAY, WORK, Row, cpu_seconds, step

WRITERS, PER_WRITER = 8, 4
RESIDENT_PER_WRITER = 10  # records each resident writer makes
CATCH_UP = 1000
LATENCY = 5  # `qrec new` runs, one at a time, per backend


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_TODAY=TODAY, QREC_SOFFICE="/nonexistent/soffice", **extra)
    return env


def _writers(root, env, servers=None) -> tuple[float, float, float, float]:
    """(records per second, CPU s per record of the `qrec` processes, CPU s per record of
    the `servers` (_server_cpu; 0 without), the share of the machine's cores all of them
    used) of WRITERS streams of PER_WRITER `qrec new` each."""
    example = str(REPO / "examples" / "complaint.yaml")

    def stream(_):
        for _ in range(PER_WRITER):
            subprocess.run([str(QREC), "-w", str(root), "--as", "lina", "new", "complaint",
                            "--data", example], env=env, check=True, capture_output=True)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = _server_cpu(servers)
    start = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(stream, range(WRITERS)))
    took = time.perf_counter() - start
    served = _server_cpu(servers) - served
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    made = WRITERS * PER_WRITER
    return made / took, cpu / made, served / made, (cpu + served) / (took * _cores())


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _server_cpu(servers) -> float:
    """CPU seconds the PostgreSQL cluster and SeaweedFS have used so far (0 for None): each
    process's own and that of its children it has reaped (a PostgreSQL backend ends with its
    connection, and the postmaster reaps it)."""
    if servers is None:
        return 0.0
    from tests.servers import child_pids

    pg, s3 = servers
    postmaster = int((pg.folder / "data" / "postmaster.pid").read_text().split()[0])
    pids = {postmaster, s3.process.pid} | child_pids(postmaster) | child_pids(s3.process.pid)
    return cpu_seconds(pids, reaped=True)


def _resident_writer(root, start, done) -> None:
    """One resident writer: opens the workspace, waits for the start, makes its records, and
    puts the CPU seconds they took in `done` (None if it failed)."""
    from qrecords.api import records
    from qrecords.workspace import Workspace
    from tests.conftest import load_example

    ws = Workspace.open(root, "lina")
    data = load_example("complaint")
    start.wait()
    began, cpu = time.process_time(), None
    try:
        for _ in range(RESIDENT_PER_WRITER):
            records.new_record(ws, "complaint", data, pdf=False)
        cpu = time.process_time() - began
    finally:
        ws.close()
        done.put(cpu)


def _resident_writers(root, servers=None) -> tuple[float, float]:
    """(records per second, share of the machine's cores used by the writers and the
    `servers`) of WRITERS resident processes (forked from this one, each its own workspace
    and catalog connection), RESIDENT_PER_WRITER records each, started together."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    start, done = context.Event(), context.Queue()
    writers = [context.Process(target=_resident_writer, args=(root, start, done))
               for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    time.sleep(2)  # every writer has opened its workspace
    served = _server_cpu(servers)
    began = time.perf_counter()
    start.set()
    spent = [done.get(timeout=600) for _ in writers]
    took = time.perf_counter() - began
    served = _server_cpu(servers) - served
    for writer in writers:
        writer.join(60)
    if None in spent:
        raise RuntimeError("a resident writer failed (its traceback is above)")
    return WRITERS * RESIDENT_PER_WRITER / took, (sum(spent) + served) / (took * _cores())


def _run(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall s, CPU s of the process and its children) of one command, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _new_once(root, env) -> tuple[float, float]:
    """(wall s, CPU s of the process) of one `qrec new complaint`."""
    return _run([str(QREC), "-w", str(root), "--as", "lina", "new", "complaint", "--data",
                 str(REPO / "examples" / "complaint.yaml")], env)


def _round_trips(root) -> int:
    """Catalog statements of one new record, from opening the workspace to closing it."""
    from qrecords.api import records
    from qrecords.workspace import Workspace
    from tests.conftest import load_example

    ws = Workspace.open(root, "lina")
    try:
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    finally:
        ws.close()
    return ws.catalog.statements


def _latency_rows(embedded, shared, env) -> list[Row]:
    """`qrec new` wall, process CPU and catalog round trips: PostgreSQL + S3 vs SQLite."""
    figures = {}
    for name, root, run_env in (("sqlite", embedded, _env({})), ("pg", shared, env)):
        runs = [_new_once(root, run_env) for _ in range(LATENCY)]
        figures[name] = (statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs), _round_trips(root))
    pg, sq = figures["pg"], figures["sqlite"]
    what = "PostgreSQL + S3 (vs SQLite + folder)"
    return [Row(f"`qrec new` latency, one writer, median of {LATENCY}: {what}", pg[0], sq[0],
                "s", pg[0] / sq[0]),
            Row(f"`qrec new` CPU time of its process, median of {LATENCY}: {what}", pg[1],
                sq[1], "s", pg[1] / sq[1]),
            Row(f"catalog round trips (statements) per new record, open to close: {what}",
                pg[2], sq[2], "stmt", pg[2] / sq[2])]


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
        sqlite_rate, sqlite_cpu, _, sqlite_busy = _writers(embedded, _env({}))
        step(f"{WRITERS} writers × {PER_WRITER} `qrec new` on PostgreSQL + S3")
        backends = {"catalog": new_database(pg, "bench_writers"), "files":
                    f"s3://{s3.make_bucket('qrec-bench-writers')}/acme",
                    "s3_endpoint": s3.endpoint, "machines": "several"}
        shared = create_workspace(WORK / "shared-pg", backends, demo=True)
        pg_rate, pg_cpu, served, pg_busy = _writers(shared, env, (pg, s3))
        step(f"{WRITERS} resident writers × {RESIDENT_PER_WRITER} records on each backend")
        (sqlite_resident, sqlite_resident_busy), (pg_resident, pg_resident_busy) = \
            _resident_writers(embedded), _resident_writers(shared, (pg, s3))
        what = "PostgreSQL + S3 (vs SQLite + folder)"
        rows = [Row(f"records/s, {WRITERS} concurrent writers: {what}", pg_rate, sqlite_rate,
                    "rec/s", sqlite_rate / pg_rate, "≥ 1.5× SQLite",
                    pg_rate >= 1.5 * sqlite_rate),
                Row(f"CPU time per record of the {WRITERS} writers' `qrec` processes: {what}",
                    pg_cpu, sqlite_cpu, "s", pg_cpu / sqlite_cpu),
                Row(f"CPU time per record of the PostgreSQL and SeaweedFS servers, {WRITERS} "
                    "writers (vs the writers' own)", served, pg_cpu, "s", served / pg_cpu),
                Row(f"share of the {_cores()} cores used by the {WRITERS} writers and the "
                    f"servers: {what}", pg_busy, sqlite_busy, "", pg_busy / sqlite_busy),
                Row(f"records/s, {WRITERS} resident writers (a process each, open throughout, "
                    f"{RESIDENT_PER_WRITER} records each): {what}", pg_resident,
                    sqlite_resident, "rec/s", sqlite_resident / pg_resident),
                Row(f"share of the {_cores()} cores used by the {WRITERS} resident writers and "
                    f"the servers: {what}", pg_resident_busy, sqlite_resident_busy, "",
                    pg_resident_busy / sqlite_resident_busy)]
        step("`qrec new` one at a time on each backend")
        rows += _latency_rows(embedded, shared, env)
        rows += _catch_up(pg, s3, env, new_database)
        return rows
    finally:
        s3.stop()
        pg.stop()


def _catch_up(pg, s3, env, new_database) -> list[Row]:
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
    search = [str(QREC), "-w", str(machine_a), "--as", "lina", "search", "华东"]
    caught, caught_cpu = _run(search, env)
    current, current_cpu = _run(search, env)
    what = f"`qrec search` catching up {made} events made on another machine (vs with nothing " \
        "to catch up)"
    return [Row(what, caught, current, "s", caught / current, "< 5 s", caught < 5),
            Row(f"{what}: CPU time of its process", caught_cpu, current_cpu, "s",
                caught_cpu / current_cpu)]


if __name__ == "__main__":
    for row in bench_shared():
        print(row, file=sys.stderr)
