"""Refusals a document controller meets, each one line, Chinese first and then English, and
form-neutral where the form is not a complaint (review 18b of issue 18). The real `qrec` in
a subprocess on a real demonstration workspace; nothing changes on a refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from qrecords.workspace import create_workspace
from tests.conftest import EXAMPLES, TODAY, snapshot

QREC = str(Path(sys.executable).with_name("qrec"))

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


def qrec(root: Path, *args, user: str = "wangwen") -> subprocess.CompletedProcess:
    return subprocess.run([QREC, "-w", str(root), "--as", user, *map(str, args)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "QREC_TODAY": TODAY,
                               "QREC_SOFFICE": "/nonexistent/soffice"})


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refusal(root: Path, *args, user: str = "wangwen") -> str:
    """The one line a refused command prints (after `Error: `), with nothing changed."""
    before = snapshot(root)
    result = qrec(root, *args, user=user)
    assert result.returncode == 1, result.stdout
    assert result.stdout == "" and result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert snapshot(root) == before
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
