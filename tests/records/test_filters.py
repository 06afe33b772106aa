"""Filters by label, the register's columns and order, names in history, tables that fit the
terminal (issue 18, "Entering data"): the real `qrec` in a subprocess or on a
pseudo-terminal, a real demonstration workspace."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from qrecords.textfmt import width
from qrecords.workspace import create_workspace
from tests.conftest import TODAY

QREC = str(Path(sys.executable).with_name("qrec"))
LATER = "2026-12-30"  # every complaint made on TODAY is overdue by then


def environment(today: str = TODAY) -> dict:
    return {**os.environ, "QREC_TODAY": today, "QREC_SOFFICE": "/nonexistent/soffice"}


def qrec(root: Path, *args, user: str = "lina", today: str = TODAY) -> subprocess.CompletedProcess:
    return subprocess.run([QREC, "-w", str(root), "--as", user, *map(str, args)],
                          env=environment(today), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, \
        result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Three complaints (quantities 40, none, 7; the second closed as unfounded)."""
    made = create_workspace(tmp_path_factory.mktemp("filters") / "ws", demo=True)
    for customer, quantity in (("华东电子", "40"), ("星河贸易", ""), ("北方机械", "7")):
        ok(qrec(made, "new", "complaint", "--set", "market=domestic",
                "--set", f"customer={customer}", "--set", f"quantity={quantity}",
                "--set", "description=包装破损，外箱压坏",
                "--set", "complaint_reason=" + "客户认为包装不符合合同约定" * 4))
    ok(qrec(made, "do", "CC-2611-02", "close_unfounded", "--set", "disposition=unfounded",
            "--comment", "运输途中损坏，不属我司责任", user="zhaomin"))
    return made


def test_filters_take_the_chinese_labels_and_names(root):
    by_label = json.loads(ok(qrec(root, "search", "破损", "--status", "已结案", "--json")))
    assert [hit["number"] for hit in by_label["hits"]] == ["CC-2611-02"]
    for given in ("closed", "Closed", "已结案 Closed"):
        again = json.loads(ok(qrec(root, "search", "破损", "--status", given, "--json")))
        assert [hit["number"] for hit in again["hits"]] == ["CC-2611-02"]
    titled = json.loads(ok(qrec(root, "search", "破损", "--form", "客户投诉处理单",
                                "--status", "已登记", "--json")))
    assert sorted(hit["number"] for hit in titled["hits"]) == ["CC-2611-01", "CC-2611-03"]

    held = json.loads(ok(qrec(root, "overdue", "--department", "质量部", "--json",
                              today=LATER)))
    assert sorted(case["number"] for case in held) == ["CC-2611-01", "CC-2611-03"]
    assert json.loads(ok(qrec(root, "overdue", "--department", "业务部", "--json",
                              today=LATER))) == []
    assert len(json.loads(ok(qrec(root, "overdue", "--form", "客户投诉处理单", "--json",
                                  today=LATER)))) == 2
    status = json.loads(ok(qrec(root, "retention", "status", "--form", "客户投诉处理单",
                                "--json")))
    assert [row["form"] for row in status] == ["complaint"] and status[0]["open"] == 2
    assert json.loads(ok(qrec(root, "retention", "due", "--form", "合同评审单", "--json"))) == []
    made = json.loads(ok(qrec(root, "register", "客户投诉处理单", "--out",
                              root.parent / "r.csv", "--json")))
    assert made["form"] == "complaint" and made["count"] == 3


@pytest.mark.parametrize("args, names", [
    (("search", "破损", "--status", "已关"), ("--status: 无此状态 no status '已关'", "closed (已结案)")),
    (("search", "破损", "--form", "投诉单"), ("--form: 无此表单 no form '投诉单'",
                                           "complaint (客户投诉处理单)")),
    (("overdue", "--department", "质检部"), ("--department: 无此部门 no department '质检部'",
                                          "quality (质量部)")),
    (("register", "complaint", "--status", "已关"), ("--status: 无此状态 no status '已关'",
                                                   "closed (已结案)")),
    (("register", "complaint", "--columns", "客户,数量"), ("--columns: 无此列 no column '客户'",
                                                       "customer (客户名称)")),
    (("register", "complaint", "--sort", "数量:up"), ("--sort: '数量:up'", "asc or desc")),
])
def test_an_unknown_filter_value_is_one_line_listing_the_allowed(root, args, names):
    message = one_error(qrec(root, *args))
    for name in names:
        assert name in message, message


def test_register_chooses_columns_includes_long_text_and_sorts(root):
    chosen = json.loads(ok(qrec(root, "register", "complaint", "--columns",
                                "客户名称, quantity,状态", "--sort", "数量:desc", "--json")))
    assert [c["id"] for c in chosen["columns"]] == ["number", "customer", "quantity", "status"]
    assert [(r["number"], r["quantity"]) for r in chosen["rows"]] == [
        ("CC-2611-01", 40), ("CC-2611-03", 7), ("CC-2611-02", None)]  # empty last
    ascending = json.loads(ok(qrec(root, "register", "complaint", "--sort", "quantity",
                                   "--json")))
    assert [r["number"] for r in ascending["rows"]] == ["CC-2611-03", "CC-2611-01",
                                                         "CC-2611-02"]
    plain = json.loads(ok(qrec(root, "register", "complaint", "--json")))
    assert "description" not in {c["id"] for c in plain["columns"]}
    long = json.loads(ok(qrec(root, "register", "complaint", "--long-text", "--json")))
    ids = [c["id"] for c in long["columns"]]
    assert {"description", "complaint_reason", "cause_analysis"} <= set(ids)
    assert long["rows"][0]["description"] == "包装破损，外箱压坏"
    named = json.loads(ok(qrec(root, "register", "complaint", "--columns", "异常描述",
                               "--json")))
    assert [c["id"] for c in named["columns"]] == ["number", "description"]
    out = root.parent / "chosen.csv"
    ok(qrec(root, "register", "complaint", "--out", out, "--columns", "customer,投诉理由",
            "--sort", "customer"))
    with out.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["记录编号 Number", "客户名称 Customer", "投诉理由 Reason for complaint"]
    assert [line[1] for line in lines[1:]] == sorted(["华东电子", "星河贸易", "北方机械"])


def test_register_filters_by_status_as_search_does(root, tmp_path):
    """Review 18b: the README's filter paragraph names `register`, which had no --status."""
    closed = json.loads(ok(qrec(root, "register", "complaint", "--status", "已结案", "--json")))
    assert [r["number"] for r in closed["rows"]] == ["CC-2611-02"] and closed["count"] == 1
    for given in ("registered", "Registered", "已登记 Registered"):
        still = json.loads(ok(qrec(root, "register", "complaint", "--status", given,
                                   "--json")))
        assert [r["number"] for r in still["rows"]] == ["CC-2611-01", "CC-2611-03"]
    out = tmp_path / "closed.xlsx"
    ok(qrec(root, "register", "complaint", "--status", "已结案", "--out", out))
    from openpyxl import load_workbook

    book = load_workbook(out)
    assert [r[0] for r in book["台账 Register"].iter_rows(min_row=2, values_only=True)] == \
        ["CC-2611-02"]
    about = dict(book["说明 About"].iter_rows(values_only=True))
    assert about["状态 Status"] == "已结案 Closed" and about["记录数 Records"] == 1
    printed = ok(qrec(root, "register", "complaint", "--status", "closed"))
    assert "CC-2611-02" in printed and "CC-2611-01" not in printed


def test_history_shows_names_not_user_ids(root):
    story = json.loads(ok(qrec(root, "history", "CC-2611-02", "--json")))
    assert [(v["author"], v["author_name"]) for v in story] == [("lina", "李娜"),
                                                                 ("zhaomin", "赵敏")]
    text = ok(qrec(root, "history", "CC-2611-02"))
    rows = text.splitlines()[3:]
    assert "李娜" in rows[0] and "赵敏" in rows[1]
    assert not any(user in text for user in ("lina", "zhaomin"))


@pytest.mark.parametrize("args", [("history", "CC-2611-02"),
                                  ("register", "complaint", "--long-text")])
def test_printed_tables_fit_the_terminal(root, args):
    child = pexpect.spawn(QREC, ["-w", str(root), "--as", "lina", *args], env=environment(),
                          encoding="utf-8", timeout=60, dimensions=(40, 72))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    lines = child.before.replace("\r", "").splitlines()
    assert max(width(line) for line in lines) <= 72, lines
    assert any("…" in line for line in lines)  # long cells were cut, not wrapped
    whole = ok(qrec(root, *args))  # to a pipe: whole cells
    assert max(width(line) for line in whole.splitlines()) > 72


LONG_COMMENT = "调查开始，请生产部、仓库提供出货记录和检验记录以便确认不良原因，并在三日内书面回复质量部"


@pytest.fixture(scope="module")
def investigated(tmp_path_factory) -> Path:
    """A complaint under investigation, its step's comment longer than any cut."""
    made = create_workspace(tmp_path_factory.mktemp("cells") / "ws", demo=True)
    ok(qrec(made, "new", "complaint", "--set", "market=domestic", "--set",
            "customer=苏州恒通机电有限公司华东区域销售服务中心", "--set", "quantity=40",
            "--set", "description=包装破损，外箱压坏", "--set", "complaint_reason=包装不符合约定"))
    ok(qrec(made, "do", "CC-2611-01", "investigate", "--comment", LONG_COMMENT,
            user="zhaomin"))
    return made


def test_a_pipe_or_a_file_keeps_every_cell_whole(investigated, tmp_path):
    """Review 18b: `history | cat`, `history > file` and `do | cat` cut long cells with …;
    the README says output to a file or a pipe keeps every cell whole."""
    piped = ok(qrec(investigated, "history", "CC-2611-01"))
    assert LONG_COMMENT in piped and "…" not in piped
    assert "开始调查 Start the investigation" in piped
    out = tmp_path / "history.txt"
    with out.open("w", encoding="utf-8") as handle:
        written = subprocess.run([QREC, "-w", str(investigated), "--as", "lina", "history",
                                  "CC-2611-01"], env=environment(), stdout=handle,
                                 stderr=subprocess.PIPE, text=True)
    assert written.returncode == 0, written.stderr
    assert LONG_COMMENT in out.read_text(encoding="utf-8")
    steps = ok(qrec(investigated, "do", "CC-2611-01", user="wangwen"))
    assert "…" not in steps
    assert "assign 权限不足 needs the role quality; wangwen has document_controller, privacy" \
        in steps
    found = ok(qrec(investigated, "search", "包装", "--status", "调查中"))
    assert "苏州恒通机电有限公司华东区域销售服务中心" in found and "…" not in found


def test_history_at_80_columns_keeps_the_time_whole_and_cuts_the_long_text(investigated):
    child = pexpect.spawn(QREC, ["-w", str(investigated), "--as", "lina", "history",
                                 "CC-2611-01"], env=environment(), encoding="utf-8",
                          timeout=60, dimensions=(40, 80))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    lines = child.before.replace("\r", "").splitlines()
    assert max(width(line) for line in lines) <= 80, lines
    assert lines[1].split()[:3] == ["VER", "AT", "(UTC)"]
    rows = [line for line in lines[3:] if line[:1].isdigit()]
    assert len(rows) == 2
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row.split()[1]), row
    assert LONG_COMMENT[:5] in rows[1] and LONG_COMMENT not in rows[1]
    assert "…" in rows[1]
