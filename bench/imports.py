"""`qrec import` of a 1,000-row complaint ledger (DOCX only), against `qrec new` in a loop:
records per second, each a fresh workspace. Target: 1,000 rows in under a minute."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from common import QREC, REPO, WORK, Row, step, wall

N_ROWS = 1000
N_NEW = 20  # `qrec new` processes: enough for a steady per-record figure

sys.path.insert(0, str(REPO / "tests" / "imports"))


def write_ledger(path: Path, count: int) -> Path:
    """A ledger of `count` complaints over 2023, half closed, as write_xlsx lays them out."""
    from ledgers import write_xlsx

    rows = []
    for i in range(count):
        received = dt.datetime(2023, 1, 1) + dt.timedelta(days=i % 360)
        closed = i % 2 == 0
        rows.append([i + 1, f"TS-{i + 1:05d}", received, "国内" if i % 3 else "国外",
                     f"客户 {i % 97} 有限公司", "控制板组件", f"第 {i} 批 包装破损，连接器变形",
                     "折让" if closed else None, 100 + i if closed else None,
                     "已结案" if closed else "调查中",
                     received + dt.timedelta(days=9) if closed else None])
    return write_xlsx(path, rows)


def bench_import() -> Row:
    env = {**os.environ, "QREC_SOFFICE": "/nonexistent/soffice"}  # DOCX only, both sides
    for name in ("import", "loop"):  # demonstrations: the bench's date (QREC_TODAY) holds
        wall([str(QREC), "init", "--demo", str(WORK / name)], env=env)
    ledger = write_ledger(WORK / "ledger.xlsx", N_ROWS)
    step(f"qrec import of {N_ROWS} rows")
    took = wall([str(QREC), "-w", str(WORK / "import"), "--as", "wangwen", "import",
                 "complaint", str(ledger)], env=env)
    ours = N_ROWS / took
    step(f"qrec new × {N_NEW}")
    example = REPO / "examples" / "complaint.yaml"
    looped = sum(wall([str(QREC), "-w", str(WORK / "loop"), "--as", "lina", "new",
                       "complaint", "--data", str(example)], env=env) for _ in range(N_NEW))
    base = N_NEW / looped
    return Row(f"`qrec import` {N_ROWS} rows ({took:.0f} s; base `qrec new` loop)", ours,
               base, "rec/s", base / ours, "< 60 s", took < 60)
