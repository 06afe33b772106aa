"""Refusals a document controller meets, each one line, Chinese first and then English, and
form-neutral where the form is not a complaint (review 18b of issue 18). The real `qrec` in
a subprocess on a real demonstration workspace; nothing changes on a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from qrecords.workspace import create_workspace
from tests.conftest import EXAMPLES, TODAY, run_qrec as qrec, snapshot, succeeded as ok
from tests.test_no_workflow import MEMO




def stored(root: Path) -> dict[str, str]:
    """The workspace's files but the search index (derived: a command may catch it up)."""
    return {k: v for k, v in snapshot(root).items() if not k.startswith("index/")}


def refusal(root: Path, *args, user: str = "wangwen") -> str:
    """The one line a refused command prints (after `Error: `), with nothing changed."""
    before = stored(root)
    result = qrec(root, *args, user=user)
    assert result.returncode == 1, result.stdout
    assert result.stdout == "" and result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert stored(root) == before
    return result.stderr.removeprefix("Error: ").rstrip("\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A complaint closed as unfounded (CC-2611-01), one open (CC-2611-02), a memo (a form
    without a workflow: final when made, M-2026-001)."""
    made = create_workspace(tmp_path_factory.mktemp("errors") / "ws", demo=True)
    (made / "schemas" / "memo.yaml").write_text(MEMO, encoding="utf-8")
    document = Document()
    document.add_paragraph("{{ record.number }} 主题 Subject: {{ subject }}")
    document.save(made / "templates" / "memo.docx")
    for _ in range(2):
        ok(qrec(made, "new", "complaint", "--data", EXAMPLES / "complaint.yaml", user="lina"))
    ok(qrec(made, "do", "CC-2611-01", "close_unfounded", "--set", "disposition=unfounded",
            "--comment", "非质量问题", user="zhaomin"))
    ok(qrec(made, "new", "memo", "--set", "subject=年度内审计划", user="lina"))
    return made


def test_the_amend_refusal_of_a_closed_record_fits_its_form(root):
    """Review 18b: a closed memo was refused with advice about complaints whose outcome was
    rejected."""
    memo = refusal(root, "amend", "M-2026-001", "--set", "subject=x", "--reason", "改", user="lina")
    assert memo == ("已结案记录不可修改 M-2026-001 is 已定稿 Final: a closed record is not amended "
                    "(what happens next is a new record)")
    complaint = refusal(root, "amend", "CC-2611-01", "--set", "product=x", "--reason", "改",
                        user="zhaomin")
    assert complaint == ("已结案记录不可修改 CC-2611-01 is 已结案 Closed: a closed record is not "
                         "amended (what happens next is a new record that follows it: qrec new "
                         "complaint --follows CC-2611-01)")


def listed_refusal(root: Path, *args) -> list[str]:
    """A refusal naming every record at fault: its heading and one line per record, with
    nothing changed."""
    before = stored(root)
    result = qrec(root, *args)
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("Error: "), result.stderr
    assert stored(root) == before
    return result.stderr.removeprefix("Error: ").splitlines()


DEPARTMENTS = ("sales (业务部), technical (技术部), production (生产部), quality (质量部), "
               "purchasing (采购部), warehouse (仓库), logistics (物流), supplier (供应商管理), "
               "management (总经理室)")


@pytest.mark.parametrize("args, user, line", [
    (("forms", "issue", "complaint", "--to", "marketing"), "wangwen",
     f"--to: 无此部门 no department 'marketing'; one of: {DEPARTMENTS}"),
    (("forms", "issue", "complaint", "--to", "quality", "--copies", "0"), "wangwen",
     "--copies: 份数须为 1 至 200 must be 1 to 200, not 0"),
    (("forms", "issue", "complaint", "--to", "quality"), "lina",
     "权限不足 issuing controlled forms needs the role document_controller; lina has sales, "
     "privacy"),
    (("forms", "return", "QR-9.1.2-01-A0-009"), "wangwen",
     "无此分发号 no controlled copy with distribution number QR-9.1.2-01-A0-009"),
    (("void", "CC-2611-02", "--reason", " "), "wangwen",
     "--reason: 须填写作废原因 give the reason the record is void: it is kept in its history"),
    (("void", "CC-2611-02", "--reason", "误建"), "lina",
     "权限不足 voiding a record needs the role document_controller; lina has sales, privacy"),
    (("transfer", "CC-2611-01", "--to", " ", "--reason", "移交"), "wangwen",
     "--to: 须写明移交至何处 name the archive the records go to"),
    (("transfer", "CC-2611-01", "--to", "档案室", "--reason", " "), "wangwen",
     "--reason: 须填写原因 give the reason: it is kept with the record's history"),
    (("transfer", "CC-2611-01", "--to", "档案室", "--reason", "移交"), "lina",
     "权限不足 a transfer needs the role document_controller; lina has sales, privacy"),
    (("search", "包装", "--status", "已关"), "lina",
     "--status: 无此状态 no status '已关'; one of: registered (已登记), investigating (调查中), "),
    (("new", "complaint", "--data", EXAMPLES / "complaint.yaml", "--set", "decided_by=张三"),
     "lina", "由流程填写，不可手填 new complaint: decided_by cannot be given: the step decide "
             "fills decided_by"),
    (("amend", "CC-2611-02", "--set", "decided_by=张三", "--reason", "改"), "lina",
     "由流程填写，不可手填 CC-2611-02: decided_by cannot be given: the step decide fills "
     "decided_by"),
    (("search", "**"), "lina",
     "'**': 通配符不能在词首 a word may not begin with * or ?"),
    (("search", "  "), "lina", "检索词为空 the query is empty"),
    (("users", "add", "lina", "--name", "李娜", "--department", "sales", "--reason", "入职"),
     "wangwen", "用户已存在 user 'lina' exists already"),
    (("users", "disable", "wangwen", "--reason", "离职"), "wangwen",
     "不能停用自己 you cannot disable yourself"),
    (("users", "grant", "lina", "sales", "--reason", "调岗"), "wangwen",
     "已有此角色 lina holds the role sales already"),
    (("amend", "CC-2611-02", "--set", "description=x", "--reason", " "), "lina",
     "--reason: 修改须填写原因 an amendment needs a reason"),
    (("show", "CC-2611-02"), "nobody", "--as: 无此用户 unknown user 'nobody'"),
], ids=["issue-to", "issue-copies", "issue-role", "return-unknown", "void-reason", "void-role",
        "transfer-to", "transfer-reason", "transfer-role", "status", "new-owned",
        "amend-owned", "search-leading-wildcard", "search-empty", "user-exists",
        "disable-self", "role-held", "amend-reason", "unknown-user"])
def test_a_refusal_is_one_line_chinese_first(root, args, user, line):
    """Review 18b and the review of session 9: these refusals were English only, or English
    first."""
    said = refusal(root, *args, user=user)
    assert said.startswith(line), said


def test_a_copy_returned_twice_is_refused_in_both_languages(root):
    ok(qrec(root, "forms", "issue", "complaint", "--to", "quality"))
    ok(qrec(root, "forms", "return", "QR-9.1.2-01-A0-001"))
    assert refusal(root, "forms", "return", "qr-9.1.2-01-a0-001") == \
        f"已回收 QR-9.1.2-01-A0-001 was returned on {TODAY}"


def test_void_and_transfer_refusals_name_every_record_chinese_first(root):
    assert listed_refusal(root, "void", "CC-2611-01", "--reason", "误建") == [
        "未作废（1 个问题）1 problem(s) in the void (nothing was voided):",
        "  - 已结案记录不可作废 CC-2611-01 is 已结案 Closed: only an open record is voided (a "
        "closed one stays as it was closed)"]
    assert listed_refusal(root, "transfer", "CC-2611-02", "--to", "档案室", "--reason",
                          "移交") == [
        "未移交（1 个问题）1 problem(s) in the transfer (nothing was transferred):",
        "  - 未结案 CC-2611-02 is open (已登记 Registered): an open record is never "
        "transferred"]
    assert listed_refusal(root, "dispose", "CC-2611-01", "--reason", "期满") == [
        "未销毁（1 个问题）1 problem(s) in the disposal (nothing was destroyed):",
        "  - 保存期未满 CC-2611-01 is retained until 2029-11-23 (3 years after closure on "
        "2026-11-23)"]
