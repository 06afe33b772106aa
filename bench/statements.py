"""Catalog statements per `qrec new`: what a networked catalog would pay in round trips.

Counted with SQLite's own trace callback (every statement the catalog runs, BEGIN and COMMIT
included), around one `qrec new complaint` (PDF included) in a workspace that already holds a
record. The baseline is the same count on the code before the core was restructured (commit
BEFORE, checked out from this repository's history into bench/work), in the same run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from common import PYTHON, REPO, TODAY, WORK, Row, step

BEFORE = "2ccda17"  # the last commit with the single Workspace class

COUNT = textwrap.dedent("""
    import os, sqlite3, sys
    # The code under test comes from QREC_SOURCE, never from the editable install (whose
    # import hook would win over sys.path and measure today's code twice).
    sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in type(f).__name__]
    sys.path.insert(0, os.environ["QREC_SOURCE"])
    count = [0]
    connect = sqlite3.connect

    def counted(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(lambda statement: count.__setitem__(0, count[0] + 1))
        return db

    sqlite3.connect = counted
    from qrecords.cli import main
    sys.argv = ["qrec", *sys.argv[1:]]
    try:
        main()
    except SystemExit as done:
        assert not done.code, done.code
    print(count[0], file=sys.stderr)
""")


def _count(source: Path, workspace: Path, init: tuple[str, ...]) -> int:
    """Statements of the second `qrec new` in a fresh workspace made by `qrec init *init`,
    running the code at `source`."""
    shutil.rmtree(workspace, ignore_errors=True)  # run by run.py, which wipes WORK, or alone
    env = {**os.environ, "QREC_SOURCE": str(source), "QREC_TODAY": TODAY}
    example = REPO / "examples" / "complaint.yaml"
    subprocess.run([PYTHON, "-c", COUNT, "init", *init, str(workspace)], env=env, check=True,
                   capture_output=True)
    counts = []
    for _ in range(2):
        done = subprocess.run([PYTHON, "-c", COUNT, "-w", str(workspace), "--as", "lina",
                               "new", "complaint", "--data", str(example)],
                              env=env, check=True, capture_output=True, text=True)
        counts.append(int(done.stderr.strip().splitlines()[-1]))
    return counts[-1]


def bench_statements() -> Row:
    before = WORK / "before"
    if not (before / "qrecords").is_dir():
        step(f"checking out {BEFORE} into {before}")
        before.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE, "qrecords"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    step("counting catalog statements per `qrec new`")
    # A demonstration workspace: QREC_TODAY dates the records (the code before knew no demo).
    ours = _count(REPO, WORK / "statements-ours", ("--demo",))
    base = _count(before, WORK / "statements-before", ())
    return Row(f"catalog statements per `qrec new` (vs {BEFORE})", ours, base, "stmts",
               ours / base, "fewer", ours < base)


if __name__ == "__main__":
    print(bench_statements(), file=sys.stderr)
