"""What every benchmark shares: the Row of the results table, figures, and timing helpers."""

from __future__ import annotations

import math
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / "work"  # gitignored; wiped and recreated every run
PYTHON = REPO / ".venv" / "bin" / "python"
QREC = REPO / ".venv" / "bin" / "qrec"
EXAMPLE_COMPLAINT = REPO / "examples" / "complaint.yaml"
TODAY = "2026-11-23"
USER = "lina"
TIMEOUT = 900  # seconds any one subprocess may run: the bench stops by itself

# The effective date of every record, here and in the subprocesses (they inherit it).
os.environ["QREC_TODAY"] = TODAY
sys.path.insert(0, str(REPO))  # run from a checkout even if the package is not installed


def step(text: str) -> None:
    """Progress of a long run, on stderr (the table goes to stdout)."""
    print(f"  … {text}", file=sys.stderr, flush=True)


@dataclass
class Row:
    what: str
    ours: float
    baseline: float
    unit: str            # "s" (lower is better) or "rec/s" (higher is better)
    ratio: float         # ours / baseline, as a cost: > 1 means we are slower
    target: str = "—"    # as printed
    met: bool | None = None  # None when there is no target

    @property
    def status(self) -> str:
        return "" if self.met is None else ("ok" if self.met else "MISS")


def sig3(value: float) -> str:
    """Three significant digits, keeping trailing zeros (29.0, 0.150), no exponent."""
    if value == 0:
        return "0"
    digits = 2 - math.floor(math.log10(abs(value)))  # decimals for 3 significant digits
    return f"{round(value, digits):.{max(0, digits)}f}"


def fmt(value: float, unit: str) -> str:
    """A figure with a readable unit: seconds scaled to ms or µs when small."""
    if unit == "s":
        for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if value >= scale or scale == 1e-6:
                return f"{sig3(value / scale)} {name}"
    return f"{sig3(value)} {unit}"


def wall(argv: list[str], env: dict | None = None, ok=(0,), timeout: float = TIMEOUT) -> float:
    """Wall time of one subprocess run; raises if its exit status is not in `ok`, or, after
    killing it and its children, if it runs longer than `timeout` seconds. Output goes to a
    pipe, as to a user: GNU grep stops at the first match when it writes to /dev/null."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group, to stop it whole
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"{' '.join(map(str, argv))} still ran after {timeout:.0f} s; "
                           "stopped") from None
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:  # what it said, on either stream (verify: on stdout)
        said = "\n".join(text.decode(errors="replace").strip()[-2000:] for text in (err, out))
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}: "
                           f"{said.strip()}")
    return elapsed


def median_wall(argv: list[str], runs: int, warmups: int = 0, env: dict | None = None,
                ok=(0,)) -> float:
    return median_walls([(argv, env)], runs, warmups, ok)[0]


def median_walls(commands: list[tuple[list[str], dict | None]], runs: int, warmups: int = 0,
                 ok=(0,)) -> list[float]:
    """The median wall seconds of each (argv, env) in `commands`, run in turn `runs` times
    after `warmups` rounds: interleaved, so that a load that comes and goes weighs on the
    measures compared alike."""
    for _ in range(warmups):
        for argv, env in commands:
            wall(argv, env, ok)
    times = [[] for _ in commands]
    for _ in range(runs):
        for taken, (argv, env) in zip(times, commands):
            taken.append(wall(argv, env, ok))
    return [statistics.median(taken) for taken in times]


def cpu_seconds(pids, reaped: bool = False) -> float:
    """User and system CPU seconds of these processes so far, from /proc (those gone count
    0); with `reaped`, also that of the children each has waited for (a PostgreSQL backend
    ends with its connection, and the postmaster reaps it)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15 if reaped else 13])
    return total / tick


def init_workspace(path: Path, user: str = "wangwen"):
    """A new workspace at `path`, opened as `user` (the default user: a document controller
    with the privacy role)."""
    from qrecords.workspace import Workspace, create_workspace

    return Workspace.open(create_workspace(path, demo=True), user)


def open_workspace(path: Path, user: str = "wangwen"):
    from qrecords.workspace import Workspace

    return Workspace.open(path, user)
