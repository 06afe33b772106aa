"""The monthly complaint statistics 客户投诉案件统计表: a month of known complaints walked
through the workflow on the dates they happened, the figures checked one by one, the PDF
(made by LibreOffice) and the DOCX read back, the report kept and logged as a controlled
document, and careless input refused."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import as_json, as_user, load_example
from tests.render.docx_text import docx_rows, docx_text
from qrecords.api import records, steps


class Story:
    """Complaints made and moved on the days given (QREC_TODAY), through the Python API
    without the records' own PDFs (the report is what is under test here)."""

    def __init__(self, ws, monkeypatch):
        self.ws, self.monkeypatch = ws, monkeypatch

    def on(self, day: str) -> "Story":
        self.monkeypatch.setenv("QREC_TODAY", day)
        return self

    def new(self, **fields) -> str:
        data = {**load_example("complaint"), **fields}
        return records.new_record(as_user(self.ws, "lina"), "complaint", data, pdf=False)["number"]

    def step(self, user: str, number: str, action: str, comment=None, **fields) -> None:
        steps.transition(as_user(self.ws, user), number, action, fields, comment, pdf=False)

    def decide(self, number: str, department: str, disposition: str, amount: str,
               decider: str) -> None:
        self.step("zhaomin", number, "investigate")
        self.step("zhaomin", number, "assign", cause_analysis=f"{department} 的原因",
                  responsible_department=department)
        self.step("lina", number, "propose", countermeasure="纠正措施", disposition=disposition,
                  disposition_amount=amount)
        self.step(decider, number, "decide")


@pytest.fixture
def november(ws, monkeypatch):
    """November 2026, as the quality department lived it. Received in November: A, B, C, E;
    closed in November: A (on time), B and D (late); open at the end of November: C, E, G
    (G overdue since October). F belongs to December."""
    story = Story(ws, monkeypatch)
    g = story.on("2026-10-10").new(received_date="2026-10-10")              # due 10-23
    d = story.on("2026-10-25").new(received_date="2026-10-25")              # due 11-07
    story.on("2026-10-26").decide(d, "supplier", "compensation", "12000", "xulei")
    a = story.on("2026-11-03").new(received_date="2026-11-02")              # due 11-15
    story.on("2026-11-04").decide(a, "production", "credit", "3000", "huangjun")
    b = story.on("2026-11-05").new(received_date="2026-11-05", category="non_quality")
    story.on("2026-11-06").decide(b, "logistics", "replacement", "0", "huangjun")
    story.on("2026-11-10").step("zhaomin", a, "close", customer_accepted=True)   # 8 days
    story.on("2026-11-12").step("zhaomin", d, "close", customer_accepted=True)   # 18, late
    c = story.on("2026-11-20").new(received_date="2026-11-20", market="foreign")  # due 12-07
    story.on("2026-11-25").step("zhaomin", b, "close", customer_accepted=True)   # 20, late
    e = story.on("2026-11-28").new(received_date="2026-11-28", category=None)
    f = story.on("2026-12-01").new(received_date="2026-12-01")
    story.on("2026-12-02").step("zhaomin", c, "close_unfounded", "非产品质量问题",
                                disposition="unfounded")
    story.on("2026-12-05")  # the report is due by the 10th
    return dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g)


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def test_the_figures_of_a_month_with_known_complaints(run, november, tmp_path):
    n = november
    report = as_json(run("report", "complaints", "--month", "2026-11", "--out",
                         tmp_path / "统计.pdf", "--json", user="zhaomin"))
    assert report["number"] == "RPT-CC-2611-01"
    assert (report["month"], report["from"], report["to"], report["as_of"]) == (
        "2026-11", "2026-11-01", "2026-11-30", "2026-12-05")
    assert report["received"] == 4
    assert report["closed"] == 3
    assert (report["closed_on_time"], report["closed_late"]) == (1, 2)
    assert report["on_time_percent"] == 33.3
    assert report["average_days_to_close"] == 15.3  # (8 + 18 + 20) / 3
    assert report["amount"] == "15000.00"           # 3000 + 12000 + 0
    assert (report["open_at_month_end"], report["overdue_at_month_end"]) == (3, 1)
    assert [(r["id"], r["count"]) for r in report["by_category"]] == [
        ("quality", 2), ("non_quality", 1), (None, 1)]
    causes = {r["id"]: (r["count"], r["by_category"]) for r in report["by_department"]}
    assert causes["production"] == (1, [1, 0, 0])
    assert causes["logistics"] == (1, [0, 1, 0])
    assert causes[None] == (2, [1, 0, 1])   # C closed unfounded, E not investigated yet
    assert causes["supplier"] == (0, [0, 0, 0])  # D was received in October
    assert sum(count for count, _ in causes.values()) == 4
    dispositions = {r["id"]: (r["count"], r["amount"]) for r in report["by_disposition"]}
    assert dispositions == {"credit": (1, "3000.00"), "compensation": (1, "12000.00"),
                            "return": (0, "0.00"), "rework": (0, "0.00"),
                            "replacement": (1, "0.00"), "unfounded": (0, "0.00")}
    cases = {c["number"]: c for c in report["cases"]}
    assert sorted(cases) == sorted([n["a"], n["b"], n["c"], n["d"], n["e"]])
    assert (cases[n["a"]]["days_taken"], cases[n["a"]]["late"]) == (8, False)
    assert (cases[n["b"]]["days_taken"], cases[n["b"]]["late"]) == (20, True)
    assert (cases[n["d"]]["received_in_month"], cases[n["d"]]["closed_in_month"]) == (
        False, True)
    assert cases[n["d"]]["due_date"] == "2026-11-07"
    # closed in December: in the month's cases as received, not as closed
    assert (cases[n["c"]]["closed_in_month"], cases[n["c"]]["late"]) == (False, None)
    assert cases[n["e"]]["category_label"] == "未分类 Not classified"


def test_the_report_is_a_controlled_document_kept_logged_and_copied(run, ws, november,
                                                                    tmp_path):
    out = tmp_path / "客户投诉统计 2026-11.pdf"
    report = as_json(run("report", "complaints", "--month", "2026-11", "--out", out,
                         "--json", user="zhaomin"))
    kept = ws.root / "records" / "reports" / "RPT-CC-2611-01.pdf"
    assert report["files"] == {"docx": str(kept.with_suffix(".docx")), "pdf": str(kept)}
    assert out.read_bytes() == kept.read_bytes()
    text = pdf_text(out)
    for expected in ("客户投诉案件统计表", "RPT-CC-2611-01", "2026-11-01 – 2026-11-30",
                     "33.3%", "15.3", "15,000.00", "12,000.00", "赔款 Compensation",
                     november["a"], november["d"], "逾期 Late", "准时 On time", "赵敏",
                     "生产部 Production", "物流 Logistics",  # chart and table
                     "第 1 页 共", "审核 Reviewed by"):
        assert expected in text, expected
    from pypdf import PdfReader

    assert PdfReader(out).metadata["/RecordNumber"] == "RPT-CC-2611-01"
    written = {}
    for event in ws.catalog.events():
        if event["detail"].get("report") == "RPT-CC-2611-01":
            assert event["actor"] == "zhaomin" and event["record_number"] is None
            written.update(event["detail"]["written"])
    assert [e["action"] for e in ws.catalog.events() if e["detail"].get("report")] == [
        "report.made", "file.pdf_made"]
    assert written == {f"reports/RPT-CC-2611-01.{kind}": hashlib.sha256(
        kept.with_suffix(f".{kind}").read_bytes()).hexdigest() for kind in ("docx", "pdf")}


def test_a_second_report_of_the_month_gets_the_next_number_and_the_first_stays(
        run, ws, november, tmp_path, monkeypatch):
    first = as_json(run("report", "complaints", "--month", "2026-11", "--out",
                        tmp_path / "a.pdf", "--json"))
    kept = {kind: open(path, "rb").read() for kind, path in first["files"].items()}
    monkeypatch.setenv("QREC_TODAY", "2026-12-08")
    records.new_record(as_user(ws, "lina"), "complaint",
                       {**load_example("complaint"), "received_date": "2026-11-30"},
                       pdf=False)  # entered late
    second = as_json(run("report", "complaints", "--month", "2026-11", "--out",
                         tmp_path / "b.docx", "--json"))
    assert (second["number"], second["received"], second["as_of"]) == (
        "RPT-CC-2611-02", 5, "2026-12-08")
    assert {kind: open(path, "rb").read() for kind, path in first["files"].items()} == kept
    assert (tmp_path / "b.docx").read_bytes() == \
        (ws.root / "records" / "reports" / "RPT-CC-2611-02.docx").read_bytes()
    october = as_json(run("report", "complaints", "--month", "2026-10", "--out",
                          tmp_path / "c.docx", "--json"))
    assert october["number"] == "RPT-CC-2610-01"  # numbered by the month reported on


def test_the_docx_holds_the_tables_and_a_chart_of_the_causes(run, november, tmp_path):
    out = tmp_path / "report.docx"
    as_json(run("report", "complaints", "--month", "2026-11", "--out", out, "--json"))
    rows = docx_rows(out)
    assert ["4", "3", "1", "2", "33.3%", "15.3", "15,000.00", "3", "1", "0"] in rows
    assert ["生产部 Production", "1", "0", "0", "1"] in rows
    assert ["未定 Not assigned", "1", "0", "1", "2"] in rows
    assert ["合计 Total", "2", "1", "1", "4"] in rows
    assert ["折让 Credit", "1", "3,000.00"] in rows
    assert ["合计 Total", "3", "15,000.00"] in rows
    footer = docx_text(out)
    assert "RPT-CC-2611-01" in footer and "Page" in footer
    from docx import Document

    charts = [part for part in Document(out).part.package.iter_parts()
              if str(part.partname).startswith("/word/charts/")]
    assert len(charts) == 1
    chart = charts[0].blob.decode()
    for label in ("生产部 Production", "物流 Logistics", "未定 Not assigned", "质量 Quality"):
        assert label in chart
    assert "供应商 Supplier" not in chart  # only the departments that caused complaints


def test_a_month_without_complaints(run, november, tmp_path):
    out = tmp_path / "sep.docx"
    report = as_json(run("report", "complaints", "--month", "2026-09", "--out", out,
                         "--json"))
    assert (report["received"], report["closed"], report["amount"]) == (0, 0, "0.00")
    assert report["on_time_percent"] is None and report["average_days_to_close"] is None
    assert report["cases"] == [] and report["open_at_month_end"] == 0
    text = docx_text(out)
    assert "本月无受理投诉" in text and "—" in text


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "--month: '2026-13' is not a month (YYYY-MM"),
    (["--month", "2026-1"], "--month: '2026-1' is not a month"),
    (["--month", "november"], "--month: 'november' is not a month"),
    (["--month", "2027-01"], "--month: 2027-01 has not begun (today is 2026-11-23)"),
    (["--month", "2026-11", "--out", "{d}/r.xlsx"], "r.xlsx: the file name must end in .pdf "
                                                    "or .docx"),
    (["--month", "2026-11", "--out", "{d}/missing/r.pdf"], "missing does not exist"),
])
def test_careless_input_is_refused_in_one_line_uses_no_number_and_leaves_no_file(
        run, ws, tmp_path, args, message):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = [a.replace("{d}", str(out_dir)) for a in args]
    if "--out" not in args:
        args += ["--out", str(out_dir / "r.pdf")]
    result = run("report", "complaints", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr, result.stderr
    assert list(out_dir.iterdir()) == []
    assert not (ws.root / "records" / "reports").exists()


def test_without_libreoffice_a_pdf_is_refused_first_and_a_docx_gets_its_pdf_later(
        run, ws, tmp_path, no_libreoffice, monkeypatch):
    refused = run("report", "complaints", "--month", "2026-11", "--out", tmp_path / "r.pdf")
    assert refused.exit_code == 1 and "LibreOffice (soffice) not found" in refused.stderr
    assert "or ask for FILE.docx" in refused.stderr
    assert not (ws.root / "records" / "reports").exists()
    made = run("report", "complaints", "--month", "2026-11", "--out", tmp_path / "r.docx",
               "--json")
    assert "no PDF made" in made.stderr and "the next qrec report complaints" in made.stderr
    report = as_json(made)
    assert report["number"] == "RPT-CC-2611-01" and report["files"]["pdf"] is None
    monkeypatch.delenv("QREC_SOFFICE")  # LibreOffice is back
    as_json(run("report", "complaints", "--month", "2026-11", "--out", tmp_path / "r.pdf",
                "--json"))
    assert "RPT-CC-2611-01" in pdf_text(ws.root / "records" / "reports" / "RPT-CC-2611-01.pdf")


def test_out_may_not_replace_a_kept_report_or_write_into_records(run, ws, november, tmp_path):
    first = as_json(run("report", "complaints", "--month", "2026-11", "--out",
                        tmp_path / "a.docx", "--json"))
    kept = ws.root / "records" / "reports" / "RPT-CC-2611-01.docx"
    before = kept.read_bytes()
    counters = ws.catalog.events()
    for target in (kept, kept.with_name("RPT-CC-2611-02.docx"), ws.root / "records" / "r.docx"):
        result = run("report", "complaints", "--month", "2026-11", "--out", target)
        assert result.exit_code == 1, result.output
        assert result.stderr == f"Error: --out: {target}: may not be written inside records/, " \
                                "which holds only what the catalog knows\n"
    assert kept.read_bytes() == before and first["number"] == "RPT-CC-2611-01"
    assert ws.catalog.events() == counters  # no number used, nothing logged
    assert sorted(p.name for p in kept.parent.iterdir()) == ["RPT-CC-2611-01.docx",
                                                             "RPT-CC-2611-01.pdf"]
    assert run("verify").exit_code == 0


def test_a_void_complaint_counts_as_neither_received_nor_closed(run, ws, november, tmp_path):
    """Issued by mistake, then voided: the month's figures are what they were without it,
    and the report names it apart (issue 18: it counted as received and closed on time)."""
    from qrecords.api import reports, void

    before = reports.complaint_statistics(ws, "2026-11")
    mistake = records.new_record(as_user(ws, "lina"), "complaint",
                                 {**load_example("complaint"), "received_date": "2026-11-06"},
                                 pdf=False)["number"]
    after_mistake = reports.complaint_statistics(ws, "2026-11")
    assert after_mistake["received"] == before["received"] + 1  # the test can fail
    void.void(as_user(ws, "wangwen"), [mistake], "重复登记", pdf=False)
    after = reports.complaint_statistics(ws, "2026-11")
    assert after["voided"] == [{"number": mistake, "received_date": "2026-11-06",
                                "status_label": "作废 Void", "closed_on": "2026-12-05"}]
    assert {k: v for k, v in after.items() if k != "voided"} == \
        {k: v for k, v in before.items() if k != "voided"}
    report = as_json(run("report", "complaints", "--month", "2026-11", "--out",
                         tmp_path / "统计.docx", "--json", user="zhaomin"))
    assert report["received"] == 4 and report["closed_on_time"] == 1
    text = docx_text(report["files"]["docx"])
    assert "作废（不计） Voided (not counted)" in text and f"{mistake} (作废 voided " \
        "2026-12-05)" in text
