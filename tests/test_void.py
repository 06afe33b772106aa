"""Voiding 作废 (issue 18): a record issued by mistake is voided by the document controller
with a reason, from any open state, for every form and every form revision; a new version in
the void state, chained and signed, marked 作废 VOID on its DOCX and PDF, out of the overdue
lists, retained from the void date; and `qrec verify` agrees."""

from __future__ import annotations

import pytest

from qrecords.api import records, void
from qrecords.errors import NotAuthenticated, ValidationError
from tests.conftest import as_json, example, load_example, open_workspace, snapshot
from tests.render.docx_text import docx_text
from tests.test_identity import PASSWORD, qrec, set_password
from tests.test_workflow import pdf_text, refused


def refused_listing(result, *expected) -> str:
    """A refusal that lists every record at fault (ValidationError), nothing else printed."""
    assert result.exit_code == 1 and result.stdout == "", result.output
    assert result.stderr.startswith("Error: "), result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def new_complaint(run, received: str = "2026-11-20") -> str:
    return as_json(run("new", "complaint", "--data", example("complaint"), "--set",
                       f"received_date={received}", "--json"))["number"]


def test_a_void_is_a_signed_version_in_the_void_state_marked_void(run, ws):
    number = new_complaint(run)
    as_json(run("do", number, "investigate", "--json", user="zhaomin"))
    voided = as_json(run("void", number, "--reason", "重复登记", "--json", user="wangwen"))
    [record] = voided
    assert (record["number"], record["version"], record["status"], record["status_label"]) \
        == (number, 3, "void", "作废 Void")
    assert record["data"] == as_json(run("show", number, "--version", "2", "--json"))["data"]
    # The mark on the new version's documents, and only there.
    assert "作废 VOID" in docx_text(record["files"]["docx"])
    assert "作废" in pdf_text(record) and "VOID" in pdf_text(record)
    earlier = as_json(run("show", number, "--version", "2", "--json"))
    assert "作废" not in docx_text(earlier["files"]["docx"]) and "DRAFT" in pdf_text(earlier)
    # Its history: the step, who, why, and the electronic signature of the version voided.
    story = as_json(run("history", number, "--json"))
    assert [(v["what"], v["author"], v["reason"]) for v in story][-1] == \
        ("作废 Voided", "wangwen", "重复登记")
    signed = story[-1]["signature"]
    assert signed["meaning"] == "作废 voided" and signed["signer"] == "wangwen"
    assert signed["signed"][number]["version"] == 2
    [event] = [e for e in ws.catalog.events(number) if e["action"] == "record.voided"]
    assert (event["detail"]["from"], event["detail"]["to"]) == ("investigating", "void")
    assert as_json(run("search", "status:void", "--json"))["hits"][0]["number"] == number
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_a_void_record_is_final_and_only_the_controller_voids_open_records(run, ws):
    number = new_complaint(run)
    refused(run("void", number, "--reason", "x", user="lina"),
            "voiding a record needs the role document_controller; lina has sales")
    run("void", number, "--reason", "误建", user="wangwen")
    refused_listing(run("void", number, "--reason", "x", user="wangwen"),
                    f"{number} is already void (作废 Void)")
    refused(run("amend", number, "--set", "product=x", "--reason", "x"),
            f"{number} is 作废 Void: a void record is not amended")
    refused(run("do", number, "investigate", user="zhaomin"),
            "not allowed in state 作废 Void; allowed now: none (it is final)")
    refused(run("new", "complaint", "--follows", number, "--set", "description=x"),
            f"{number} is 作废 Void: a void record is not followed up")

    closed = new_complaint(run)
    run("do", closed, "close_unfounded", "--set", "disposition=unfounded", "--comment", "x",
        user="zhaomin")
    refused_listing(run("void", closed, "--reason", "x", user="wangwen"),
                    f"{closed} is 已结案 Closed: only an open record is voided")


def test_several_records_are_voided_all_or_none(run, ws):
    first, second = new_complaint(run), new_complaint(run)
    run("do", second, "close_unfounded", "--set", "disposition=unfounded", "--comment", "x",
        user="zhaomin")
    before = snapshot(ws.root)
    message = refused_listing(run("void", first, second, "--reason", "误建", user="wangwen"),
                              "未作废（1 个问题）1 problem(s) in the void (nothing was voided)", second)
    assert first not in message
    assert snapshot(ws.root) == before
    done = as_json(run("void", first, "--reason", "误建", "--json", user="wangwen"))
    assert [r["number"] for r in done] == [first]


def test_a_void_leaves_the_overdue_list(run, monkeypatch):
    late = new_complaint(run, "2026-11-01")  # domestic: due 2026-11-14
    monkeypatch.setenv("QREC_TODAY", "2026-11-23")
    assert [c["number"] for c in as_json(run("overdue", "--json"))] == [late]
    run("void", late, "--reason", "客户撤回，登记有误", user="wangwen")
    assert as_json(run("overdue", "--json")) == []
    assert as_json(run("remind", "--json", user="wangwen")) == []


def test_retention_runs_from_the_void_date_whatever_the_policy_says(run, ws, monkeypatch):
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "retention: {period: 3y, from: closure, action: destroy}",
        "retention: {period: 2y, from: field:received_date, action: destroy}").replace(
        "revision: A/0", "revision: A/1"), encoding="utf-8")
    number = new_complaint(run, "2026-11-02")
    assert as_json(run("show", number, "--json"))["retention_until"] == "2028-11-02"
    monkeypatch.setenv("QREC_TODAY", "2026-11-25")
    [voided] = as_json(run("void", number, "--reason", "误建", "--json", user="wangwen"))
    assert (voided["closed_on"], voided["retention_from"], voided["retention_until"]) == \
        ("2026-11-25", "2026-11-25", "2028-11-25")
    assert voided["retention"] == "2 years after voiding on 2026-11-25"
    monkeypatch.setenv("QREC_TODAY", "2028-11-24")
    refused_listing(run("dispose", number, "--reason", "期满", user="wangwen"),
                    f"{number} is retained until 2028-11-25 (2 years after voiding on "
                    "2026-11-25)")
    monkeypatch.setenv("QREC_TODAY", "2028-11-25")
    assert [d["number"] for d in as_json(run("retention", "due", "--json"))] == [number]
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True
    done = as_json(run("dispose", number, "--reason", "期满", "--json", user="wangwen"))
    assert done["records"][0]["why"] == "2 years after voiding on 2026-11-25"


def test_records_of_a_revision_without_a_void_step_are_voided_too(run, ws):
    """The built-in void state reaches records of every revision, made before or after; a
    revision that declares a void state of its own uses it."""
    old = new_complaint(run)  # rev A/0
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "    - {id: closed, zh: 已结案, en: Closed, released: true, closes: true}",
        "    - {id: closed, zh: 已结案, en: Closed, released: true, closes: true}\n"
        "    - {id: cancelled, zh: 已撤销, en: Cancelled, void: true}").replace(
        "revision: A/0", "revision: A/1"), encoding="utf-8")
    new = as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    assert new["form_revision"] == "A/1"
    done = as_json(run("void", old, new["number"], "--reason", "误建", "--json",
                       user="wangwen"))
    assert [(r["form_revision"], r["status"], r["status_label"]) for r in done] == [
        ("A/0", "void", "作废 Void"), ("A/1", "cancelled", "已撤销 Cancelled")]
    assert all("作废 VOID" in docx_text(r["files"]["docx"]) for r in done)
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_a_schema_may_not_take_the_void_id_for_another_state(run, ws):
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "{id: registered, zh: 已登记", "{id: void, zh: 已登记").replace(
        "from: [registered", "from: [void"), encoding="utf-8")
    result = run("forms", "check", "complaint", "--json")
    assert result.exit_code == 1
    assert "the id 'void' is the built-in 作废 state" in result.stdout


def test_voiding_asks_the_controllers_password_in_a_normal_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("QREC_TODAY", raising=False)
    root = tmp_path / "normal"
    assert qrec("init", root).returncode == 0
    set_password(root, "wangwen", PASSWORD)
    lina = open_workspace(root, "lina")
    number = records.new_record(lina, "complaint", load_example("complaint"),
                                pdf=False)["number"]
    lina.close()
    wrong = qrec("-w", root, "void", number, "--reason", "误建", stdin="not it\n")
    assert wrong.returncode == 1 and "wrong password" in wrong.stderr.lower(), wrong.stderr
    done = qrec("-w", root, "void", number, "--reason", "误建", "--json",
                stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "签名 Signing as 王文 (wangwen), meaning 作废 voided" in done.stderr
    ws = open_workspace(root, "wangwen")
    try:
        other = records.new_record(ws, "complaint", load_example("complaint"),
                                   pdf=False)["number"]
        with pytest.raises(NotAuthenticated):
            void.void(ws, [other], "误建", password=None)
        failed = ws.catalog.user("wangwen")["failed_logins"]
        with pytest.raises(ValidationError, match="already void"):  # no password asked
            void.void(ws, [number], "again", password="not it either")
        assert ws.catalog.user("wangwen")["failed_logins"] == failed
        story = records.history(ws, number)
        assert story[-1]["signature"]["demo"] is False
        assert story[-1]["signature"]["meaning"] == "作废 voided"
    finally:
        ws.close()


def test_a_hold_or_disposal_that_cannot_be_done_costs_no_password_attempt(tmp_path,
                                                                          monkeypatch):
    """README: a signing step is checked before the password is, so a step that cannot be
    taken costs no attempt (void did so already; hold, release and dispose counted one)."""
    from qrecords.api import disposal
    from qrecords.errors import NotFound

    monkeypatch.delenv("QREC_TODAY", raising=False)
    root = tmp_path / "normal"
    assert qrec("init", root).returncode == 0
    set_password(root, "wangwen", PASSWORD)
    ws = open_workspace(root, "wangwen")
    try:
        number = records.new_record(ws, "complaint", load_example("complaint"),
                                    pdf=False)["number"]
        failed = ws.catalog.user("wangwen")["failed_logins"]
        with pytest.raises(ValidationError, match=f"{number} is not on hold"):
            disposal.hold(ws, [number], "解除", False, password="not it")
        with pytest.raises(NotFound):
            disposal.hold(ws, ["CC-2099-99"], "保全", True, password="not it")
        with pytest.raises(ValidationError, match=number):  # open: it may not go
            disposal.dispose(ws, [number], False, "到期", password="not it")
        assert ws.catalog.user("wangwen")["failed_logins"] == failed
        with pytest.raises(NotAuthenticated):  # a step that can be taken checks it
            disposal.hold(ws, [number], "保全", True, password="not it")
        assert ws.catalog.user("wangwen")["failed_logins"] == failed + 1
    finally:
        ws.close()
