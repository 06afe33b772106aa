"""One `qrec new` as a person makes it (issue 20): a workspace opened for one record, its
DOCX rendered, stored, logged and indexed, the workspace closed — in-process and as a cold
process — against the least any such tool must do: a bare docxtpl render of the same
template with the same values, saved to a file, and one row inserted into an SQLite file
(committed). Target: ≤ 1.3× for both. PDFs are left out of both sides (their cost is
LibreOffice's: the PDF rows measure it).
"""

from __future__ import annotations

import json
import os
import statistics
import time

from common import EXAMPLE_COMPLAINT, PYTHON, QREC, USER, WORK, Row, median_wall, step

N = 40  # records per side in-process
COLD_RUNS = 9

# The baseline, as a script: render, save, insert, commit. Its argv: template, context JSON,
# output DOCX, SQLite file.
BASE_SCRIPT = '''
import json, sqlite3, sys
from docxtpl import DocxTemplate
template, context, out, db = sys.argv[1:5]
values = json.load(open(context, encoding="utf-8"))
tpl = DocxTemplate(template)
tpl.render(values)
tpl.save(out)
con = sqlite3.connect(db)
con.execute("CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY, data TEXT)")
con.execute("INSERT INTO records (data) VALUES (?)", (json.dumps(values, ensure_ascii=False),))
con.commit()
con.close()
'''


def bench_docx_new() -> list[Row]:
    from run import complaint_context, example_data, fresh_workspace  # noqa: PLC0415

    from common import open_workspace
    from qrecords.api import records

    step(f"docx: {N} records, a workspace opened for each (in-process and cold)")
    root = WORK / "new-each"
    ws = fresh_workspace("new-each")
    template = ws.root / "templates" / "complaint.docx"
    context = complaint_context(ws)
    ws.close()
    data = example_data()

    def ours_once():
        ws = open_workspace(root, USER)
        records.new_record(ws, "complaint", data, pdf=False)
        ws.close()

    script = WORK / "base_new.py"
    script.write_text(BASE_SCRIPT, encoding="utf-8")
    context_file = WORK / "context.json"
    context_file.write_text(json.dumps(context, ensure_ascii=False, default=str),
                            encoding="utf-8")
    base_db, base_out = WORK / "base.sqlite", WORK / "base.docx"
    namespace = {}
    compiled = compile(BASE_SCRIPT, str(script), "exec")

    def base_once():
        import sys
        argv, sys.argv = sys.argv, ["base", str(template), str(context_file), str(base_out),
                                    str(base_db)]
        try:
            exec(compiled, dict(namespace))
        finally:
            sys.argv = argv

    for _ in range(3):
        ours_once(), base_once()
    ours, base = [], []
    for _ in range(N):  # interleaved: a load that comes and goes weighs on both alike
        start = time.perf_counter()
        ours_once()
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        base_once()
        base.append(time.perf_counter() - start)
    inproc, inproc_base = statistics.median(ours), statistics.median(base)

    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": USER,
           "QREC_SOFFICE": "/nonexistent/soffice"}  # no PDF: as on the other side
    cold = median_wall([str(QREC), "new", "complaint", "--data", str(EXAMPLE_COMPLAINT)],
                       runs=COLD_RUNS, warmups=1, env=env)
    cold_base = median_wall([str(PYTHON), str(script), str(template), str(context_file),
                             str(base_out), str(base_db)], runs=COLD_RUNS, warmups=1)
    what = "`qrec new`, a workspace per record, no PDF"
    base_name = "(docxtpl render + SQLite insert base)"
    return [Row(f"{what}, in-process {base_name}", inproc, inproc_base, "s",
                inproc / inproc_base, "≤ 1.3×", inproc / inproc_base <= 1.3),
            Row(f"{what}, cold process {base_name}", cold, cold_base, "s", cold / cold_base,
                "≤ 1.3×", cold / cold_base <= 1.3)]
