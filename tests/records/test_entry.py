"""Entering a record at a terminal (issue 18, "Entering data"): the real `qrec` on a
pseudo-terminal (pexpect), a real demonstration workspace (SQLite catalog, DOCX files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from qrecords.workspace import Workspace, create_workspace
from tests.conftest import TODAY

QREC = str(Path(sys.executable).with_name("qrec"))


@pytest.fixture
def root(tmp_path) -> Path:
    return create_workspace(tmp_path / "ws", demo=True)


def spawn(root: Path, *args) -> pexpect.spawn:
    environment = {**os.environ, "QREC_TODAY": TODAY, "QREC_SOFFICE": "/nonexistent/soffice"}
    return pexpect.spawn(QREC, ["-w", str(root), "--as", "lina", *args], env=environment,
                         encoding="utf-8", timeout=60, dimensions=(50, 200))


def qrec(root: Path, *args) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QREC_TODAY": TODAY, "QREC_SOFFICE": "/nonexistent/soffice"}
    return subprocess.run([QREC, "-w", str(root), "--as", "lina", *args], env=environment,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def answer(child: pexpect.spawn, label: str, text: str) -> None:
    child.expect_exact(label)
    child.sendline(text)


def stored(root: Path) -> dict:
    """What the workspace holds: records, events, files under records/."""
    ws = Workspace.open(root, "wangwen")
    try:
        records = ws.catalog.form_records("complaint")
        events = ws.catalog.events()
    finally:
        ws.close()
    files = [p for p in (root / "records").rglob("*") if p.is_file()] \
        if (root / "records").exists() else []
    return {"records": [r["number"] for r in records], "events": len(events), "files": files}


def fill_complaint_head(child: pexpect.spawn) -> None:
    """The first fields of a complaint, a bad date and a bad phone on the way."""
    answer(child, "受理日期 Date received *", "2026-13-40")
    child.expect_exact("not a real calendar date")
    child.expect_exact("请重新输入 please try again")
    answer(child, "受理日期 Date received *", "")  # the default: today
    answer(child, "市场 Market *", "3")            # no third choice: asked again
    child.expect_exact("must be one of")
    answer(child, "市场 Market *", "1")
    answer(child, "客户名称 Customer *", "")
    child.expect_exact("is required")
    answer(child, "客户名称 Customer *", "华东电子")
    answer(child, "联系人 Contact person", "张三")
    answer(child, "联系电话 Phone", "call me")
    child.expect_exact("does not match the pattern")
    answer(child, "联系电话 Phone", "021-5555 0101")


def fill_complaint_rest(child: pexpect.spawn) -> None:
    for label in ("订单编号 Order no.", "料号 Part no.", "产品名称 Product"):
        answer(child, label, "")
    answer(child, "数量 Quantity", "many")
    child.expect_exact("must be a whole number")
    answer(child, "数量 Quantity", "1,200")
    answer(child, "交运日期 Ship date", "")
    answer(child, "不良数量 Defective quantity", "")
    child.expect_exact("异常描述 Description *")
    child.expect_exact("空行结束")
    child.sendline("外箱破损，")
    child.sendline("内包装受潮。")
    child.sendline("")
    for label in ("客户要求 Customer request", "投诉理由 Reason for complaint"):
        child.expect_exact(label)
        child.sendline("")
    answer(child, "附样品 Sample attached", "")


def test_terminal_new_asks_what_a_person_fills_checks_each_answer_and_saves(root):
    child = spawn(root, "new", "complaint")
    fill_complaint_head(child)
    fill_complaint_rest(child)
    child.expect_exact("未编号 (no number yet)")
    child.expect_exact("保存？ save? [y/N]")
    asked = child.before
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    transcript = asked + child.before
    assert child.exitstatus == 0, transcript
    assert "CC-2611-01" in child.before
    # the fields only the workflow fills, and those a later step takes, were not asked
    prompts = [line for line in transcript.splitlines() if line.rstrip().endswith(":")]
    for label in ("调查人", "核决人", "结案日期", "前案编号", "原因分析", "处理方式", "原编号"):
        assert not any(label in line for line in prompts), (label, prompts)
    show = json.loads(qrec(root, "show", "CC-2611-01", "--json").stdout)
    data = show["data"]
    assert data["description"] == "外箱破损，\n内包装受潮。"
    assert data["quantity"] == 1200 and data["market"] == "domestic"
    assert data["customer_phone"] == "021-5555 0101" and data["received_date"] == TODAY


def test_saying_no_at_the_summary_stores_nothing(root):
    before = stored(root)
    child = spawn(root, "new", "complaint")
    fill_complaint_head(child)
    fill_complaint_rest(child)
    answer(child, "保存？ save? [y/N]", "")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "Error: 未保存 not saved" in child.before
    assert stored(root) == before


@pytest.mark.parametrize("stop", ["ctrl-c", "eof"])
def test_ctrl_c_or_end_of_input_leaves_nothing(root, stop):
    before = stored(root)
    child = spawn(root, "new", "complaint")
    fill_complaint_head(child)
    child.expect_exact("订单编号 Order no.")
    child.sendintr() if stop == "ctrl-c" else child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    errors = [line for line in child.before.splitlines() if "Error" in line]
    assert errors == ["Error: 已取消，未保存 cancelled: nothing was stored"], child.before
    assert stored(root) == before
    # no number was used: the next record is the first of the month
    made = qrec(root, "new", "complaint", "--set", "market=domestic", "--set", "customer=甲",
                "--set", "description=破损", "--json")
    assert json.loads(made.stdout)["number"] == "CC-2611-01", made.stderr


def test_a_repeated_key_in_a_keyed_table_is_refused_at_its_row(root):
    schema = root / "schemas" / "customer_property.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "    min_rows: 1\n", "    min_rows: 1\n    key: category\n", 1), encoding="utf-8")
    child = spawn(root, "new", "customer_property")
    answer(child, "客户名称 Customer *", "华东电子")
    for label in ("合同/订单号 Contract / order no.", "顾客联系人 Customer contact",
                  "接收日期 Date received *", "接收人 Received by"):
        answer(child, label, "")
    for row in (1, 2):
        child.expect_exact(f"Row {row}")
        answer(child, "序号 Item no. *", str(row))
        answer(child, "名称 Name *", f"模具{row}")
        answer(child, "类别 Category *", "equipment")
        if row == 2:
            child.expect_exact("items[2].category (类别): '设备 Equipment' is already in an "
                               "earlier row")
            answer(child, "类别 Category *", "gauge")
        for label in ("规格 Specification", "数量 Quantity", "单位 Unit",
                      "存放位置 Storage location", "标识 Identification label",
                      "状态 Condition"):
            answer(child, label, "")
        answer(child, "添加一行 Add a row", "y" if row == 1 else "n")
    child.expect_exact("检验结果")
    child.sendline("")
    child.expect_exact("检验备注")
    child.sendline("")
    answer(child, "保存？ save? [y/N]", "y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    number = "CP-2026-0001"
    items = json.loads(qrec(root, "show", number, "--json").stdout)["data"]["items"]
    assert [(r["name"], r["category"]) for r in items] == [("模具1", "equipment"),
                                                           ("模具2", "gauge")]


def test_dry_run_shows_what_would_be_stored_without_a_number(root, tmp_path):
    data = tmp_path / "c.yaml"
    data.write_text("market: foreign\ncustomer: 华东电子\ndescription: 包装破损\n",
                    encoding="utf-8")
    before = stored(root)
    shown = qrec(root, "new", "complaint", "--data", str(data), "--dry-run", "--json")
    assert shown.returncode == 0, shown.stderr
    preview = json.loads(shown.stdout)
    assert preview["dry_run"] is True and preview["number"] is None
    assert preview["data"]["customer"] == "华东电子" and preview["status"] == "registered"
    assert preview["due_date"] == "2026-12-10"  # 17 days for a foreign market
    text = qrec(root, "new", "complaint", "--data", str(data), "--dry-run")
    assert "未编号 (no number yet)" in text.stdout and "国外 Foreign" in text.stdout
    assert "试运行，未保存 Dry run: nothing was stored" in text.stdout
    bad = qrec(root, "new", "complaint", "--data", str(data), "--set", "quantity=-1",
               "--dry-run")
    assert bad.returncode != 0 and "quantity (数量)" in bad.stderr
    assert stored(root) == before
    made = qrec(root, "new", "complaint", "--data", str(data), "--json")
    assert json.loads(made.stdout)["number"] == "CC-2611-01", made.stderr


def test_dry_run_at_a_terminal_asks_then_shows_and_stores_nothing(root):
    before = stored(root)
    child = spawn(root, "new", "complaint", "--dry-run")
    fill_complaint_head(child)
    fill_complaint_rest(child)
    child.expect_exact("未编号 (no number yet)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "save?" not in child.before
    assert stored(root) == before
