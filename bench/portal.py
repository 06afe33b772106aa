"""The portal under load: the search page answered for 20 simulated users at once, on
loopback, against the workspace of bench_search (N_INDEX records), beside a cold `qrec search`
in the same run (issue 17: p95 under 300 ms).

The server is `qrec serve` as a site would run it (gunicorn: a worker process per CPU, its
default THREADS threads each), started and stopped here. Each simulated user is a browser
tab: it logs in (a demonstration workspace: no password), reads the search page's CSRF token,
and then posts searches as htmx does: the results partial, with the session cookie the server
last sent, over a connection kept alive as a browser keeps it (the server closes it after
each answer, web/server.py says why, and the tab opens another). No user waits between
searches (no think time): 20 requests are always under way, far more than 20 people typing.

- The queries are bench_search's (place names, customers, products with their model,
  defects, English words, part codes with and without dashes, record numbers, a number
  prefix), each user taking ROUNDS of them in turn from its own place in the list.
- The loop is bounded (ROUNDS searches a user) and stops by itself.
- Each user's first search is a warm-up and is not counted: the first searches of a fresh
  server open the index and load code in every worker. The slowest of them is reported in
  its own row, so a slow start is seen, not hidden. The counted searches start together
  when every user has warmed up; requests/s is over them alone.
- Latency is measured in the client, from sending the request to reading the whole answer.
  The client's own CPU time and the server's are printed (stderr) with the machine's load,
  as the two cores are shared with the server and with whatever else runs.
"""

from __future__ import annotations

import http.client
import http.cookies
import os
import random
import re
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import peers
from common import QREC, WORK, Row, cpu_seconds, median_wall, open_workspace, step
from search import N_INDEX, SEED, bulk_catalog

from qrecords.api.search import rebuild_index
from qrecords.cli.serve import THREADS  # qrec serve's default
from tests import corpus
from tests.servers import child_pids, free_port

USERS = 20
ROUNDS = 15  # counted searches per simulated user, after one warm-up search each
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def bench_portal() -> list[Row]:
    root = WORK / "search"
    if not root.exists():  # run alone: the workspace and index bench_search would leave
        bulk_catalog(root, N_INDEX)
        ws = open_workspace(root, "zhangwei")
        rebuild_index(ws)
        ws.close()
    queries = _queries(root)
    port = free_port()
    env = {**os.environ, "QREC_WORKSPACE": str(root)}
    log = WORK / "portal-serve.log"  # a file, not a pipe: a full pipe would stall the server
    with open(log, "wb") as out:
        server = subprocess.Popen([str(QREC), "serve", "--port", str(port)], env=env,
                                  stdout=out, stderr=out, start_new_session=True)
    try:
        _wait(port, server, log)
        workers = child_pids(server.pid)  # none: one process serves (waitress, before)
        step(f"portal: {USERS} users x {ROUNDS} searches on loopback, {len(workers) or 1} "
             f"processes x {THREADS} threads, load average {os.getloadavg()[0]:.1f}")
        load = _load(port, queries, workers | {server.pid})
    finally:
        server.terminate()
        server.wait(30)
    step(f"portal: client CPU {load.client_cpu * 1000:.1f} ms, server CPU "
         f"{load.server_cpu * 1000:.1f} ms per counted request; load average "
         f"{os.getloadavg()[0]:.1f}")
    step(f"portal: slowest queries (mean): {_slowest(load.asked)}")
    cli_env = {**env, "QREC_USER": "zhangwei"}
    cli = median_wall([str(QREC), "search", peers.COLD_QUERY], runs=3, warmups=1, env=cli_env)
    latencies = load.latencies
    p50, p95 = peers.percentile(latencies, 50), peers.percentile(latencies, 95)
    rate = len(latencies) / load.took
    what = f"portal search, {USERS} users at once, {N_INDEX // 1000}k records"
    base = "(cold `qrec search` base)"
    return [Row(f"{what}: p50 {base}", p50, cli, "s", p50 / cli),
            Row(f"{what}: p95 {base}", p95, cli, "s", p95 / cli, "< 300 ms", p95 < 0.3),
            Row(f"{what}: requests/s ({len(workers) or 1} processes x {THREADS} threads)", rate,
                1 / cli, "req/s", (1 / cli) / rate),
            Row(f"{what}: slowest first search of a fresh server (not counted above) {base}",
                max(load.cold), cli, "s", max(load.cold) / cli)]


def _slowest(asked: list[tuple[str, float]], count: int = 4) -> str:
    by_query: dict[str, list[float]] = {}
    for text, seconds in asked:
        by_query.setdefault(text, []).append(seconds)
    means = sorted(((sum(v) / len(v), text) for text, v in by_query.items()), reverse=True)
    return ", ".join(f"{text} {seconds * 1000:.0f} ms" for seconds, text in means[:count])


def _queries(root: Path) -> list[str]:
    """bench_search's queries: corpus.queries over its sample of record numbers."""
    ws = open_workspace(root, "zhangwei")
    try:
        numbers = ws.catalog.record_numbers()  # in the order bulk_catalog made them
    finally:
        ws.close()
    pools = corpus.wide_pools(random.Random(SEED))
    return [text for text, _ in corpus.queries(numbers[:50:7], pools)]


class _Load:
    def __init__(self):
        self.latencies: list[float] = []  # seconds of each counted search
        self.asked: list[tuple[str, float]] = []  # (query, seconds) of each counted search
        self.cold: list[float] = []  # seconds of each user's first search
        self.took = 0.0  # seconds from the start of the counted searches to the last answer
        self.client_cpu = self.server_cpu = 0.0  # seconds per counted search


def _load(port: int, queries: list[str], server_pids: set[int]) -> _Load:
    load, failures = _Load(), []
    lock = threading.Lock()
    ready = threading.Barrier(USERS + 1)
    done = threading.Barrier(USERS + 1)

    def user(index: int) -> None:
        tab = None
        try:
            tab = _Tab(port)
            tab.log_in("zhangwei")
            own = [queries[(index * ROUNDS + i) % len(queries)] for i in range(ROUNDS + 1)]
            cold = tab.search(own[0])
            with lock:
                load.cold.append(cold)
        except Exception as exc:  # reported after the run: a bench that hides errors lies
            with lock:
                failures.append(f"user {index}: {exc!r}")
        finally:
            ready.wait()
        try:
            if tab is not None and not failures:
                tab.reconnect()  # the server may have closed it while others warmed up
                times = [tab.search(text) for text in own[1:]]
                with lock:
                    load.latencies += times
                    load.asked += zip(own[1:], times)
        except Exception as exc:
            with lock:
                failures.append(f"user {index}: {exc!r}")
        finally:
            done.wait()
            if tab is not None:
                tab.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(USERS)]
    for thread in threads:
        thread.start()
    ready.wait()
    cpu, server, start = time.process_time(), cpu_seconds(server_pids), time.perf_counter()
    done.wait()
    load.took = time.perf_counter() - start
    counted = max(1, len(load.latencies))
    load.client_cpu = (time.process_time() - cpu) / counted
    load.server_cpu = (cpu_seconds(server_pids) - server) / counted
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} simulated users failed: {failures[0]}")
    return load


class _Tab:
    """One browser tab of the portal: a kept-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookie = ""
        self.token = ""

    def log_in(self, user: str) -> None:
        self.token = TOKEN.search(self._request("GET", "/login")[1]).group(1)
        status, _ = self._request("POST", "/login", {"user": user, "password": ""})
        if status != 302:
            raise RuntimeError(f"login answered {status}")
        self.token = TOKEN.search(self._request("GET", "/")[1]).group(1)

    def search(self, text: str) -> float:
        """Seconds until the whole results partial is read. Raises unless it is a 200."""
        start = time.perf_counter()
        status, page = self._request("POST", "/search", {"q": text}, {"HX-Request": "true"})
        took = time.perf_counter() - start
        if status != 200 or 'id="total"' not in page and "没有结果" not in page:
            raise RuntimeError(f"search {text!r} answered {status}: {page[:200]}")
        return took

    def reconnect(self) -> None:
        self.connection.close()  # reopened by the next request

    def close(self) -> None:
        self.connection.close()

    def _request(self, method: str, path: str, form: dict | None = None,
                 headers: dict | None = None) -> tuple[int, str]:
        sent = dict(headers or {})
        if self.cookie:
            sent["Cookie"] = self.cookie
        body = None
        if form is not None:
            body = urllib.parse.urlencode({**form, "csrf_token": self.token})
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body, sent)
                response = self.connection.getresponse()
                page = response.read().decode()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server closed the kept-alive connection: a browser opens another
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie(header)
            if "qrec_session" in jar:
                self.cookie = f"qrec_session={jar['qrec_session'].value}"
        return response.status, page


def _wait(port: int, server: subprocess.Popen, log: Path) -> None:
    """Until the login page is answered, and a second more for the other workers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"qrec serve exited: {log.read_text(errors='replace')[-500:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            answered = connection.getresponse().status == 200
            connection.close()
            if answered:
                time.sleep(1)
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("qrec serve did not answer within 60 s")
