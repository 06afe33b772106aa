"""Issue 18: the document language a workspace option (zh, en, both), English labels optional
for Chinese-only forms, and reminders and notices naming departments as qrecords.yaml does;
through the real `qrec`, DOCX read back with python-docx and a PDF with pypdf."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from docx import Document
from pypdf import PdfReader

from tests.conftest import EXAMPLES, TODAY
from tests.render.docx_text import docx_text

QREC = str(Path(sys.executable).parent / "qrec")


def qrec(root: Path, *args: str, user: str = "lina", today: str = TODAY,
         pdf: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(root), QREC_TODAY=today)
    if not pdf:
        env["QREC_SOFFICE"] = "/nonexistent/soffice"
    return subprocess.run([QREC, "--as", user, *args], capture_output=True, text=True,
                          env=env, timeout=600)


def ok(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def set_option(root: Path, key: str, value: str) -> None:
    """qrecords.yaml with options.<key>: value (any line of it there before removed)."""
    path = root / "qrecords.yaml"
    text = re.sub(rf"\n  {key}: .*\n", "\n", path.read_text(encoding="utf-8"))
    path.write_text(text.replace("\noptions:\n", f"\noptions:\n  {key}: {value}\n"),
                    encoding="utf-8")


def new_complaint(root: Path, pdf: bool = False) -> dict:
    return ok(qrec(root, "new", "complaint", "--data", str(EXAMPLES / "complaint.yaml"),
                   "--json", pdf=pdf))


def test_the_document_language_chooses_what_the_form_prints(ws):
    both = docx_text(ws.root / "records" / new_complaint(ws.root)["files"]["docx"])
    for printed in ("附样品 Sample attached", "是 Yes", "客户投诉处理单",
                    "Customer Complaint Handling Form", "第 1 页 共 1 页   Page 1 of 1"):
        assert printed in both, printed

    set_option(ws.root, "document_language", "zh")
    chinese = docx_text(ws.root / "records" / new_complaint(ws.root)["files"]["docx"])
    for printed in ("附样品", "客户投诉处理单", "表单编号", "第 1 页 共 1 页", "国内"):
        assert printed in chinese, printed
    for left_out in ("Sample attached", "Yes", "Customer Complaint Handling Form",
                     "Form No.", "Page", "Domestic"):
        assert left_out not in chinese, left_out

    set_option(ws.root, "document_language", "en")
    made = new_complaint(ws.root, pdf=True)
    english = docx_text(ws.root / "records" / made["files"]["docx"])
    for printed in ("Sample attached", "Yes", "Customer Complaint Handling Form", "Form No.",
                    "Page 1 of 1", "Domestic"):
        assert printed in english, printed
    for left_out in ("附样品", "是 Yes", "客户投诉处理单", "表单编号", "第 1 页", "国内"):
        assert left_out not in english, left_out
    pdf = " ".join(page.extract_text() for page in
                   PdfReader(ws.root / "records" / made["files"]["pdf"]).pages)
    assert "Sample attached" in pdf and "Page 1 of 1" in pdf
    assert "附样品" not in pdf and "客户投诉处理单" not in pdf

    set_option(ws.root, "document_language", "fr")
    refused = qrec(ws.root, "show", made["number"])
    assert refused.returncode != 0
    assert "options.document_language 'fr' must be one of zh, en, both" in refused.stderr


CHINESE_ONLY = """\
id: visit
title: {zh: 客户来访登记}
form_number: QR-8.2-09
revision: A/0
number_pattern: "VS-{yyyy}-{seq:03}"
template: visit.docx
title_fields: [visitor]
fields:
  - {id: visitor, type: text, required: true, label: {zh: 来访单位}}
  - id: purpose
    type: choice
    label: {zh: 目的}
    choices:
      - {id: audit, zh: 审核}
      - {id: order, zh: 订货, en: Ordering}
  - {id: escorted, type: yesno, label: {zh: 陪同}, help: {zh: 是否全程陪同}}
workflow:
  states:
    - {id: open, zh: 登记, holder: sales}
    - {id: closed, zh: 已结束, closes: true}
  transitions:
    - {id: close, zh: 结束, from: [open], to: closed, roles: [sales]}
"""


def test_a_chinese_only_form_prints_its_chinese_labels_in_every_language(ws):
    (ws.root / "schemas" / "visit.yaml").write_text(CHINESE_ONLY, encoding="utf-8")
    document = Document()
    for line in ("{{ form.title }}", "{{ visitor }}", "目的 {{ purpose }}", "陪同 {{ escorted }}",
                 "状态 {{ record.status_label }}"):
        document.add_paragraph(line)
    document.save(ws.root / "templates" / "visit.docx")
    made = ok(qrec(ws.root, "new", "visit", "--set", "visitor=苏州明辉", "--set",
                   "purpose=审核", "--set", "escorted=yes", "--json"))
    assert "目的 审核\n陪同 是 Yes\n状态 登记" in docx_text(ws.root / "records" /
                                                         made["files"]["docx"])
    shown = qrec(ws.root, "show", made["number"])
    assert shown.returncode == 0, shown.stderr
    assert "客户来访登记" in shown.stdout and "审核" in shown.stdout and "登记" in shown.stdout

    set_option(ws.root, "document_language", "en")
    made = ok(qrec(ws.root, "new", "visit", "--set", "visitor=宁波铜材", "--set",
                   "purpose=order", "--json"))
    text = docx_text(ws.root / "records" / made["files"]["docx"])
    assert "客户来访登记\n宁波铜材\n目的 Ordering\n陪同 \n状态 登记" in text  # no English: the Chinese


def test_reminders_and_notices_name_the_departments_as_qrecords_yaml_does(ws):
    path = ws.root / "qrecords.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "quality: {zh: 质量部, en: Quality}", "quality: {zh: 品质保证部, en: Quality Assurance}"),
        encoding="utf-8")
    late = new_complaint(ws.root)["number"]
    ok(qrec(ws.root, "do", late, "investigate", "--json", user="zhaomin"))
    made = ok(qrec(ws.root, "remind", "--json", user="wangwen", today="2026-12-02"))
    text = docx_text(made[0]["docx"])
    assert "品质保证部 Quality Assurance" in text  # the department holding the case
    assert "请立即处理并将结果回复品质保证部。" in text  # the issuer's department
    assert "report the result to Quality Assurance." in text
    assert "质量部" not in text

    number = ok(qrec(ws.root, "new", "customer_property", "--data",
                     str(EXAMPLES / "customer_property.yaml"), "--set",
                     "inspection_result=fail", "--json"))["number"]
    rejected = ok(qrec(ws.root, "do", number, "reject", "--json", user="zhaomin"))
    notice = Path(ws.root / "records" / rejected["files"]["docx"]).with_name(
        f"{number}_nonconformity_notice_v2.docx")
    text = docx_text(notice)
    assert "签发 Issued\t品质保证部 Quality Assurance  赵敏  2026-11-23" in text
    assert "请确认并回复品质保证部处理意见" in text and "tell Quality Assurance how" in text
