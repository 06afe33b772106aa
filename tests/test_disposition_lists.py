"""What the lists and the register say of how a record ended (review 18b of issue 18): a void
record is 作废 Void with the day it was voided, never "closed"; a record transferred because
its policy says transfer says its retention here ended and when it was transferred, not a
date already past and a transfer still to come. The real `qrec` in a subprocess, a real
demonstration workspace; the lists' DOCX read back with python-docx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from qrecords.workspace import create_workspace
from tests.conftest import EXAMPLES, run_qrec, succeeded
from tests.render.docx_text import docx_rows

ARCHIVE = "集团档案室 Group archive"


def qrec(root: Path, today: str, *args, user: str = "wangwen") -> str:
    """stdout of a `qrec` that must succeed, run on the day `today`."""
    return succeeded(run_qrec(root, *args, user=user, today=today))


def complaint(root: Path, today: str) -> str:
    return json.loads(qrec(root, today, "new", "complaint", "--data", EXAMPLES / "complaint.yaml",
                           "--set", f"received_date={today}", "--json", user="lina"))["number"]


def closed(root: Path, today: str) -> str:
    number = complaint(root, today)
    qrec(root, today, "do", number, "close_unfounded", "--set", "disposition=unfounded",
         "--comment", "非质量问题", user="zhaomin")
    return number


def voided(root: Path, made: str, on: str) -> str:
    number = complaint(root, made)
    qrec(root, on, "void", number, "--reason", "重复登记")
    return number


def list_row(docx: str, number: str) -> dict[str, str]:
    """The row of `number` in a disposition list, by heading."""
    rows = docx_rows(docx)
    headings = next(r for r in rows if r and r[0] == "序号 No.")
    return dict(zip(headings, next(r for r in rows if number in r)))


@pytest.fixture
def root(tmp_path) -> Path:
    return create_workspace(tmp_path / "ws", demo=True)


def test_a_void_record_is_listed_as_void_not_closed(root, tmp_path):
    void = voided(root, "2026-01-10", "2026-01-12")
    done = closed(root, "2026-01-11")

    register = json.loads(qrec(root, "2026-01-20", "register", "complaint", "--json"))
    rows = {r["number"]: r for r in register["rows"]}
    assert (rows[void]["status"], rows[void]["closed_on"], rows[void]["voided_on"]) == \
        ("作废 Void", None, "2026-01-12")
    assert (rows[done]["closed_on"], rows[done]["voided_on"]) == ("2026-01-11", None)
    out = tmp_path / "台账.xlsx"
    qrec(root, "2026-01-20", "register", "complaint", "--out", out)
    sheet = load_workbook(out)["台账 Register"]
    heading = [c.value for c in next(sheet.iter_rows(max_row=1))]
    by_number = {r[0]: dict(zip(heading, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_number[void]["关闭日期 Closed on"] is None
    assert by_number[void]["作废日期 Voided on"].date().isoformat() == "2026-01-12"

    moved = json.loads(qrec(root, "2026-03-01", "transfer", void, done, "--to", ARCHIVE,
                            "--reason", "合同终止，移交集团", "--json"))
    assert [r["voided_on"] for r in moved["records"]] == ["2026-01-12", None]
    row = list_row(moved["docx"], void)
    assert row["结案/作废 Closed/Void"] == "作废 Void 2026-01-12"
    assert row["保存至 Kept until"] == "2029-01-12\n3 years after voiding on 2026-01-12"
    assert list_row(moved["docx"], done)["结案/作废 Closed/Void"] == "2026-01-11"


def test_a_void_record_destroyed_is_listed_as_void(root):
    void = voided(root, "2026-01-10", "2026-01-12")
    due = qrec(root, "2029-01-12", "retention", "due")
    [line] = [ln for ln in due.splitlines() if ln.startswith(void)]
    assert "作废 Void 2026-01-12" in line
    assert "CLOSED/VOID 结案/作废" in due
    gone = json.loads(qrec(root, "2029-01-12", "dispose", "--due", "--reason", "期满",
                           "--json"))
    assert list_row(gone["docx"], void)["结案/作废 Closed/Void"] == "作废 Void 2026-01-12"


def test_a_transfer_at_the_end_of_retention_says_it_ended_and_when_it_was_moved(root):
    schema = root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "retention: {period: 3y, from: closure, action: destroy}",
        "retention: {period: 1y, from: closure, action: transfer}").replace(
        "revision: A/0", "revision: A/1"), encoding="utf-8")
    kept = closed(root, "2026-02-02")
    preview = qrec(root, "2027-02-03", "transfer", "--due", "--to", ARCHIVE, "--reason",
                   "期满移交", "--dry-run")
    [line] = [ln for ln in preview.splitlines() if ln.startswith(kept)]
    assert "2027-02-02 已期满 ended" in line and "由接收方保存 kept by the archive" in line
    assert "移交 transfer" not in line
    moved = json.loads(qrec(root, "2027-02-03", "transfer", "--due", "--to", ARCHIVE,
                            "--reason", "期满移交", "--json"))
    row = list_row(moved["docx"], kept)
    assert row["保存至 Kept until"] == ("保存期满 Retention ended 2027-02-02\n"
                                      "1 year after closure on 2026-02-02")
    assert row["期满处置 Then"] == "移交日期 Transferred on 2027-02-03"
