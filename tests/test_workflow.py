"""The forms' workflows, walked end to end through the CLI as the users who do each step, with
every refusal: wrong role, wrong state, missing field, authority by amount, amendment rules."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import as_json, example


def signed_by(cell: str, name_and_meaning: str) -> bool:
    """A sign-off cell holds the electronic signature: printed name, meaning, local time."""
    return re.fullmatch(rf"{name_and_meaning} \d\d:\d\d", cell) is not None


def pdf_text(record: dict) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(record["files"]["pdf"]).pages)


def step(run, user, number, action, *more):
    return run("do", number, action, *more, "--json", user=user)


def refused(result, *expected) -> str:
    assert result.exit_code == 1, result.output
    message = result.stderr
    assert message.startswith("Error: ") and message.count("\n") == 1, message
    for text in expected:
        assert text in message, message
    return message


def ok(result) -> dict:
    return as_json(result)


def new_contract(run, *sets) -> str:
    args = [f"--set={s}" for s in sets]
    return ok(run("new", "contract_review", "--data", example("contract_review"), *args,
                  "--json"))["number"]


# Who signs for each department of the contract review.
SIGNERS = {"sales": "lina", "technical": "chengang", "production": "liuyang",
           "quality": "zhaomin", "purchasing": "sunli", "warehouse": "zhouqiang"}


def sign_as(run, number, *departments):
    for department in departments:
        ok(run("sign", number, "feasible", "--json", user=SIGNERS[department]))


def review_all(run, number):
    """Every department that has not signed yet signs 'feasible'."""
    signed = ok(run("show", number, "--json"))["data"]["department_reviews"] or []
    done = {row["department"] for row in signed if row.get("opinion")}
    sign_as(run, number, *(d for d in SIGNERS if d not in done))


def test_contract_review_from_draft_to_closed(run):
    number = new_contract(run)
    refused(step(run, "chengang", number, "submit"), "needs the role sales")
    refused(step(run, "lina", number, "approve"), "not allowed in state 草稿 Draft",
            "allowed now: submit")
    assert ok(step(run, "lina", number, "submit"))["status"] == "under_review"
    sign_as(run, number, "sales", "technical", "production")
    refused(step(run, "lina", number, "complete"),
            "waits for the sign-off of quality, purchasing, warehouse")
    review_all(run, number)
    assert ok(step(run, "lina", number, "complete"))["status"] == "reviewed"
    refused(step(run, "chengang", number, "approve", "--set", "conclusion=accept"),
            "amount 103,800.00", "needs the role sales_manager or general_manager")
    refused(step(run, "huangjun", number, "approve"), "needs conclusion filled first")
    approved = ok(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"))
    assert approved["status"] == "approved" and approved["status_label"] == "已批准 Approved"
    # the sign-off row shows the electronic signature: name, meaning, local time
    assert signed_by(approved["data"]["approver"], "黄军 批准")
    assert approved["data"]["approval_date"] == "2026-11-23"
    # The PDF's draft watermark is gone once the record is approved; the form shows who.
    assert "草稿 DRAFT" in pdf_text(ok(run("show", number, "--version", "1", "--json")))
    approved_pdf = pdf_text(approved)
    assert "草稿 DRAFT" not in approved_pdf and "黄军" in approved_pdf
    assert "已批准 Approved" in approved_pdf
    refused(step(run, "lina", number, "close"), "needs a comment")
    closed = ok(step(run, "lina", number, "close", "--comment", "合同履行完毕"))
    assert closed["status"] == "closed" and closed["holder"] is None
    refused(step(run, "lina", number, "close", "--comment", "again"),
            "not allowed in state 已关闭 Closed", "allowed now: none")
    refused(run("amend", number, "--set", "product=X", "--reason", "x"),
            "a closed record is not amended")


def test_an_objection_goes_back_to_sales_and_only_that_department_reviews_again(run):
    number = new_contract(run)
    ok(step(run, "lina", number, "submit"))
    sign_as(run, number, "sales", "technical", "production")
    refused(run("sign", number, "不可行", user="zhaomin"), "not_feasible needs a comment")
    objected = ok(run("sign", number, "不可行", "--comment", "交期不可行", "--json",
                      user="zhaomin"))
    assert objected["status"] == "objection" and objected["holder"] == "sales"
    refused(run("sign", number, "feasible", "--json", user="sunli"), "nothing to sign")
    refused(step(run, "lina", number, "complete"), "not allowed in state 异议处理中",
            "allowed now: none; amend the record to send it to 评审中")
    assert [(s["action"], s["to"]) for s in as_json(run("do", number, "--json"))] == [
        ("amend", "under_review")]
    refused(run("amend", number, "--set", "delivery_date=2027-03-01", "--reason", "我定的",
                user="liuyang"), "amending needs the role sales or sales_manager; liuyang has "
            "reviewer")
    amended = ok(run("amend", number, "--set", "delivery_date=2027-01-20", "--reason",
                     "与客户协商延期交货", "--json"))
    assert amended["status"] == "under_review"
    rows = {r["department"]: r for r in amended["data"]["department_reviews"]}
    assert "opinion" not in rows["quality"] and rows["technical"]["opinion"] == "feasible"
    refused(step(run, "lina", number, "complete"), "sign-off of quality, purchasing")
    review_all(run, number)
    assert ok(step(run, "lina", number, "complete"))["status"] == "reviewed"


def test_signing_is_for_your_own_department_only(run):
    number = new_contract(run)
    ok(step(run, "lina", number, "submit"))
    refused(run("sign", number, "feasible", user="mazong"),
            "department management does not sign department_reviews")
    refused(run("sign", number, "maybe", user="zhaomin"), "decision")
    refused(run("sign", number, "feasible", user="zhangwei"),
            "signing department_reviews needs the role reviewer or quality or sales or "
            "sales_manager; zhangwei has service")
    refused(run("sign", number, "conditional", user="chengang"),
            "the decision conditional needs a comment")
    refused(run("sign", number, "not_feasible", "--comment", "   ", user="chengang"),
            "the decision not_feasible needs a comment")
    sign_as(run, number, "technical")
    refused(run("sign", number, "not_feasible", "--comment", "改主意", user="chengang"),
            "technical has already signed (feasible, 陈刚 审核 ", ", 2026-11-23)",
            "an amendment re-opens the review")


def test_above_the_limit_only_the_general_manager_approves(run):
    number = new_contract(run, "quantity=10000")  # 10,000 x 86.5 = 865,000 > 500,000
    ok(step(run, "lina", number, "submit"))
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    refused(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"),
            "amount 865,000.00 is above 500,000, so it needs the role general_manager")
    assert signed_by(ok(step(run, "mazong", number, "approve", "--set",
                             "conclusion=accept"))["data"]["approver"], "马总 批准")


def _approved(run, *sets) -> str:
    number = new_contract(run, *sets)
    ok(step(run, "lina", number, "submit"))
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    ok(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"))
    return number


def test_a_repeat_order_keeps_its_approval_when_only_quantity_date_or_price_change(run):
    number = _approved(run, "repeat_order=yes")
    kept = ok(run("amend", number, "--set", "quantity=1500", "--set", "unit_price=80",
                  "--reason", "客户追加数量", "--json"))
    assert kept["status"] == "approved" and kept["data"]["amount"] == "120000.00"
    reviewed = ok(run("amend", number, "--set", "specification=改用阻燃面料", "--reason",
                      "规格变更", "--json"))
    assert reviewed["status"] == "under_review"
    assert all("opinion" not in row for row in reviewed["data"]["department_reviews"])
    # approved again from scratch: the earlier approval does not carry over
    assert [reviewed["data"][f] for f in ("conclusion", "approver", "approval_date")] == \
        [None, None, None]


def test_a_repeat_order_beyond_its_approvers_authority_is_reviewed_again(run):
    number = _approved(run, "repeat_order=yes")  # 103,800 approved by the sales manager
    above = ok(run("amend", number, "--set", "quantity=6000", "--reason", "客户追加数量",
                   "--json"))  # 519,000: above the sales manager's 500,000
    assert above["status"] == "under_review" and above["data"]["approver"] is None
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    refused(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"),
            "needs the role general_manager")
    ok(step(run, "mazong", number, "approve", "--set", "conclusion=accept"))
    kept = ok(run("amend", number, "--set", "quantity=7000", "--reason", "再追加", "--json"))
    assert kept["status"] == "approved" and signed_by(kept["data"]["approver"], "马总 批准")


def test_a_rejecting_conclusion_declines_the_order_instead_of_approving_it(run, ws):
    number = new_contract(run)
    ok(step(run, "lina", number, "submit"))
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    refused(step(run, "huangjun", number, "approve", "--set", "conclusion=reject"),
            "approve 条件不符 is only for records whose conclusion is 接受 Accept or 有条件接受")
    refused(step(run, "huangjun", number, "decline", "--set", "conclusion=reject"),
            "decline needs a comment")
    declined = ok(step(run, "huangjun", number, "decline", "--set", "conclusion=reject",
                       "--comment", "交期无法满足"))
    assert (declined["status"], declined["status_label"]) == ("declined", "不接受 Declined")
    assert declined["closed_on"] == "2026-11-23" and declined["retention_until"] == "2029-11-23"


def test_approval_needs_an_amount(run):
    number = new_contract(run, "unit_price=")
    ok(step(run, "lina", number, "submit"))
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    refused(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"),
            "approve 缺少字段 needs amount filled first")


def test_a_change_during_the_review_asks_the_signed_departments_again(run):
    number = new_contract(run)
    ok(step(run, "lina", number, "submit"))
    sign_as(run, number, "sales", "technical")
    changed = ok(run("amend", number, "--set", "packaging=木箱", "--reason", "客户要求",
                     "--json"))
    assert changed["status"] == "under_review"
    assert all("opinion" not in row for row in changed["data"]["department_reviews"])


def test_any_change_after_approval_of_a_new_order_reopens_the_review(run):
    number = _approved(run)  # repeat_order: no
    reopened = ok(run("amend", number, "--set", "quantity=1300", "--reason", "数量调整",
                      "--json"))
    assert reopened["status"] == "under_review"
    assert all("opinion" not in row for row in reopened["data"]["department_reviews"])


def new_complaint(run, *sets) -> str:
    return ok(run("new", "complaint", "--data", example("complaint"),
                  *[f"--set={s}" for s in sets], "--json"))["number"]


def test_complaint_from_registration_to_closure(run, ws):
    number = new_complaint(run)
    refused(step(run, "lina", number, "investigate"), "needs the role quality")
    ok(step(run, "zhaomin", number, "investigate"))
    refused(step(run, "zhaomin", number, "assign"),
            "needs cause_analysis, responsible_department filled first")
    held = ok(step(run, "zhaomin", number, "assign", "--set", "cause_analysis=纸箱强度不足",
                   "--set", "responsible_department=production"))
    assert (held["status"], held["holder"]) == ("countermeasure", "production")
    assert held["data"]["investigator"] == "赵敏"
    ok(step(run, "lina", number, "propose", "--set", "countermeasure=改用五层瓦楞纸箱",
            "--set", "disposition=credit", "--set", "disposition_amount=20000"))
    refused(step(run, "huangjun", number, "decide"), "disposition_amount 20,000",
            "above 5,000", "needs the role deputy_general_manager or general_manager")
    refused(step(run, "xulei", number, "decide", "--set", "decided_by=马总"),
            "decided_by cannot be given", "the step decide fills decided_by")
    refused(step(run, "huangjun", number, "decide", "--set", "disposition_amount=100"),
            "decide takes disposition; change disposition_amount with an amendment")
    decided = ok(step(run, "xulei", number, "decide"))
    assert signed_by(decided["data"]["decided_by"], "徐磊 核决") and decided["status"] == "decided"
    # the decision stands for a change elsewhere; a new amount needs a new decision
    assert ok(run("amend", number, "--set", "defective_quantity=13", "--reason", "复点",
                  "--json"))["status"] == "decided"
    redo = ok(run("amend", number, "--set", "disposition_amount=60000", "--reason",
                  "客户索赔增加", "--json"))
    assert redo["status"] == "proposed" and redo["data"]["decided_by"] is None
    refused(step(run, "xulei", number, "decide"), "above 50,000", "general_manager")
    ok(step(run, "mazong", number, "decide"))
    refused(step(run, "zhaomin", number, "close"), "needs customer_accepted filled first")
    closed = ok(step(run, "zhaomin", number, "close", "--set", "customer_accepted=yes"))
    assert closed["status"] == "closed" and closed["data"]["closed_date"] == "2026-11-23"
    event = [e for e in ws.catalog.events(number) if e["action"] == "record.transition"][-1]
    assert event["detail"]["closed"] == "2026-11-23"
    # received 2026-11-16, domestic: due 13 days later, closed on day 7
    assert (event["detail"]["days_taken"], event["detail"]["due"], event["detail"]["late"]) \
        == (7, "2026-11-29", False)
    history = run("history", number).output
    for label in ("已登记 Registered", "调查中 Investigating", "已核决 Decided", "已结案 Closed",
                  "开始调查 Start the", "核决 Decide"):
        assert label in history
    story = as_json(run("history", number, "--json"))
    assert [v["what"] for v in story][:2] == ["新建 Created", "开始调查 Start the investigation"]


def test_an_unfounded_complaint_closes_with_its_reason(run):
    number = new_complaint(run)
    ok(step(run, "zhaomin", number, "investigate"))
    refused(step(run, "zhaomin", number, "close_unfounded", "--comment", "x"),
            "only for records whose disposition is 投诉不成立 Complaint unfounded")
    closed = ok(step(run, "zhaomin", number, "close_unfounded", "--set",
                     "disposition=unfounded", "--comment", "客户安装不当所致，非产品质量问题"))
    assert closed["status"] == "closed" and closed["reason"].startswith("客户安装不当")


def test_without_an_action_do_lists_the_steps_possible_now(run):
    number = new_complaint(run)
    steps = as_json(run("do", number, "--json", user="lina"))
    assert [(s["action"], s["problem"] is None) for s in steps] == [
        ("investigate", False), ("close_unfounded", False)]
    text = run("do", number, user="zhaomin").output
    assert "investigate" in text and "开始调查 Start the investigation" in text


def test_unknown_steps_are_refused_with_the_known_ones(run):
    number = new_complaint(run)
    refused(run("do", number, "investgate", user="zhaomin"), "no step 'investgate'",
            "did you mean 'investigate'", "allowed now: investigate, close_unfounded")


@pytest.mark.parametrize("bad", ["workflow: [1]", "workflow: {states: []}",
                                 "workflow: {states: [{id: a, zh: 甲, en: A}], transitions: "
                                 "[{id: go, zh: 走, en: Go, from: [a], to: b}]}"])
def test_a_malformed_workflow_is_named_by_forms_check(ws, run, bad):
    path = ws.root / "schemas" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("workflow:")] + bad + "\n", encoding="utf-8")
    result = run("forms", "check", "complaint")
    assert result.exit_code == 1 and "workflow" in result.output


@pytest.mark.parametrize("old, new, expected", [
    ("{up_to: limits.complaint_sales_manager, roles: [sales_manager]}",
     "{upto: limits.complaint_sales_manager, roles: [sales_manager]}",
     "authority.levels #1: unknown key 'upto' (did you mean 'up_to'?)"),
    ("up_to: limits.complaint_sales_manager,", "up_to: lots,", "'lots' is not an amount"),
    ("up_to: limits.complaint_sales_manager,", "up_to: -5,", "'-5' is not an amount"),
    ("field: disposition_amount\n", "field: disposition_amount\n        levls: []\n",
     "authority: unknown key 'levls' (did you mean 'levels'?)"),
    ("values: {domestic: 13, foreign: 17}", "values: {domestic: 13, foreign: x}",
     "days.values.foreign: 'x' is not a whole number of days"),
    ("values: {domestic: 13, foreign: 17}", "values: {domestic: 0, foreign: 17}",
     "days.values.domestic: '0' is not a whole number of days"),
    ("    field: follows\n", "    field: follows\n    cpoy: []\n",
     "follow_up: unknown key 'cpoy' (did you mean 'copy'?)"),
    ("{id: investigate, zh: 开始调查", "{id: assign, zh: 开始调查",
     "workflow.transitions: id 'assign' is used twice"),
    ("inputs: [category]", "inputs: [investigator]",
     "'investigator' is written by the workflow, not given"),
    ("inputs: [disposition_amount, production_unit", "inputs: [production_unit",
     None),  # a sound change: no problem
    ("{state: [decided], changed: [disposition, disposition_amount]",
     "{state: [decided], changed: [dispositon, disposition_amount]",
     "changed: 'dispositon' is not one of"),
])
def test_workflow_mistakes_are_named_by_forms_check(ws, run, old, new, expected):
    path = ws.root / "schemas" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run("forms", "check", "complaint")
    if expected is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and expected in result.output, result.output


def test_forms_check_names_roles_and_limits_the_workspace_lacks(ws, run):
    path = ws.root / "schemas" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("roles: [deputy_general_manager]", "roles: [deputy_manager]")
                    .replace("limits.complaint_sales_manager", "limits.complaint_sales"),
                    encoding="utf-8")
    output = run("forms", "check", "complaint").output
    assert "role 'deputy_manager' is held by no enabled user (qrec users) (did you mean " \
           "'deputy_general_manager'?)" in output, output
    assert "limits.complaint_sales is not set in qrecords.yaml" in output, output


def test_overdue_lists_exactly_the_late_open_cases_and_remind_makes_one_reminder_each(
        run, ws, monkeypatch):
    late = new_complaint(run)                        # domestic, received 11-16: due 11-29
    foreign = new_complaint(run, "market=foreign")   # due 12-03
    done = new_complaint(run)                        # closed before it was due
    ok(step(run, "zhaomin", done, "close_unfounded", "--set", "disposition=unfounded",
            "--comment", "非质量问题"))
    ok(step(run, "zhaomin", late, "investigate"))
    assert as_json(run("overdue", "--json")) == []  # 2026-11-23: nothing is late yet

    monkeypatch.setenv("QREC_TODAY", "2026-12-02")
    cases = as_json(run("overdue", "--json"))
    assert [(c["number"], c["days_overdue"], c["holder"], c["due_date"]) for c in cases] == [
        (late, 3, "quality", "2026-11-29")]
    monkeypatch.setenv("QREC_TODAY", "2026-12-05")
    assert [(c["number"], c["days_overdue"]) for c in as_json(run("overdue", "--json"))] == [
        (late, 6), (foreign, 2)]

    monkeypatch.setenv("QREC_TODAY", "2026-12-02")
    made = as_json(run("remind", "--json", user="wangwen"))
    assert [(m["number"], m["made"]) for m in made] == [(late, True)]
    from tests.render.docx_text import docx_text

    text = docx_text(made[0]["docx"])
    for expected in ("催办单", late, "3 天 days", "质量部 Quality", "调查中 Investigating",
                     "2026-11-29", "王文"):
        assert expected in text, expected
    assert "逾期 3 天" in pdf_text({"files": {"pdf": made[0]["pdf"]}})
    events = [e for e in ws.catalog.events(late) if e["action"] == "reminder.made"]
    import hashlib
    from pathlib import Path

    assert events[0]["detail"]["files"]["docx"] == \
        hashlib.sha256(Path(made[0]["docx"]).read_bytes()).hexdigest()
    again = as_json(run("remind", "--json", user="wangwen"))
    assert [m["made"] for m in again] == [False]  # one reminder per case and day
    assert len([e for e in ws.catalog.events(late) if e["action"] == "reminder.made"]) == 1


def test_letters_whose_pdf_failed_get_it_later(run, ws, monkeypatch, no_libreoffice):
    late = new_complaint(run)
    monkeypatch.setenv("QREC_TODAY", "2026-12-02")
    result = run("remind", "--json", user="wangwen")
    assert "no PDF made" in result.stderr and "`qrec remind` makes it later" in result.stderr
    assert as_json(result)[0]["pdf"] is None
    number = ok(run("new", "customer_property", "--data", example("customer_property"),
                    "--set", "inspection_result=fail", "--json"))["number"]
    result = run("do", number, "reject", user="zhaomin")
    assert f"`qrec render {number} --version 2` makes it later" in result.stderr

    monkeypatch.delenv("QREC_SOFFICE")  # LibreOffice is back
    again = as_json(run("remind", "--json", user="wangwen"))
    assert again[0]["made"] is False and "逾期 3 天" in pdf_text({"files": again[0]})
    ok(run("render", number, "--version", "2", "--json"))
    from pathlib import Path

    notice = ws.root / "records" / "customer_property" / number / \
        f"{number}_nonconformity_notice_v2.pdf"
    assert "不合格通知单" in pdf_text({"files": {"pdf": str(notice)}})
    made = [{k: v for k, v in e["detail"].items() if k not in ("authority", "demo")}
            for e in ws.catalog.events() if e["action"] == "file.pdf_made"
            and ("reminder" in e["detail"] or "document" in e["detail"])]
    assert [sorted(d) for d in made] == [["files", "reminder", "written"],
                                         ["document", "files", "written"]]
    for detail in made:  # each names the file it wrote, relative to records/
        assert [(ws.root / "records" / path).exists() for path in detail["written"]] == [True]
    assert made[1]["files"]["pdf"] == hashlib.sha256(Path(notice).read_bytes()).hexdigest()
    assert late in made[0]["reminder"]


def test_a_rejected_outcome_opens_a_follow_up_complaint(run):
    number = new_complaint(run)
    refused(run("new", "complaint", "--follows", number, "--set", "description=客户不接受"),
            f"{number} is still open")
    ok(step(run, "zhaomin", number, "investigate"))
    ok(step(run, "zhaomin", number, "assign", "--set", "cause_analysis=包装不足", "--set",
            "responsible_department=production"))
    ok(step(run, "lina", number, "propose", "--set", "countermeasure=改包装", "--set",
            "disposition=replacement"))
    refused(step(run, "huangjun", number, "decide"), "needs disposition_amount filled first",
            "give 0 when no money is involved")
    ok(run("amend", number, "--set", "disposition_amount=0", "--reason", "换货，无金额",
           "--json"))
    ok(step(run, "huangjun", number, "decide"))
    ok(step(run, "zhaomin", number, "close", "--set", "customer_accepted=yes"))
    refused(run("new", "complaint", "--follows", number, "--set", "description=客户不接受"),
            "a follow-up opens only when customer_accepted is 否 No")

    rejected = new_complaint(run)
    for user, action, *sets in [
            ("zhaomin", "investigate"),
            ("zhaomin", "assign", "cause_analysis=包装不足", "responsible_department=quality"),
            ("lina", "propose", "countermeasure=改包装", "disposition=credit",
             "disposition_amount=3000"),
            ("huangjun", "decide"), ("zhaomin", "close", "customer_accepted=no")]:
        ok(step(run, user, rejected, action, *[f"--set={s}" for s in sets]))
    follow = ok(run("new", "complaint", "--follows", rejected, "--set",
                    "description=客户不接受折让，要求退货", "--set", "received_date=2026-11-23",
                    "--json"))
    assert follow["data"]["follows"] == rejected and follow["status"] == "registered"
    assert follow["data"]["customer"] == "华东电力设备有限公司"
    assert follow["data"]["part_no"] == "PCB-4451-A"
    refused(run("new", "complaint", "--follows", rejected, "--set", "description=再次"),
            f"{rejected} is already followed up by {follow['number']}")


def test_customer_property_incident_needs_the_customer_notified_date(run, ws):
    number = ok(run("new", "customer_property", "--data", example("customer_property"),
                    "--set", "inspection_result=fail", "--json"))["number"]
    refused(step(run, "zhaomin", number, "inspect"),
            "only for records whose inspection_result is 合格 Pass")
    rejected = ok(step(run, "zhaomin", number, "reject"))
    assert (rejected["status"], rejected["holder"]) == ("nonconforming", "sales")
    # A failed inspection produces the nonconformity notice for the customer.
    from pathlib import Path

    from tests.render.docx_text import docx_text

    notice = Path(rejected["files"]["docx"]).with_name(f"{number}_nonconformity_notice_v2.docx")
    text = docx_text(notice)
    for expected in ("不合格通知单 Nonconformity notice", "顾客 Customer",
                     "苏州明辉电子科技有限公司",
                     "模具表面轻微锈蚀", "不合格 Fail", "赵敏"):
        assert expected in text, expected
    assert "不合格通知单" in pdf_text({"files": {"pdf": str(notice.with_suffix(".pdf"))}})
    event = [e for e in ws.catalog.events(number) if e["action"] == "record.transition"][-1]
    import hashlib

    assert event["detail"]["produced"]["sha256"] == hashlib.sha256(notice.read_bytes()).hexdigest()
    ok(step(run, "lina", number, "accept", "--comment", "顾客书面同意使用"))
    refused(step(run, "zhouqiang", number, "report_incident"), "needs incidents filled first")
    incident = '[{incident_date: 2026-11-22, item_no: 2, incident_type: damaged}]'
    ok(step(run, "zhouqiang", number, "report_incident", "--set", f"incidents={incident}"))
    refused(step(run, "zhouqiang", number, "resolve"),
            "needs incidents.customer_notified_date filled first")
    notified = ('[{incident_date: 2026-11-22, item_no: 2, incident_type: damaged, '
                'customer_notified_date: 2026-11-23}]')
    assert ok(step(run, "zhouqiang", number, "resolve", "--set",
                   f"incidents={notified}"))["status"] == "in_custody"
    # an incident recorded by amendment also waits for the customer to be told
    lost = ('[{incident_date: 2026-11-23, item_no: 1, incident_type: lost}]')
    assert ok(run("amend", number, "--set", f"incidents={lost}", "--reason", "盘点短少",
                  "--json", user="zhouqiang"))["status"] == "incident"
    refused(step(run, "zhouqiang", number, "return", "--set", "return_date=2026-11-23"),
            "not allowed in state 异常 Incident", "allowed now: resolve")
    ok(step(run, "zhouqiang", number, "resolve", "--set",
            "incidents=" + lost.replace("lost}", "lost, customer_notified_date: 2026-11-23}")))
    returned = ok(step(run, "zhouqiang", number, "return", "--set", "return_date=2026-11-23",
                       "--set", "return_method=returned", "--set", "returned_to=周敏"))
    assert returned["data"]["returned_to"] == "周敏"
    assert ok(step(run, "wangwen", number, "close"))["status"] == "closed"
