"""The verbs called directly, as a Python caller (or the web face) calls them: the unit of work
names its actor, results have their documented shapes, errors carry their parameter and the
status a web face answers with."""

from __future__ import annotations

import shutil

import pytest

from qrecords.api import deadlines, disposal, form_check, pdfs, records, reports, steps
from qrecords.api import search as api_search
from qrecords.api.versions import RecordView
from qrecords.errors import (Conflict, Disposed, FormError, Forbidden, NotFound, QrecError,
                             ValidationError, WorkflowError)
from qrecords.workspace import Workspace
from tests.conftest import as_user, load_example


def events(ws, action: str) -> list[dict]:
    return [e for e in ws.catalog.events() if e["action"] == action]


def test_the_actor_is_the_one_the_caller_names_never_the_environment(ws, monkeypatch):
    monkeypatch.setenv("QREC_USER", "lina")
    clerk = Workspace.open(ws.root, "zhangwei")
    try:
        made = records.new_record(clerk, "complaint", load_example("complaint"), pdf=False)
    finally:
        clerk.close()
    assert made["author"] == "zhangwei"
    assert ws.catalog.events(made["number"])[0]["actor"] == "zhangwei"
    with pytest.raises(NotFound, match="unknown user 'nobody'") as refused:
        Workspace.open(ws.root, "nobody")
    assert refused.value.param == "user" and refused.value.http_status == 404


def test_a_record_view_has_the_documented_shape(ws):
    lina = as_user(ws, "lina")
    made = records.new_record(lina, "complaint", load_example("complaint"), pdf=False)
    assert set(made) == set(RecordView.__annotations__)
    assert (made["number"], made["version"], made["status"]) == ("CC-2611-01", 1, "registered")
    changed = records.amend(lina, "CC-2611-01", {"defective_quantity": 15}, "客户复点", pdf=False)
    assert changed["version"] == 2 and changed["reason"] == "客户复点"
    story = records.history(lina, "CC-2611-01")
    assert [(s["version"], s["changed"]) for s in story] == [(1, []),
                                                               (2, ["defective_quantity"])]
    assert records.diff(lina, "CC-2611-01")["changes"][0]["to"] == "15"


def test_sensitive_values_are_masked_or_shown_and_logged_below_the_faces(ws):
    lina, clerk = as_user(ws, "lina"), as_user(ws, "zhangwei")
    number = records.new_record(lina, "complaint", load_example("complaint"), pdf=False)["number"]
    before = len(events(ws, "record.sensitive_read"))
    assert records.show(clerk, number)["data"]["customer_phone"] == "***"
    assert len(events(ws, "record.sensitive_read")) == before
    assert records.show(lina, number)["data"]["customer_phone"] == "138 0000 1234"
    logged = events(ws, "record.sensitive_read")
    assert len(logged) == before + 1 and logged[-1]["actor"] == "lina"


def test_a_follow_up_shows_copied_personal_data_only_as_a_read(ws, monkeypatch):
    lina = as_user(ws, "lina")
    number = records.new_record(lina, "complaint", load_example("complaint"), pdf=False)["number"]
    for user, action, fields in [
            ("zhaomin", "investigate", {}),
            ("zhaomin", "assign", {"cause_analysis": "包装不足",
                                   "responsible_department": "quality"}),
            ("lina", "propose", {"countermeasure": "改包装", "disposition": "credit",
                                 "disposition_amount": "3000"}),
            ("huangjun", "decide", {}), ("zhaomin", "close", {"customer_accepted": "no"})]:
        steps.transition(as_user(ws, user), number, action, fields, pdf=False)
    follow = records.new_record(as_user(ws, "zhangwei"), "complaint",
                                {"received_date": "2026-11-23", "market": "domestic",
                                 "description": "客户不接受"}, follows=number, pdf=False)
    assert follow["data"]["customer_contact"] == "***"
    assert follow["data"]["customer"] == load_example("complaint")["customer"]


def test_errors_name_their_parameter_and_web_status(ws):
    lina = as_user(ws, "lina")
    number = records.new_record(lina, "complaint", load_example("complaint"), pdf=False)["number"]
    with pytest.raises(QrecError) as no_reason:
        records.amend(lina, number, {"product": "x"}, "  ")
    assert no_reason.value.param == "reason" and no_reason.value.http_status == 400
    with pytest.raises(Conflict, match="nothing changed") as same:
        records.amend(lina, number, {"market": "domestic"}, "同值")
    assert same.value.http_status == 409
    with pytest.raises(Forbidden) as forbidden:
        disposal.hold(lina, [number], "诉讼", place=True)
    assert forbidden.value.http_status == 403 and "document_controller" in str(forbidden.value)
    with pytest.raises(WorkflowError) as step:  # quality may take it, but not now
        steps.transition(as_user(ws, "zhaomin"), number, "close_unfounded")
    assert step.value.http_status == 409
    with pytest.raises(Forbidden):  # not said to need a reason first (it did)
        steps.transition(lina, number, "close_unfounded")
    with pytest.raises(ValidationError) as invalid:
        records.new_record(lina, "complaint", {"market": "月球"}, pdf=False)
    assert invalid.value.http_status == 422 and len(invalid.value.problems) >= 3
    with pytest.raises(NotFound) as missing:
        records.show(lina, "CC-2611-99")
    assert missing.value.http_status == 404 and missing.value.param == "number"
    assert Disposed.http_status == 410


def test_verbs_of_every_concern_answer_in_their_shapes(ws):
    lina = as_user(ws, "lina")
    records.new_record(lina, "complaint", load_example("complaint"), pdf=False)
    assert [s["action"] for s in steps.actions(as_user(ws, "zhaomin"), "CC-2611-01")] == \
        ["investigate", "close_unfounded"]
    assert deadlines.overdue(lina) == []
    assert [m["number"] for m in pdfs.missing_pdfs(lina)] == ["CC-2611-01"]
    found = api_search.search(lina, "华东")
    assert found["total"] == 1 and found["hits"][0]["number"] == "CC-2611-01"
    assert {row["form"] for row in disposal.status(ws)} == set(ws.forms.ids())
    assert form_check.check_form(ws, "complaint")["errors"] == []


def test_forms_check_sees_the_fields_the_statistics_read(ws):
    schema = ws.root / "schemas" / "complaint.yaml"
    text = schema.read_text(encoding="utf-8")
    schema.write_text(text.replace("id: responsible_department", "id: duty_department")
                      .replace("responsible_department", "duty_department"), encoding="utf-8")
    fresh = Workspace.open(ws.root, "wangwen")
    try:
        problems = form_check.check_form(fresh, "complaint")["errors"]
        assert any("report complaints: field 'responsible_department' (choice) is missing" in p
                   for p in problems), problems
        with pytest.raises(FormError, match="responsible_department"):
            reports.complaint_statistics(fresh, "2026-11")
    finally:
        fresh.close()


def test_a_copied_workspace_keeps_its_forms_frozen(ws, tmp_path):
    records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    ws.close()
    shutil.copytree(ws.root, tmp_path / "copy")
    copy = Workspace.open(tmp_path / "copy", "lina")
    try:
        assert copy.form_of("CC-2611-01").revision == "A/0"
        assert copy.files.exists("complaint/CC-2611-01/CC-2611-01_v1.docx")
    finally:
        copy.close()
