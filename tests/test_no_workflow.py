"""Forms without a workflow (issue 18): a schema with no `workflow:`, or one whose workflow
has no transitions, has nothing a record waits for, so its records are final (closed) when
made — no 草稿 DRAFT mark, a retention date from the day made, due when it ends — and can
still be voided when made by mistake."""

from __future__ import annotations

import pytest
from docx import Document

from tests.conftest import as_json
from tests.render.docx_text import docx_text
from tests.test_void import refused_listing
from tests.test_workflow import pdf_text, refused

MEMO = """\
id: memo
title: {zh: 备忘录, en: Memo}
form_number: QR-7.5-09
revision: A/0
number_pattern: "M-{yyyy}-{seq:03}"
retention: {period: 1y, from: closure, action: destroy}
template: memo.docx
fields:
  - {id: subject, type: text, required: true, label: {zh: 主题, en: Subject}}
"""
STATES_ONLY = """\
workflow:
  states:
    - {id: filed, zh: 已归档, en: Filed}
"""


def template(ws) -> None:
    document = Document()
    for line in ("{{ org.name }}  {{ form.title_zh }} {{ form.title_en }}",
                 "{{ form.number }} rev {{ form.revision }}  {{ record.number }} "
                 "v{{ record.version }}  状态 {{ record.status_label }}",
                 "主题 Subject: {{ subject }}"):
        document.add_paragraph(line)
    document.save(ws.root / "templates" / "memo.docx")


@pytest.fixture(params=["no workflow", "no transitions"])
def memo(request, ws):
    """The memo form, without a workflow section or with states but no transitions."""
    template(ws)
    schema = MEMO + (STATES_ONLY if request.param == "no transitions" else "")
    (ws.root / "schemas" / "memo.yaml").write_text(schema, encoding="utf-8")
    return {"no workflow": ("final", "已定稿 Final"),
            "no transitions": ("filed", "已归档 Filed")}[request.param]


def test_a_record_of_a_form_without_steps_is_final_when_made(run, memo, monkeypatch):
    state, label = memo
    assert run("forms", "check", "memo").exit_code == 0
    made = as_json(run("new", "memo", "--set", "subject=年度内审计划", "--json"))
    assert (made["status"], made["status_label"]) == (state, label)
    assert (made["closed_on"], made["retention_from"], made["retention_until"]) == \
        ("2026-11-23", "2026-11-23", "2027-11-23")
    assert made["retention"] == "1 year after closure on 2026-11-23"
    assert f"状态 {label}" in docx_text(made["files"]["docx"])
    text = pdf_text(made)
    assert "年度内审计划" in text and "DRAFT" not in text and "草稿" not in text
    assert "until 2027-11-23 (1 year after closure on 2026-11-23)" in \
        run("show", made["number"]).output
    # closed: not amended (a mistake is voided, and made again)
    refused(run("amend", made["number"], "--set", "subject=x", "--reason", "x"),
            "a closed record is not amended")

    monkeypatch.setenv("QREC_TODAY", "2027-11-22")
    assert as_json(run("retention", "due", "--json")) == []
    monkeypatch.setenv("QREC_TODAY", "2027-11-23")
    assert [d["number"] for d in as_json(run("retention", "due", "--json"))] == [
        made["number"]]
    done = as_json(run("dispose", "--due", "--reason", "保存期满", "--json", user="wangwen"))
    assert [r["number"] for r in done["records"]] == [made["number"]]
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_a_final_record_made_by_mistake_is_voided(run, memo):
    made = as_json(run("new", "memo", "--set", "subject=写错了", "--json"))
    [voided] = as_json(run("void", made["number"], "--reason", "主题写错", "--json",
                           user="wangwen"))
    assert (voided["status"], voided["version"]) == ("void", 2)
    assert "作废 VOID" in docx_text(voided["files"]["docx"])
    refused_listing(run("void", made["number"], "--reason", "x", user="wangwen"),
                    "is already void")
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_a_draft_left_by_the_old_rule_is_finalised_by_the_controller(run, ws, tmp_path):
    """Records made before this rule stayed in 草稿 draft: a form without a workflow keeps
    that state (so their history derives as it did) and a `finalise` step for the document
    controller. A ledger row whose status is 草稿 comes in as such a draft."""
    template(ws)
    (ws.root / "schemas" / "memo.yaml").write_text(MEMO, encoding="utf-8")
    ledger = tmp_path / "memo.csv"
    ledger.write_text("主题,状态,日期\n旧备忘,草稿,2026-11-02\n", encoding="utf-8")
    mapped = tmp_path / "memo-map.yaml"
    mapped.write_text("columns: {日期: date}\n", encoding="utf-8")  # memo has no date_field
    [old] = as_json(run("import", "memo", ledger, "--map", mapped, "--json",
                        user="wangwen"))["records"]
    assert (old["created_on"], old["number"]) == ("2026-11-02", "M-2026-001")
    shown = as_json(run("show", old["number"], "--json"))
    assert (shown["status"], shown["closed_on"], shown["retention_until"]) == \
        ("draft", None, None)
    refused(run("do", old["number"], "finalise", user="lina"),
            "finalise 权限不足 needs the role document_controller")
    done = as_json(run("do", old["number"], "finalise", "--json", user="wangwen"))
    assert (done["status"], done["closed_on"], done["retention_until"]) == \
        ("final", "2026-11-23", "2027-11-23")
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_a_final_record_voided_later_is_kept_from_the_void_date(ws, tmp_path):
    """Review of issue 18: a memo made on 2026-01-05 (final when made) and voided on
    2026-12-07 is kept a year from the void, and `qrec void` and `show` name that date."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    template(ws)
    (ws.root / "schemas" / "memo.yaml").write_text(MEMO, encoding="utf-8")
    qrec = str(Path(sys.executable).parent / "qrec")

    def run_qrec(today: str, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
        env.update(QREC_WORKSPACE=str(ws.root), QREC_TODAY=today,
                   QREC_SOFFICE="/nonexistent/soffice")
        return subprocess.run([qrec, "--as", "wangwen", *args], capture_output=True,
                              text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)

    made = run_qrec("2026-01-05", "new", "memo", "--set", "subject=写错了", "--json")
    assert made.returncode == 0, made.stderr
    number = json.loads(made.stdout)["number"]
    voided = run_qrec("2026-12-07", "void", number, "--reason", "主题写错")
    assert voided.returncode == 0, voided.stderr
    assert "2027-12-07" in voided.stdout and "voiding on 2026-12-07" in voided.stdout, \
        voided.stdout
    shown = json.loads(run_qrec("2026-12-07", "show", number, "--json").stdout)
    assert (shown["retention_from"], shown["retention_until"]) == ("2026-12-07", "2027-12-07")
    assert shown["retention"] == "1 year after voiding on 2026-12-07"
    assert run_qrec("2027-12-06", "retention", "due", "--json").stdout.strip() == "[]"
    checked = run_qrec("2026-12-07", "verify", "--json")
    assert json.loads(checked.stdout)["ok"] is True, checked.stdout
