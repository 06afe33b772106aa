"""A record never closes before it began (issue 18 review): the import refuses a row whose
closing date is before its received date, and `qrec new` of a form whose records are final
when made refuses a date after the day made; through the real `qrec`."""

from __future__ import annotations

import json
from pathlib import Path

from docx import Document

from tests.conftest import TODAY, run_qrec as qrec


VISIT = """\
id: visit
title: {zh: 来访登记, en: Visit}
form_number: QR-7.5-11
revision: A/0
number_pattern: "V-{yyyy}-{seq:03}"
retention: {period: 1y, from: closure, action: destroy}
template: visit.docx
date_field: visited_on
fields:
  - {id: visited_on, type: date, required: true, label: {zh: 来访日期, en: Visit date}}
  - {id: visitor, type: text, required: true, label: {zh: 来访单位, en: Visitor}}
"""


def add_visit(root: Path) -> None:
    (root / "schemas" / "visit.yaml").write_text(VISIT, encoding="utf-8")
    document = Document()
    document.add_paragraph("{{ record.number }} {{ visited_on }} {{ visitor }}")
    document.save(root / "templates" / "visit.docx")


def test_an_imported_row_closed_before_it_was_received_is_refused(ws, tmp_path):
    path = tmp_path / "台账.csv"
    path.write_text("编号,受理日期,市场,客户名称,异常描述,结案日期\n"
                    "Z-4,2021-01-02,国内,a,d,2021-01-05\n"
                    "Z-5,2021-03-01,国内,a,d,2021-01-05\n", encoding="utf-8")
    done = qrec(ws.root, "import", "complaint", str(path))
    assert done.returncode == 1, done.stdout
    assert "row 3, column F (结案日期): 结案日期 2021-01-05 早于受理日期 2021-03-01 — closed on " \
        "2021-01-05, before received_date 2021-03-01" in done.stderr
    assert "row 2" not in done.stderr
    assert ws.catalog.record_numbers() == [] and not list(ws.root.glob("records/*/**/*.docx"))


def test_new_cannot_make_a_record_final_before_its_date(ws):
    add_visit(ws.root)
    future = qrec(ws.root, "new", "visit", "--set", "visited_on=2026-12-30",
                  "--set", "visitor=宁波")
    assert future.returncode == 1, future.stdout
    assert "结案日期 2026-11-23 早于来访日期 2026-12-30 — closed on 2026-11-23, before " \
        "visited_on 2026-12-30" in future.stderr
    assert ws.catalog.record_numbers() == [] and not list(ws.root.glob("records/*/**/*.docx"))
    made = qrec(ws.root, "new", "visit", "--set", "visited_on=2026-11-20", "--set",
                "visitor=宁波", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["closed_on"] == TODAY


def test_a_form_without_date_field_needs_the_ledgers_date_column(ws, tmp_path):
    """Review of issue 18: the visit form without `date_field:` dated old records today
    (number, date, retention). The import now refuses unless a map names the date column."""
    add_visit(ws.root)
    schema = ws.root / "schemas" / "visit.yaml"
    schema.write_text(VISIT.replace("date_field: visited_on\n", "").replace(
        "  - {id: visited_on, type: date, required: true, label: {zh: 来访日期, en: Visit date}}\n",
        ""), encoding="utf-8")
    document = Document()
    document.add_paragraph("{{ record.number }} {{ visitor }}")
    document.save(ws.root / "templates" / "visit.docx")
    path = tmp_path / "来访.csv"
    path.write_text("编号,来访日期,来访单位\nA1,2024-01-02,宁波\nA2,,绍兴\n", encoding="utf-8")
    undated = qrec(ws.root, "import", "visit", str(path))
    assert undated.returncode == 1, undated.stdout
    assert undated.stderr == (
        "Error: 来访.csv: 表单无记录日期 visit has no date_field, so the ledger's date column "
        "must be named, else its old records would be dated today: name it in a map file "
        "(columns: {来访日期: date}, --map MAP.yaml), or give the form `date_field: FIELD` (a "
        "date field) in a new revision of schemas/visit.yaml\n")
    assert ws.catalog.record_numbers() == []
    mapped = tmp_path / "map.yaml"
    mapped.write_text("columns: {编号: null, 来访日期: date, 来访单位: visitor}\n",
                      encoding="utf-8")
    empty = qrec(ws.root, "import", "visit", str(path), "--map", str(mapped))
    assert empty.returncode == 1
    assert "row 3, column B (来访日期): 记录日期必填 the record's date is empty" in empty.stderr
    path.write_text("来访日期,来访单位\n2024-01-02,宁波\n", encoding="utf-8")
    mapped.write_text("columns: {来访日期: date, 来访单位: visitor}\n", encoding="utf-8")
    done = qrec(ws.root, "import", "visit", str(path), "--map", str(mapped), "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["records"]
    assert (row["number"], row["created_on"], row["retention_until"]) == \
        ("V-2024-001", "2024-01-02", "2025-01-02")
