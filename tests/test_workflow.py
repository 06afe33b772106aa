"""The forms' workflows, walked end to end through the CLI as the users who do each step, with
every refusal: wrong role, wrong state, missing field, authority by amount, amendment rules."""

from __future__ import annotations

import pytest

from tests.conftest import as_json, example


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


def review_all(run, number):
    """Every department that has not signed yet signs 'feasible'."""
    for user in ("zhaomin", "sunli", "zhouqiang"):  # quality, purchasing, warehouse
        ok(run("sign", number, "feasible", "--json", user=user))


def test_contract_review_from_draft_to_closed(run):
    number = new_contract(run)
    refused(step(run, "chengang", number, "submit"), "needs the role sales")
    refused(step(run, "lina", number, "approve"), "not allowed in state 草稿 Draft",
            "allowed now: submit")
    assert ok(step(run, "lina", number, "submit"))["status"] == "under_review"
    refused(step(run, "lina", number, "complete"),
            "waits for the sign-off of quality, purchasing, warehouse")
    review_all(run, number)
    assert ok(step(run, "lina", number, "complete"))["status"] == "reviewed"
    refused(step(run, "chengang", number, "approve", "--set", "conclusion=accept"),
            "amount 103,800.00", "needs the role sales_manager or general_manager")
    refused(step(run, "huangjun", number, "approve"), "needs conclusion filled first")
    approved = ok(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"))
    assert approved["status"] == "approved" and approved["status_label"] == "已批准 Approved"
    assert approved["data"]["approver"] == "黄军"
    assert approved["data"]["approval_date"] == "2026-11-23"
    # The PDF's draft watermark is gone once the record is approved; the form shows who.
    assert "草稿 DRAFT" in pdf_text(ok(run("show", number, "--version", "1", "--json")))
    approved_pdf = pdf_text(approved)
    assert "草稿 DRAFT" not in approved_pdf and "黄军" in approved_pdf
    assert "已批准 Approved" in approved_pdf
    refused(step(run, "lina", number, "close"), "needs a --comment")
    closed = ok(step(run, "lina", number, "close", "--comment", "合同履行完毕"))
    assert closed["status"] == "closed" and closed["holder"] is None
    refused(step(run, "lina", number, "close", "--comment", "again"),
            "not allowed in state 已关闭 Closed", "allowed now: none")


def test_an_objection_goes_back_to_sales_and_only_that_department_reviews_again(run):
    number = new_contract(run)
    ok(step(run, "lina", number, "submit"))
    objected = ok(run("sign", number, "不可行", "--comment", "交期不可行", "--json",
                      user="zhaomin"))
    assert objected["status"] == "objection" and objected["holder"] == "sales"
    refused(run("sign", number, "feasible", "--json", user="sunli"), "nothing to sign")
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


def test_above_the_limit_only_the_general_manager_approves(run):
    number = new_contract(run, "quantity=10000")  # 10,000 x 86.5 = 865,000 > 500,000
    ok(step(run, "lina", number, "submit"))
    review_all(run, number)
    ok(step(run, "lina", number, "complete"))
    refused(step(run, "huangjun", number, "approve", "--set", "conclusion=accept"),
            "amount 865,000.00 is above 500,000, so it needs the role general_manager")
    assert ok(step(run, "mazong", number, "approve", "--set",
                   "conclusion=accept"))["data"]["approver"] == "马总"


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
    decided = ok(step(run, "xulei", number, "decide"))
    assert decided["data"]["decided_by"] == "徐磊" and decided["status"] == "decided"
    refused(step(run, "zhaomin", number, "close"), "needs customer_accepted filled first")
    closed = ok(step(run, "zhaomin", number, "close", "--set", "customer_accepted=yes"))
    assert closed["status"] == "closed" and closed["data"]["closed_date"] == "2026-11-23"
    event = [e for e in ws.store.events(number) if e["action"] == "record.transition"][-1]
    assert event["detail"]["closed"] == "2026-11-23"
    # received 2026-11-16, domestic: due 13 days later, closed on day 7
    assert (event["detail"]["days_taken"], event["detail"]["due"], event["detail"]["late"]) \
        == (7, "2026-11-29", False)
    history = run("history", number).output
    for label in ("已登记 Registered", "调查中 Investigating", "已核决 Decided", "已结案 Closed"):
        assert label in history


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
