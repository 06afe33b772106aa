"""Controlled blank forms 受控表单: issued per department with a distribution number each,
listed, recalled when the form is revised, and taken back (DOMAIN.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from pypdf import PdfReader

from qrecords.api import controlled
from qrecords.cli import cli
from qrecords.errors import Conflict, Forbidden, NotFound, QrecError
from qrecords.workspace import Workspace
from tests.conftest import as_user


def docx_text(path: str) -> str:
    document = Document(path)
    parts = [p.text for p in document.paragraphs]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def test_each_copy_carries_its_control_line_and_stamp_and_the_issue_is_logged(ws):
    result = controlled.issue(ws, "complaint", "生产部", copies=2)
    numbers = [c["distribution_number"] for c in result["copies"]]
    assert numbers == ["QR-9.1.2-01-A0-001", "QR-9.1.2-01-A0-002"]
    assert result["department"] == "production" and result["to_recall"] == []
    first = result["copies"][0]
    text = docx_text(first["docx"])
    assert "受控 CONTROLLED" in text and "分发号 Distribution No. QR-9.1.2-01-A0-001" in text
    assert "版次 Rev. A/0" in text and "发放至 To 生产部 Production" in text
    assert first["pdf"] is not None
    pdf = "".join(page.extract_text() for page in PdfReader(first["pdf"]).pages)
    assert "QR-9.1.2-01-A0-001" in pdf and "CONTROLLED" in pdf
    [event] = ws.catalog.events_by_action(["form.issued"])
    assert event["detail"]["copies"] == numbers and event["actor"] == "wangwen"
    assert ws.catalog.form_revision("complaint", "A/0") is not None  # frozen by the issue


def test_issued_lists_by_department_and_a_new_revision_lists_the_copies_to_recall(ws):
    controlled.issue(ws, "complaint", "quality")
    controlled.issue(ws, "contract_review", "sales", copies=2)
    assert [c["department"] for c in controlled.issued(ws)] == ["quality", "sales", "sales"]
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace("revision: A/0",
                                                                 "revision: A/1"),
                      encoding="utf-8")
    ws = Workspace.open(ws.root, "wangwen")  # the revised form, as the next command reads it
    try:
        result = controlled.issue(ws, "complaint", "quality")
        assert result["copies"][0]["distribution_number"] == "QR-9.1.2-01-A1-001"
        assert [c["distribution_number"] for c in result["to_recall"]] == \
            ["QR-9.1.2-01-A0-001"]
        back = controlled.return_copies(ws, ["QR-9.1.2-01-A0-001"], "已回收销毁")
        assert back[0]["returned_on"] == "2026-11-23"
        assert controlled.to_recall(ws) == []
        with pytest.raises(Conflict, match="was returned on 2026-11-23"):
            controlled.return_copies(ws, ["QR-9.1.2-01-A0-001"])
        with pytest.raises(NotFound, match="no controlled copy"):
            controlled.return_copies(ws, ["QR-9.1.2-01-A0-009"])
    finally:
        ws.close()


def test_bad_issues_are_refused(ws):
    with pytest.raises(Forbidden):
        controlled.issue(as_user(ws, "lina"), "complaint", "sales")
    with pytest.raises(NotFound, match="no department 'marketing'"):
        controlled.issue(ws, "complaint", "marketing")
    with pytest.raises(QrecError, match="must be 1 to 200"):
        controlled.issue(ws, "complaint", "sales", copies=0)
    assert controlled.issued(ws) == []


def test_at_the_command_line(ws):
    runner = CliRunner()
    base = ["-w", str(ws.root), "--as", "wangwen"]
    done = runner.invoke(cli, base + ["forms", "issue", "complaint", "--to", "quality",
                                      "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["copies"][0]["distribution_number"] == "QR-9.1.2-01-A0-001"
    listed = runner.invoke(cli, base + ["forms", "issued"])
    assert listed.exit_code == 0 and "QR-9.1.2-01-A0-001" in listed.output
    assert "质量部 Quality" in listed.output
    recall = runner.invoke(cli, base + ["forms", "recall"])
    assert recall.exit_code == 0 and "Nothing to recall" in recall.output
    bad = runner.invoke(cli, base + ["forms", "issue", "complaint", "--to", "nowhere"])
    assert bad.exit_code != 0 and bad.output.startswith("Error: --to: 无此部门 no department")
    back = runner.invoke(cli, base + ["forms", "return", "QR-9.1.2-01-A0-001"])
    assert back.exit_code == 0 and "2026-11-23" in back.output


def test_issued_copies_and_imported_records_verify(ws, tmp_path):
    from qrecords.api import imports
    from qrecords.api.verify import verify
    from tests.imports.ledgers import complaint_rows, write_xlsx

    controlled.issue(ws, "complaint", "quality")
    imports.import_ledger(ws, "complaint", str(write_xlsx(tmp_path / "l.xlsx",
                                                          complaint_rows())))
    ws.sync_index()
    report = verify(ws)
    assert report["ok"], report["faults"]
