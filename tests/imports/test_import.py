"""`qrec import`: old records from a ledger, all rows or none, never with invented history
(DOMAIN.md, "Old records")."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from qrecords.api import imports, records, reports, search
from qrecords.cli import cli
from qrecords.errors import Conflict, Forbidden, QrecError, ValidationError
from qrecords.workspace import Workspace
from tests.conftest import as_user, load_example, snapshot
from tests.imports.ledgers import HEADERS, complaint_rows, write_csv, write_xlsx


@pytest.fixture
def ledger(tmp_path):
    return write_xlsx(tmp_path / "投诉台账.xlsx", complaint_rows())


def test_an_xlsx_ledger_is_imported_as_it_was(ws, ledger):
    result = imports.import_ledger(ws, "complaint", str(ledger))
    assert result["header_row"] == 3  # below the merged title and an empty row
    assert result["skipped_columns"] == ["A 序号"]
    assert result["columns"]["B 投诉单号"] == "number"
    made = {r["row"]: r for r in result["records"]}
    assert [made[4]["number"], made[4]["kept_number"]] == ["CC-2311-05", True]

    closed = records.show(ws, "CC-2311-05")
    assert closed["status"] == "closed"
    assert closed["data"]["received_date"] == "2023-11-06"  # an Excel date
    assert closed["data"]["closed_date"] == "2023-11-15"
    assert closed["data"]["disposition_amount"] == "1200.50"
    assert closed["closed_on"] == "2023-11-15"
    assert closed["retention_until"] == "2026-11-15"  # 3 years from the original closure
    assert closed["effective_date"] == "2023-11-06"  # version 1 dated as the record was

    # TS-2023-017 does not fit CC-{yy}{mm}-{seq:02}: a new number of its own month (after
    # CC-2312-02, kept by row 6), the
    # original kept in legacy_number; its closing date was text (2023年12月20日).
    moved = made[5]
    assert moved["number"] == "CC-2312-03" and not moved["kept_number"]
    assert records.show(ws, "CC-2312-03")["data"]["legacy_number"] == "TS-2023-017"
    assert moved["closed_on"] == "2023-12-20"

    still_open = records.show(ws, "CC-2312-02")  # a fitting number, dated as text
    assert [still_open["status"], still_open["closed_on"]] == ["investigating", None]
    assert still_open["data"]["received_date"] == "2023-12-08"
    assert still_open["retention_until"] is None


def test_one_imported_event_names_the_file_and_row_and_no_step_is_invented(ws, ledger):
    imports.import_ledger(ws, "complaint", str(ledger))
    digest = hashlib.sha256(ledger.read_bytes()).hexdigest()
    events = ws.catalog.events("CC-2311-05")
    assert [e["action"] for e in events] == ["record.imported"]
    detail = events[0]["detail"]
    assert (detail["source"], detail["source_sha256"], detail["row"], detail["sheet"]) == \
        ("投诉台账.xlsx", digest, 4, "2023")
    assert events[0]["actor"] == "wangwen" and events[0]["effective_date"] == "2026-11-23"
    story = records.history(ws, "CC-2311-05")
    assert len(story) == 1 and story[0]["what"] == "导入 Imported from 投诉台账.xlsx row 4"
    assert story[0]["author"] == "wangwen"
    assert records.show(ws, "CC-2311-05")["data"]["verified_by"] is None  # nobody invented


def test_the_original_number_is_searchable_and_numbering_goes_on_after_it(ws, tmp_path):
    rows = complaint_rows()
    rows[0][1] = "CC-2611-03"  # this month: `qrec new` must not hand out 03 again
    rows[0][2] = rows[0][10] = "2026-11-02"
    imports.import_ledger(ws, "complaint", str(write_xlsx(tmp_path / "l.xlsx", rows)))
    assert records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                              pdf=False)["number"] == "CC-2611-04"
    ws.sync_index()
    hits = search.search(ws, "TS-2023-017")["hits"]
    assert [h["number"] for h in hits] == ["CC-2312-03"]


def test_every_bad_row_is_listed_with_row_and_column_and_nothing_is_stored(ws, tmp_path):
    rows = complaint_rows()
    rows[0][2] = "2023-13-40"  # no such date
    rows[1][3] = "火星"  # no such market
    rows[2][4] = None  # the customer is required
    rows[2][9] = "已结案"  # closed without a closing date
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    before = snapshot(ws.root)
    with pytest.raises(ValidationError) as caught:
        imports.import_ledger(ws, "complaint", str(path))
    problems = caught.value.problems
    assert any(p.startswith("row 4, column C (受理日期): received_date") for p in problems)
    assert any(p.startswith("row 5, column D (市场): market") for p in problems)
    assert any(p.startswith("row 6, column E (客户名称): customer") and "required" in p
               for p in problems)
    assert any(p.startswith("row 6, column J (状态): '已结案'") and "closing date" in p
               for p in problems)
    assert str(caught.value).startswith("数据有误（4 个问题）4 problem(s) in bad.xlsx")
    assert snapshot(ws.root) == before and ws.catalog.record_numbers() == []


def test_a_dry_run_stores_nothing(ws, ledger):
    before = snapshot(ws.root)
    result = imports.import_ledger(ws, "complaint", str(ledger), dry_run=True)
    assert [r["number"] for r in result["records"]] == ["CC-2311-05", None, "CC-2312-02"]
    assert snapshot(ws.root) == before


def test_a_ledger_is_imported_once(ws, ledger):
    imports.import_ledger(ws, "complaint", str(ledger))
    with pytest.raises(Conflict, match="文件已导入 投诉台账.xlsx was imported already"):
        imports.import_ledger(ws, "complaint", str(ledger))
    # the same rows again, deliberately: each number is refused by its row
    with pytest.raises(ValidationError, match="CC-2311-05 was imported already"):
        imports.import_ledger(ws, "complaint", str(ledger), again=True)


def test_the_same_ledger_imported_at_once_in_two_processes_is_imported_once(ws, ledger,
                                                                           monkeypatch):
    """Another process's import of the same file commits while this one plans its rows:
    right after it read which original numbers were imported already, before it asks whether
    the first number is taken. Planning then saw the number taken and gave the row a new
    one, so the ledger was imported twice; the checks are made again under the write lock."""
    other = Workspace.open(ws.root, "wangwen")  # a connection of its own, as another process
    asked = ws.catalog.record

    def record_after_the_other_import(number):
        monkeypatch.setattr(ws.catalog, "record", asked)  # once
        imports.import_ledger(other, "complaint", str(ledger))
        return asked(number)

    monkeypatch.setattr(ws.catalog, "record", record_after_the_other_import)
    try:
        with pytest.raises(Conflict, match="文件已导入 投诉台账.xlsx was imported already"):
            imports.import_ledger(ws, "complaint", str(ledger))
    finally:
        other.close()
    assert sorted(ws.catalog.record_numbers()) == ["CC-2311-05", "CC-2312-02", "CC-2312-03"]


def test_only_the_document_controller_imports(ws, ledger):
    with pytest.raises(Forbidden):
        imports.import_ledger(as_user(ws, "lina"), "complaint", str(ledger))


def test_a_csv_with_a_map_file(ws, tmp_path):
    headers = ["单据号", "日期", "Market", "Customer", "问题", "备注"]
    rows = [["A-1", "2024-03-05", "domestic", "宁波海天", "尺寸超差", "老客户"]]
    path = write_csv(tmp_path / "ledger.csv", rows, headers)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  单据号: number\n  日期: received_date\n  问题: description\n"
                       "  备注: null\n", encoding="utf-8")
    result = imports.import_ledger(ws, "complaint", str(path), str(mapping))
    assert result["skipped_columns"] == ["F 备注"]
    record = records.show(ws, result["records"][0]["number"])
    assert record["number"] == "CC-2403-01" and record["data"]["legacy_number"] == "A-1"
    assert record["data"]["customer"] == "宁波海天" and record["status"] == "registered"


def test_a_map_naming_no_field_is_refused(ws, ledger, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  客户名称: client\n", encoding="utf-8")
    with pytest.raises(QrecError, match="'client' is no field of complaint"):
        imports.import_ledger(ws, "complaint", str(ledger), str(mapping))


def test_imported_closures_count_in_the_monthly_statistics(ws, ledger):
    imports.import_ledger(ws, "complaint", str(ledger))
    stats = reports.complaint_statistics(ws, "2023-11")
    assert (stats["received"], stats["closed"], stats["closed_on_time"]) == (1, 1, 1)


def test_qrec_import_at_the_command_line(ws, ledger):
    runner = CliRunner()
    base = ["-w", str(ws.root), "--as", "wangwen"]
    dry = runner.invoke(cli, base + ["import", "complaint", str(ledger), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "试运行 Dry run: 3 record(s)" in dry.output
    done = runner.invoke(cli, base + ["import", "complaint", str(ledger), "--json"])
    assert done.exit_code == 0, done.output
    assert [r["number"] for r in json.loads(done.stdout)["records"]] == \
        ["CC-2311-05", "CC-2312-03", "CC-2312-02"]
    again = runner.invoke(cli, base + ["import", "complaint", str(ledger), "--again"])
    assert again.exit_code != 0 and "row 4, column B (投诉单号)" in again.output
