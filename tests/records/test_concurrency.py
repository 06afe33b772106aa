"""Parallel `new` in separate processes: distinct consecutive numbers, every record complete
and indexed once."""

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

from qrecords.api import search as api_search
from tests.conftest import EXAMPLES, ROOT, as_user

WORKER = textwrap.dedent("""
    import sys, yaml
    from qrecords.api import records
    from qrecords.workspace import Workspace
    ws = Workspace.open(__import__("pathlib").Path(sys.argv[1]), "lina")
    data = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
    for _ in range(int(sys.argv[3])):
        print(records.new_record(ws, "complaint", data)["number"], flush=True)
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

    assert len(ws.catalog.rows("records")) == total
    assert sum(row["version"] == 1 for row in ws.catalog.rows("versions")) == total
    files = [row for row in ws.catalog.rows("files") if row["kind"] == "docx"]
    assert len(files) == total
    for row in files:
        assert hashlib.sha256(ws.files.read(row["path"])).hexdigest() == row["sha256"]
    leftovers = [p for p in Path(ws.root, "records").rglob(".*.tmp")]
    assert leftovers == []

    # Every process updated the one index as it went: nothing lost, nothing doubled.
    report = api_search.check_index(ws)
    assert report == {"built": True, "pending": 0, "documents": total, "differences": [],
                      "damaged": []}
    assert api_search.search(as_user(ws, "lina"), "*", limit=1000)["total"] == total
