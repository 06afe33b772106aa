"""Identity benchmarks: what a password check costs (Argon2id, api/passwords.py), and what
proving who acts adds to a cold `qrec show` (issue 15: no slower than before beyond noise)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from common import EXAMPLE_COMPLAINT, QREC, WORK, Row, median_wall, step

PASSWORD = "bench-password-2026"
CHECKS = 9


def bench_password() -> Row:
    """One password check (a login or a signature) with our Argon2id parameters, against
    argon2-cffi's own defaults (RFC 9106's second recommended profile)."""
    from argon2 import PasswordHasher

    from qrecords.api.passwords import (MEMORY_COST_KIB, PARALLELISM, TIME_COST,
                                        check_password, hash_password)

    step(f"Argon2id: {CHECKS} checks with ours and with argon2-cffi's defaults")
    stored = hash_password(PASSWORD)
    ours = _median(lambda: check_password(stored, PASSWORD))
    default = PasswordHasher()
    theirs = default.hash(PASSWORD)
    base = _median(lambda: default.verify(theirs, PASSWORD))
    what = (f"Argon2id check (t={TIME_COST}, m={MEMORY_COST_KIB // 1024} MiB, p={PARALLELISM}; "
            f"argon2-cffi default t={default.time_cost}, m={default.memory_cost // 1024} MiB, "
            f"p={default.parallelism} base)")
    return Row(what, ours, base, "s", ours / base, "50–250 ms", 0.05 <= ours <= 0.25)


def _median(check) -> float:
    times = []
    for _ in range(CHECKS):
        start = time.perf_counter()
        assert check()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_session_show() -> Row:
    """A cold `qrec show` as a user proved by a login session, in a normal workspace, against
    the same command in a demonstration workspace, where nothing is proved (as before
    identity)."""
    step("qrec show: with a login session (normal workspace) and without (demo workspace)")
    env = {k: v for k, v in os.environ.items() if k != "QREC_TODAY"}
    env["XDG_CONFIG_HOME"] = str(WORK / "identity-config")
    figures = {}
    for kind in ("normal", "demo"):
        root = WORK / f"identity-{kind}"
        flags = ["--demo"] if kind == "demo" else []
        run = {**env, "QREC_WORKSPACE": str(root)}
        if kind == "demo":
            run["QREC_TODAY"] = os.environ["QREC_TODAY"]
        _qrec(run, "init", *flags, str(root))
        if kind == "normal":  # the controller (this OS account) sets lina's password
            _qrec(run, "users", "passwd", "lina", "--reason", "bench", stdin=PASSWORD)
            _qrec(run, "login", "lina", stdin=PASSWORD)
        number = _qrec(run, "--as", "lina", "new", "complaint", "--data",
                       str(EXAMPLE_COMPLAINT), "--json").split('"number": "')[1].split('"')[0]
        figures[kind] = median_wall([str(QREC), "--as", "lina", "show", number], runs=15,
                                    warmups=2, env=run)
    ours, base = figures["normal"], figures["demo"]
    return Row("cold `qrec show` with a login session (no proof, demo workspace base)", ours,
               base, "s", ours / base, "≤ 1.10×", ours / base <= 1.10)


def _qrec(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(QREC), *args], env=env, capture_output=True, text=True,
                          input=(stdin + "\n") if stdin else None, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"qrec {' '.join(args)} exited {done.returncode}: "
                           f"{done.stderr.strip()}")
    return done.stdout
