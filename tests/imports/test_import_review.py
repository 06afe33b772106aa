"""`qrec import` as a new document controller found it (second review of issue 18): each
finding through the real `qrec` in a subprocess, with real XLSX files made with openpyxl."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import QREC, TODAY, run_qrec as qrec

HEAD = "投诉单号,受理日期,市场,客户名称,异常描述\n"


def csv_file(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_original_number_in_lower_case_is_kept_as_the_records_number(ws, tmp_path):
    """`cc-2401-03 ` fits the pattern once trimmed and in capitals: it was given a new
    number (CC-2401-10) with the typed one as its legacy number."""
    ledger = csv_file(tmp_path / "a.csv", HEAD + "cc-2401-03 ,2024-01-08,国内,甲,破损\n")
    done = qrec(ws.root, "import", "complaint", ledger, "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["records"]
    assert (row["number"], row["kept_number"], row["original_number"]) == \
        ("CC-2401-03", True, "cc-2401-03")


def test_an_original_number_kept_as_legacy_number_is_imported_once(ws, tmp_path):
    first = csv_file(tmp_path / "a.csv", HEAD + "KS-2025-007,2025-03-18,国外,Nordic,镀层起泡\n")
    done = qrec(ws.root, "import", "complaint", first, "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["records"]
    assert (row["number"], row["kept_number"]) == ("CC-2503-01", False)
    again = qrec(ws.root, "import", "complaint", first, "--again")  # the same file: below
    assert again.returncode == 1, again.stdout
    assert "row 2, column A (投诉单号): 原编号已导入 KS-2025-007 was imported already (from " \
        "a.csv row 2, as CC-2503-01)" in again.stderr
    # trimmed and in another case it is the same number, in the catalog and within a file
    other = csv_file(tmp_path / "b.csv", HEAD + " ks-2025-007 ,2025-03-18,国外,N,d\n")
    assert "ks-2025-007 was imported already" in qrec(ws.root, "import", "complaint",
                                                     other).stderr
    twice = csv_file(tmp_path / "c.csv", HEAD + "XX-1,2025-03-18,国外,A,d\n"
                     "xx-1 ,2025-03-19,国外,B,d\n")
    refused = qrec(ws.root, "import", "complaint", twice)
    assert refused.returncode == 1
    assert "row 3, column A (投诉单号): 原编号重复 number xx-1 appears again (first in row 2)" \
        in refused.stderr
    assert ws.catalog.record_numbers() == ["CC-2503-01"]


def test_a_formula_without_a_saved_result_is_refused(ws, tmp_path):
    from tests.imports.ledgers import complaint_rows, write_xlsx

    rows = complaint_rows()
    rows[0][8] = "=400*2"  # openpyxl saves the formula and no result: Excel never opened it
    rows[1][8] = "=SUM(1,2)"
    rows[2][4] = '=CONCAT("苏州","恒通")'  # a required field: the formula is the one problem
    path = write_xlsx(tmp_path / "公式.xlsx", rows)
    done = qrec(ws.root, "import", "complaint", str(path))
    assert done.returncode == 1, done.stdout
    assert "row 4, column I (金额): 公式无计算结果 a formula without a saved result (=400*2); " \
        "open and save the file in Excel/WPS first (先用 Excel/WPS 打开并保存)" in done.stderr
    assert "row 5, column I (金额): 公式无计算结果" in done.stderr
    assert "row 6, column E (客户名称): 公式无计算结果" in done.stderr
    assert "3 problem(s)" in done.stderr  # not also "customer is required"
    assert ws.catalog.record_numbers() == []


def test_a_form_with_a_required_table_is_imported_row_by_row(ws, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["顾客财产台账"])
    sheet.append(["原编号", "客户名称", "接收日期", "序号", "财产名称", "类别", "数量"])
    sheet.append(["GP-7", "甲公司", "2025-01-02", 1, "模具", "设备", 1])
    sheet.append(["gp-7", "甲公司", None, 2, "检具", "量具", 2])  # the same number: its 2nd item
    sheet.append([None, None, None, 3, "图纸", "图纸/规范", 5])  # under a merged cell: 3rd item
    sheet.append(["GP-8", "乙公司", "2025-02-03", 1, "样品", "样品", 10])
    path = tmp_path / "财产.xlsx"
    book.save(path)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns: {财产名称: items.name, 数量: items.quantity, 序号: items.item_no,"
                       " 类别: items.category}\n", encoding="utf-8")
    dry = qrec(ws.root, "import", "customer_property", str(path), "--map", str(mapping),
               "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3–5 " in dry.stdout
    done = qrec(ws.root, "import", "customer_property", str(path), "--map", str(mapping),
                "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)["records"]
    assert [(r["rows"], r["number"]) for r in made] == \
        [([3, 4, 5], "CP-2025-0001"), ([6], "CP-2025-0002")]
    first = json.loads(qrec(ws.root, "show", "CP-2025-0001", "--json").stdout)
    assert [(i["item_no"], i["name"], i["category"], i["quantity"])
            for i in first["data"]["items"]] == \
        [(1, "模具", "equipment", "1"), (2, "检具", "gauge", "2"), (3, "图纸", "drawing", "5")]
    assert first["data"]["legacy_number"] == "GP-7"
    assert ws.catalog.events("CP-2025-0001")[0]["detail"]["rows"] == [3, 4, 5]

    # headers that are the table's labels fill it without a map; a bad cell is named in
    # its own row, and a row that differs from its record's first row is refused
    plain = tmp_path / "cp.csv"
    plain.write_text("原编号,客户名称,接收日期,items.item_no,名称,类别,数量\n"
                     "GP-9,丙,2025-03-01,1,模具,设备,x\nGP-9,丁,,2,检具,量具,1\n",
                     encoding="utf-8")
    bad = qrec(ws.root, "import", "customer_property", str(plain))
    assert bad.returncode == 1, bad.stdout
    assert "row 2, column G (数量): items[1].quantity (数量): 'x' 须为数字 must be a " \
        "number" in bad.stderr
    assert "row 3, column B (客户名称): 与本记录首行（第 2 行）不同 differs from row 2, where the " \
        "record begins ('丙' there)" in bad.stderr

    # a table no column fills, or filled without its required columns: one line
    cp = tmp_path / "cp2.csv"
    cp.write_text("客户名称,接收日期\n甲,2025-01-02\n", encoding="utf-8")
    none = qrec(ws.root, "import", "customer_property", str(cp))
    assert none.returncode == 1
    assert none.stderr == (
        "Error: 表格必填 items (财产明细) is required and no ledger column fills it: name the "
        "ledger's columns for its columns in a map file (columns: {HEADER: items.item_no}, "
        "--map); the rows of one record fill one table row each\n")
    cp.write_text("客户名称,接收日期,名称,数量\n甲,2025-01-02,模具,1\n", encoding="utf-8")
    part = qrec(ws.root, "import", "customer_property", str(cp))
    assert "表格缺必填列 items (财产明细): the ledger fills items.name, items.quantity but not its " \
        "required column(s) items.item_no (序号), items.category (类别)" in part.stderr
    assert len(ws.catalog.record_numbers()) == 2


def test_a_dry_run_shows_the_retention_the_import_gives(ws, tmp_path):
    from tests.imports.ledgers import complaint_rows, write_xlsx

    path = str(write_xlsx(tmp_path / "台账.xlsx", complaint_rows()))
    dry = qrec(ws.root, "import", "complaint", path, "--dry-run", "--json")
    text = qrec(ws.root, "import", "complaint", path, "--dry-run")
    assert "2023-11-15   2026-11-15" in text.stdout  # CLOSED 结案, KEPT UNTIL 保存至
    done = qrec(ws.root, "import", "complaint", path, "--json")
    assert dry.returncode == 0 and done.returncode == 0, dry.stderr + done.stderr
    kept = [r["retention_until"] for r in json.loads(done.stdout)["records"]]
    assert kept == ["2026-11-15", "2026-12-20", None]
    assert [r["retention_until"] for r in json.loads(dry.stdout)["records"]] == kept


def test_a_void_row_without_its_void_date_is_refused(ws, tmp_path):
    path = csv_file(tmp_path / "st.csv", "投诉单号,受理日期,市场,客户名称,异常描述,状态,结案日期\n"
                    "A2,2025-01-05,国内,乙,描述,已登记,\nA3,2025-01-05,国内,丙,描述,作废,\n")
    done = qrec(ws.root, "import", "complaint", path, "--dry-run")
    assert done.returncode == 1, done.stdout
    assert "row 3, column F (状态): '作废' 作废记录缺作废日期 is 作废 Void but has no void date: " \
        "give it in a column 作废日期 (voided_on); a date is never invented" in done.stderr
    assert "row 2" not in done.stderr
    path = csv_file(tmp_path / "st2.csv", "投诉单号,受理日期,市场,客户名称,异常描述,状态,作废日期\n"
                    "A3,2025-01-05,国内,丙,描述,作废,\nA4,2025-01-05,国内,丁,描述,作废,2025-02-01\n")
    done = qrec(ws.root, "import", "complaint", path)
    assert "row 2, column G (作废日期): '作废' 作废记录缺作废日期" in done.stderr
    only = csv_file(tmp_path / "st3.csv", "投诉单号,受理日期,市场,客户名称,异常描述,状态,作废日期\n"
                    "A4,2025-01-05,国内,丁,描述,作废,2025-02-01\n")
    done = qrec(ws.root, "import", "complaint", only, "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["records"]
    assert (row["status"], row["closed_on"]) == ("void", "2025-02-01")
    shown = json.loads(qrec(ws.root, "show", row["number"], "--json").stdout)
    assert shown["data"]["closed_date"] is None  # a void date is no closing date
    # its retention runs from the void date, not from the day it was received
    assert row["retention_until"] == shown["retention_until"] == "2028-02-01"
    assert "3 years after voiding on 2025-02-01" in qrec(ws.root, "show", row["number"]).stdout
    checked = qrec(ws.root, "verify")  # the row's retention is what its history derives
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_totals_row_is_skipped_and_said_so(ws, tmp_path):
    from tests.imports.ledgers import complaint_rows, write_xlsx

    rows = complaint_rows() + [[None, "合 计", None, None, None, None, None, None, 1200.5]]
    path = str(write_xlsx(tmp_path / "台账.xlsx", rows))
    done = qrec(ws.root, "import", "complaint", path)
    assert done.returncode == 0, done.stderr
    assert "跳过合计行 Totals rows skipped: row 7 (合 计)" in done.stdout
    assert "required" not in done.stdout + done.stderr
    assert len(ws.catalog.record_numbers()) == 3


def test_a_key_given_twice_in_a_map_file_is_refused(ws, tmp_path):
    path = csv_file(tmp_path / "en.csv", "Ref,Date in,Mkt,Client,Problem\n"
                    "OLD-1,2025-06-01,domestic,丙公司,问题A\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("header_row: 1\ncolumns:\n  Ref: number\n  Date in: received_date\n"
                       "  Mkt: market\n  Client: customer\n  Problem: description\n"
                       "  Problem: product\n", encoding="utf-8")
    done = qrec(ws.root, "import", "complaint", path, "--map", str(mapping))
    assert done.returncode == 1, done.stdout
    assert done.stderr == (f"Error: --map: {mapping}: 映射文件键重复 the key 'Problem' is given "
                           "twice (line 7 and line 8); give each key once\n")
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("  Problem: product\n", ""),
                       encoding="utf-8")
    assert qrec(ws.root, "import", "complaint", path, "--map", str(mapping)).returncode == 0


def test_a_built_in_form_without_date_field_asks_for_a_map_file(ws, tmp_path):
    path = csv_file(tmp_path / "cr.csv", "评审编号,客户名称,评审日期,状态\n"
                    "CR-2024-0007,甲公司,2024-03-01,已关闭\n")
    done = qrec(ws.root, "import", "contract_review", path)
    assert done.returncode == 1, done.stdout
    assert done.stderr == (
        "Error: cr.csv: 表单无记录日期 contract_review has no date_field, so the ledger's date "
        "column must be named, else its old records would be dated today: name it in a map "
        "file (columns: {评审日期: date}, --map MAP.yaml)\n")


def test_files_excel_saves_otherwise_are_named_with_their_fix(ws, tmp_path):
    from openpyxl import Workbook

    old = tmp_path / "台账.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    done = qrec(ws.root, "import", "complaint", str(old))
    assert done.returncode == 1 and "另存为 .xlsx" in done.stderr
    assert "save it as .xlsx" in done.stderr

    text = HEAD.replace(",", "\t") + "U-1\t2025-01-02\t国内\t甲\t描述\n"
    wide = tmp_path / "u16.csv"
    wide.write_bytes(text.encode("utf-16"))
    done = qrec(ws.root, "import", "complaint", str(wide))
    assert done.returncode == 1
    assert f"Error: {wide}: 文件为 UTF-16 编码 UTF-16 text" in done.stderr
    assert "另存为 CSV UTF-8" in done.stderr

    tabs = csv_file(tmp_path / "tab.csv", text)  # Excel's "Text (Tab delimited)" as .csv
    done = qrec(ws.root, "import", "complaint", tabs, "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["columns"]["D 客户名称"] == "customer"

    book = Workbook()
    book.active.title = "封面"
    book.active.append(["客户投诉台账（封面）"])
    ledger = book.create_sheet("2025台账")
    ledger.append(HEAD.strip().split(","))
    ledger.append(["U-1", "2025-01-02", "国内", "甲", "描述"])
    covered = tmp_path / "cover.xlsx"
    book.save(covered)
    done = qrec(ws.root, "import", "complaint", str(covered))
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {covered}: 找不到表头行 no header row: none of the first 20 rows of the sheet "
        "'封面' names a field of complaint (by id, Chinese or English label) (the workbook's "
        "other sheets: 2025台账): choose the ledger's sheet with --sheet NAME, or give a map "
        "file (--map)\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("sheet: 封面\n", encoding="utf-8")
    done = qrec(ws.root, "import", "complaint", str(covered), "--sheet", "2025台账", "--map",
                str(mapping))
    assert done.stderr == "Error: --sheet: 工作表不一致 --sheet 2025台账 but the map file names " \
        "the sheet 封面: give one\n"
    done = qrec(ws.root, "import", "complaint", str(covered), "--sheet", "2025台账", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sheet"] == "2025台账"


def test_the_built_in_forms_print_the_original_number_when_there_is_one(ws, tmp_path):
    from docx import Document
    from pypdf import PdfReader

    checked = qrec(ws.root, "forms", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "legacy_number" not in checked.stdout + checked.stderr
    path = csv_file(tmp_path / "a.csv", HEAD + "KS-9,2025-03-18,国外,N,d\n"
                    "CC-2503-07,2025-03-19,国内,M,d\n")
    done = qrec(ws.root, "import", "complaint", path, "--json")
    assert done.returncode == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if k != "QREC_SOFFICE"}
    rendered = subprocess.run([QREC, "-w", str(ws.root), "--as", "wangwen", "render", "--all"],
                              capture_output=True, text=True, timeout=600,
                              env=dict(env, QREC_TODAY=TODAY))
    assert rendered.returncode == 0, rendered.stderr

    def printed(number: str) -> tuple[list[str], str]:
        folder = ws.root / "records" / "complaint" / number
        header = Document(folder / f"{number}_v1.docx").sections[0].header
        pdf = PdfReader(folder / f"{number}_v1.pdf").pages[0].extract_text()
        return [p.text for p in header.paragraphs], pdf

    header, pdf = printed("CC-2503-08")  # KS-9 does not fit CC-{yy}{mm}-{seq:02}
    assert "原编号 Original No. KS-9" in header and "KS-9" in pdf and "原编号" in pdf
    header, pdf = printed("CC-2503-07")  # kept as its number: no line for it
    assert not any("原编号" in line or "{%" in line for line in header)
    assert "原编号" not in pdf


def test_every_error_line_of_an_import_says_it_in_chinese_first(ws, tmp_path):
    """Headers, file names and values in ASCII, so any Chinese comes from the message."""
    import re

    head = "Ref,Date in,Mkt,Client,Problem,Status,Closed\n"
    rows = ("OLD-1,2025-13-01,domestic,,p,,\nOLD-1,2025-06-02,domestic,c,p,void,\n"
            "OLD-2,2025-06-03,mars,c,p,closed,\nOLD-3,2025-06-04,domestic,c,p,gone,\n")
    ledger = csv_file(tmp_path / "en.csv", head + rows)
    good = ("columns: {Ref: number, Date in: received_date, Mkt: market, Client: customer, "
            "Problem: description, Status: status, Closed: closed_on}\n")
    maps = {
        "target.yaml": good.replace("Client: customer", "Client: client"),
        "absent.yaml": good.replace("Problem:", "Nope: product, Problem:"),
        "twice.yaml": "columns:\n  Ref: number\n  Ref: description\n",
        "unknown.yaml": "colums: {}\n",
        "row.yaml": "header_row: 40\n" + good,
        "both.yaml": good.replace("Problem: description", "Problem: customer"),
        "rows.yaml": good,
    }
    outputs = []
    for name, text in maps.items():
        mapping = tmp_path / name
        mapping.write_text(text, encoding="utf-8")
        outputs.append(qrec(ws.root, "import", "complaint", ledger, "--map", str(mapping)))
    other = tmp_path / "ledger.txt"
    other.write_text(head, encoding="utf-8")
    outputs.append(qrec(ws.root, "import", "complaint", str(other)))
    outputs.append(qrec(ws.root, "import", "complaint", ledger))  # no header it knows
    empty = csv_file(tmp_path / "empty.csv", "customer,description\n")
    outputs.append(qrec(ws.root, "import", "complaint", empty))
    lines = [line for done in outputs for line in done.stderr.splitlines()
             if line.startswith(("Error:", "  - "))]
    assert all(done.returncode == 1 for done in outputs)
    assert len(lines) >= 30, lines  # 10 refusals; the rows' problems under two of them
    english_only = [line for line in lines if not re.search(r"[\u4e00-\u9fff]", line)]
    assert english_only == []


def test_a_file_imported_before_is_refused_unless_again(ws, tmp_path):
    """A ledger without numbers would make its records twice (found by the issue 19 review)."""
    ledger = csv_file(tmp_path / "n.csv", "受理日期,市场,客户名称,异常描述\n"
                                          "2025-03-18,国外,Nordic,镀层起泡\n"
                                          "2025-03-19,国内,华东,外箱破损\n")
    assert qrec(ws.root, "import", "complaint", ledger).returncode == 0
    twice = qrec(ws.root, "import", "complaint", ledger)
    assert twice.returncode == 1 and twice.stderr.strip() == (
        f"Error: 文件已导入 n.csv was imported already on {TODAY} (2 record(s), from "
        "CC-2503-01): give --again to import it once more")
    assert len(ws.catalog.record_numbers()) == 2
    assert qrec(ws.root, "import", "complaint", ledger, "--dry-run").returncode == 1
    assert qrec(ws.root, "import", "complaint", ledger, "--again").returncode == 0
    assert len(ws.catalog.record_numbers()) == 4
