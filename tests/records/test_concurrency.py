"""Parallel `new` in separate processes: distinct consecutive numbers, every record complete
and indexed once."""

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import EXAMPLES, ROOT

WORKER = textwrap.dedent("""
    import sys, yaml
    from qrecords.workspace import Workspace
    ws = Workspace(__import__("pathlib").Path(sys.argv[1]))
    data = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
    for _ in range(int(sys.argv[3])):
        print(ws.new_record("complaint", data, user="lina")["number"], flush=True)
    ws.close()
""")


def test_eight_processes_creating_25_complaints_each(ws, tmp_path):
    processes, per_process = 8, 25
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    workers = [subprocess.Popen([sys.executable, str(script), str(ws.root),
                                 str(EXAMPLES / "complaint.yaml"), str(per_process)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT) for _ in range(processes)]
    numbers = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        numbers += out.split()
    total = processes * per_process
    assert all(n.startswith("CC-2611-") for n in numbers)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, total + 1))

    db = sqlite3.connect(ws.root / "records" / "catalog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == total
    assert db.execute("SELECT COUNT(*) FROM versions WHERE version = 1").fetchone()[0] == total
    files = db.execute("SELECT path, sha256 FROM files WHERE kind = 'docx'").fetchall()
    assert len(files) == total
    for path, digest in files:
        assert hashlib.sha256((ws.root / "records" / path).read_bytes()).hexdigest() == digest
    leftovers = [p for p in Path(ws.root, "records").rglob(".*.tmp")]
    assert leftovers == []

    # Every process updated the one index as it went: nothing lost, nothing doubled.
    report = ws.check_index()
    assert report == {"pending": 0, "documents": total, "differences": []}
    assert ws.search("*", limit=1000, user="lina")["total"] == total
