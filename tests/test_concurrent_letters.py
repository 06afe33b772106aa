"""Two `qrec remind` at the same moment (issue 14, line 8): letters are written and logged
under one lock, the second reuses what the first made, and `qrec verify` passes after; and
two disposals finishing at once dispose of each record once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import example

QREC = str(Path(sys.executable).parent / "qrec")


def start(root: Path, today: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(root), QREC_TODAY=today, QREC_USER="wangwen")
    return subprocess.Popen([QREC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def run_together(root: Path, today: str, *args: str, times: int = 2) -> list[tuple]:
    processes = [start(root, today, *args) for _ in range(times)]
    return [(p.wait(timeout=600), *p.communicate()) for p in processes]


def new_complaints(root: Path, count: int) -> None:
    for _ in range(count):
        done = subprocess.run([QREC, "-w", str(root), "--as", "lina", "new", "complaint",
                               "--data", str(example("complaint")), "--set",
                               "received_date=2026-11-16"], capture_output=True, text=True,
                              env={**os.environ, "QREC_TODAY": "2026-11-16",
                                   "QREC_SOFFICE": "/nonexistent/soffice"})
        assert done.returncode == 0, done.stderr


def verified(root: Path, today: str) -> None:
    (code, out, err), = run_together(root, today, "verify", times=1)
    assert code == 0, out + err


def events(root: Path, action: str) -> list[dict]:
    import sqlite3

    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    rows = db.execute("SELECT record_number, detail FROM events WHERE action = ?",
                      (action,)).fetchall()
    db.close()
    return [{"number": n, **json.loads(d)} for n, d in rows]


def test_two_reminds_at_once_make_each_reminder_once(tmp_path):
    from qrecords.workspace import create_workspace

    root = create_workspace(tmp_path / "ws", demo=True)
    new_complaints(root, 3)
    results = run_together(root, "2026-12-02", "remind", "--json")
    assert all(code == 0 for code, _, _ in results), results
    made = [r for _, out, _ in results for r in json.loads(out) if r["made"]]
    assert len(made) == 3  # each case's reminder made by one of them
    assert sorted(e["number"] for e in events(root, "reminder.made")) == sorted(
        r["number"] for r in made)
    pdfs = [e for e in events(root, "file.pdf_made") if "reminder" in e]
    assert len(pdfs) == len({e["reminder"] for e in pdfs})  # one PDF each, if any
    verified(root, "2026-12-02")


def test_two_disposals_at_once_dispose_of_each_record_once(tmp_path):
    from qrecords.workspace import create_workspace

    root = create_workspace(tmp_path / "ws", demo=True)
    new_complaints(root, 2)
    for number in ("CC-2611-01", "CC-2611-02"):
        done = subprocess.run([QREC, "-w", str(root), "--as", "zhaomin", "do", number,
                               "close_unfounded", "--set", "disposition=unfounded",
                               "--comment", "非质量问题"], capture_output=True, text=True,
                              env={**os.environ, "QREC_TODAY": "2026-11-20",
                                   "QREC_SOFFICE": "/nonexistent/soffice"})
        assert done.returncode == 0, done.stderr
    results = run_together(root, "2029-12-01", "dispose", "--due", "--reason", "保存期满")
    assert all(code == 0 for code, _, _ in results), results
    assert sorted(e["number"] for e in events(root, "record.disposed")) == [
        "CC-2611-01", "CC-2611-02"]
    verified(root, "2029-12-01")
