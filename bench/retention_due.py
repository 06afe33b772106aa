"""Retention benchmark: `qrec retention due` over the 100,000-record catalog of the search
benchmark, after three and a half years of closures, against the naive way (load every
record's current version and work its end date out in Python) in the same run."""

from __future__ import annotations

import datetime as dt
import os
import random

from common import PYTHON, QREC, WORK, Row, median_wall, step
from search import N_INDEX, bulk_catalog

from qrecords.domain import retention
from common import open_workspace

DUE_ON = "2026-11-23"  # QREC_TODAY of the run: closures before 2023-11-23 are due

NAIVE = """
import datetime as dt, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
due = []
for number, data, closed in db.execute(
        "SELECT r.number, v.data, r.closed_on FROM records r JOIN versions v "
        "ON v.record_id = r.id AND v.version = r.current_version"):
    json.loads(data)
    if closed:
        start = dt.date.fromisoformat(closed)
        until = start.replace(year=start.year + 3) if (start.month, start.day) != (2, 29) \\
            else dt.date(start.year + 3, 3, 1)
        if until.isoformat() <= sys.argv[2]:
            due.append((until.isoformat(), number))
due.sort()
print(len(due))
"""


def bench_retention() -> list[Row]:
    root = WORK / "search"
    if not root.exists():
        bulk_catalog(root, N_INDEX)
    step(f"retention: closing {N_INDEX:,} records over 2023-01 to 2026-11")
    due = _close_everything(root)
    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": "wangwen",
           "QREC_TODAY": DUE_ON}
    ours = median_wall([str(QREC), "retention", "due"], runs=3, warmups=1, env=env)
    naive = median_wall([str(PYTHON), "-c", NAIVE, str(root / "records" / "catalog.sqlite"),
                         DUE_ON], runs=3, env=env)
    n = f"{N_INDEX // 1000}k"
    return [Row(f"`qrec retention due` wall, {n} records, {due:,} due (naive base)", ours,
                naive, "s", ours / naive, "< 1 s", ours < 1.0)]


def _close_everything(root) -> int:
    """Every record closed on a day between 2023-01-01 and 2026-11-23, with the title and
    retention dates `qrec` stores; returns how many are due on DUE_ON."""
    ws = open_workspace(root)
    rng = random.Random(7)
    first, days = dt.date(2023, 1, 1), (dt.date(2026, 11, 23) - dt.date(2023, 1, 1)).days
    due = 0
    with ws.catalog.write():
        for form_id in ws.forms.ids():
            form = ws.forms.current(form_id)
            states = [s.id for s in form.workflow.states] + ["draft"]  # bulk_catalog's
            for row in ws.catalog.current_versions(form_id, states):
                closed = (first + dt.timedelta(days=rng.randrange(days))).isoformat()
                start, until = retention.until(form.retention, closed, closed, row["data"])
                due += until <= DUE_ON
                ws.catalog.set_retention(ws.catalog.record(row["number"])["id"],
                                       form.title_of(row["data"]), closed, start, until)
    ws.close()
    return due
