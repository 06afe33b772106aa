"""Authoring forms that cannot go wrong (issue 18): `qrec forms check` names, one line each,
a template with tracked changes or comments, a template that fails when filled in, optional
fields the template leaves out (a warning), two forms with one number pattern, departments
qrecords.yaml does not define; `qrec new` turns a template that fails into one line with
nothing stored. Templates are edited with python-docx; everything runs through the real
`qrec` in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from qrecords.workspace import create_workspace
from tests.conftest import EXAMPLES, TODAY, snapshot
from tests.render.docx_text import all_paragraphs

QREC = shutil.which("qrec", path=str(Path(sys.executable).parent)) or "qrec"


def qrec(root: Path, *args, user: str = "wangwen") -> subprocess.CompletedProcess:
    environment = {**os.environ, "QREC_TODAY": TODAY, "QREC_SOFFICE": "/nonexistent/soffice"}
    return subprocess.run([QREC, "-w", str(root), "--as", user, *map(str, args)],
                          capture_output=True, text=True, env=environment, timeout=120)


@pytest.fixture
def root(tmp_path) -> Path:
    return create_workspace(tmp_path / "ws", demo=True)


def paragraph_with(document, text: str):
    found = next((p for p in all_paragraphs(document) if text in p.text), None)
    assert found is not None, f"{text!r} not in the template"
    return found


def track_changes(path: Path, placeholder: str) -> None:
    """As a template saved with change tracking on: `placeholder`'s run becomes a tracked
    deletion (w:del around it, its text as w:delText) and a tracked insertion follows it."""
    document = Document(path)
    paragraph = paragraph_with(document, placeholder)
    run = next(r for r in paragraph.runs if placeholder in r.text)
    stamp = 'w:author="审核人" w:date="2026-11-20T09:00:00Z"'
    deleted = parse_xml(f'<w:del {nsdecls("w")} w:id="901" {stamp}/>')
    run._r.addprevious(deleted)
    deleted.append(run._r)
    for text in run._r.iter(qn("w:t")):
        text.tag = qn("w:delText")
    deleted.addnext(parse_xml(f'<w:ins {nsdecls("w")} w:id="902" {stamp}><w:r><w:t>'
                              f'{placeholder}</w:t></w:r></w:ins>'))
    document.save(path)


def test_tracked_changes_are_an_error_and_new_refuses_the_template(root):
    track_changes(root / "templates" / "complaint.docx", "{{ customer }}")
    checked = qrec(root, "forms", "check", "complaint")
    assert checked.returncode == 1, checked.stdout
    [line] = [ln for ln in checked.stdout.splitlines() if "tracked changes" in ln]
    assert "templates/complaint.docx: 模板含修订或批注" in line
    assert "(1 insertion, 1 deletion)" in line
    assert "accept or reject the changes and remove comments" in line

    before = snapshot(root)
    made = qrec(root, "new", "complaint", "--data", EXAMPLES / "complaint.yaml", user="lina")
    assert made.returncode == 1 and "Traceback" not in made.stderr
    assert made.stderr.count("\n") == 1 and "tracked changes" in made.stderr, made.stderr
    assert snapshot(root) == before


def test_comments_are_an_error(root):
    path = root / "templates" / "contract_review.docx"
    document = Document(path)
    paragraph = paragraph_with(document, "{{ customer }}")
    document.add_comment(paragraph.runs, text="客户名称要全称", author="审核人")
    document.save(path)
    checked = qrec(root, "forms", "check", "contract_review", "--json")
    assert checked.returncode == 1
    errors = json.loads(checked.stdout)["contract_review"]["errors"]
    assert errors == ["templates/contract_review.docx: 模板含修订或批注 has tracked changes or "
                      "comments (1 comment): 接受或拒绝所有修订并删除批注 accept or reject the "
                      "changes and remove comments, then save it again"]


SUM = '合计 Total: {{ items|sum(attribute="quantity") }}'


def add_line(path: Path, text: str) -> None:
    document = Document(path)
    document.add_paragraph(text)
    document.save(path)


def test_a_filter_failing_on_real_data_is_named_by_check_and_by_new(root):
    add_line(root / "templates" / "customer_property.docx", SUM)
    checked = qrec(root, "forms", "check", "customer_property")
    assert checked.returncode == 1
    [line] = [ln for ln in checked.stdout.splitlines() if "模板无法填入" in ln]
    assert line.startswith('    错误 error: templates/customer_property.docx: 模板无法填入 '
                           'cannot fill in {{ items|sum(attribute="quantity") }}: TypeError: ')
    assert line.endswith("with sample data: every field filled; optional fields empty")

    before = snapshot(root)
    made = qrec(root, "new", "customer_property", "--data", EXAMPLES / "customer_property.yaml",
                user="lina")
    assert made.returncode == 1
    assert made.stderr.startswith('Error: templates/customer_property.docx: 模板无法填入 cannot '
                                  'fill in {{ items|sum(attribute="quantity") }}: TypeError')
    assert made.stderr.count("\n") == 1 and "Traceback" not in made.stderr
    assert snapshot(root) == before
    assert qrec(root, "show", "CP-2026-0001").returncode == 1


def test_issuing_a_blank_form_runs_the_trial_fill_in_and_freezes_nothing(root):
    """Review of issue 18: the blank controlled copy has no table rows, so a filter failing
    on real data printed fine; the issue freezes the revision for good, so it must refuse."""
    add_line(root / "templates" / "customer_property.docx", SUM)
    before = snapshot(root)
    issued = qrec(root, "forms", "issue", "customer_property", "--to", "quality")
    assert issued.returncode == 1, issued.stdout
    assert issued.stderr.startswith('Error: templates/customer_property.docx: 模板无法填入 '
                                    'cannot fill in {{ items|sum(attribute="quantity") }}')
    assert "未冻结 nothing frozen" in issued.stderr
    assert issued.stderr.count("\n") == 1 and "Traceback" not in issued.stderr
    assert snapshot(root) == before
    assert json.loads(qrec(root, "forms", "issued", "--json").stdout) == []


def test_a_filter_failing_only_on_an_empty_table_is_found(root):
    add_line(root / "templates" / "customer_property.docx", "首项 {{ incidents[0].item_no }}")
    found = json.loads(qrec(root, "forms", "check", "customer_property", "--json").stdout)
    [line] = found["customer_property"]["errors"]
    assert "cannot fill in {{ incidents[0].item_no }}: UndefinedError" in line
    assert line.endswith("with sample data: optional fields empty; blank (as a controlled copy)")


def test_an_optional_field_left_out_is_a_warning_only(root):
    path = root / "templates" / "complaint.docx"
    document = Document(path)
    for paragraph in all_paragraphs(document):
        for run in paragraph.runs:
            run.text = run.text.replace("{{ order_no }}", "")
    document.save(path)
    checked = qrec(root, "forms", "check", "complaint")
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("✓ complaint\n")
    assert ("    警告 warning: templates/complaint.docx: 可选字段未出现 optional field "
            "'order_no' (订单编号) does not appear: its value is never printed") in checked.stdout


def test_two_forms_with_one_number_pattern(root):
    schema = (root / "schemas" / "complaint.yaml").read_text(encoding="utf-8")
    (root / "schemas" / "complaint_export.yaml").write_text(
        schema.replace("id: complaint\n", "id: complaint_export\n", 1), encoding="utf-8")
    checked = qrec(root, "forms", "check", "--json")
    assert checked.returncode == 1
    found = json.loads(checked.stdout)
    assert found["complaint"]["errors"] == [
        "schemas/complaint.yaml: number_pattern: 编号规则重复 'CC-{yy}{mm}-{seq:02}' is also "
        "the pattern of form complaint_export (schemas/complaint_export.yaml): their record "
        "numbers would collide"]
    assert "is also the pattern of form complaint (schemas/complaint.yaml)" in \
        found["complaint_export"]["errors"][0]
    assert found["contract_review"]["errors"] == []


def test_departments_qrecords_yaml_does_not_define(root):
    path = root / "schemas" / "complaint.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("en: Investigating, holder: quality",
                                 "en: Investigating, holder: qualty")
                    .replace("{id: supplier, zh: 供应商, en: Supplier}",
                             "{id: vendor, zh: 供应商, en: Supplier}"), encoding="utf-8")
    path = root / "schemas" / "contract_review.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "- {id: warehouse, zh: 仓库, en: Warehouse}",
        "- {id: warehouse, zh: 仓库, en: Warehouse}\n          - {id: legal, zh: 法务, en: Legal}",
        1), encoding="utf-8")
    checked = qrec(root, "forms", "check", "--json")
    assert checked.returncode == 1
    found = json.loads(checked.stdout)
    assert [e for e in found["complaint"]["errors"] if "部门未定义" in e] == [
        "schemas/complaint.yaml: workflow: state 'investigating' holder: 部门未定义 department "
        "'qualty' is not defined in qrecords.yaml (departments:) (did you mean 'quality'?)",
        "schemas/complaint.yaml: workflow: state 'countermeasure' holder "
        "field:responsible_department (choice 'vendor'): 部门未定义 department 'vendor' is not "
        "defined in qrecords.yaml (departments:)"]
    assert found["contract_review"]["errors"] == [
        "schemas/contract_review.yaml: workflow: sign-off 'department_review' "
        "(department_reviews.department choice 'legal'): 部门未定义 department 'legal' is not "
        "defined in qrecords.yaml (departments:)"]



def test_a_number_pattern_of_a_form_whose_schema_was_removed(root):
    made = qrec(root, "new", "complaint", "--data", EXAMPLES / "complaint.yaml", user="lina")
    assert made.returncode == 0, made.stderr
    schema = root / "schemas" / "complaint.yaml"
    text = schema.read_text(encoding="utf-8")
    schema.unlink()
    (root / "schemas" / "complaint_v2.yaml").write_text(
        text.replace("id: complaint\n", "id: complaint_v2\n", 1), encoding="utf-8")
    found = json.loads(qrec(root, "forms", "check", "complaint_v2", "--json").stdout)
    assert found["complaint_v2"]["errors"] == [
        "schemas/complaint_v2.yaml: number_pattern: 编号规则重复 'CC-{yy}{mm}-{seq:02}' is also "
        "the pattern of form complaint (rev A/0 in the catalog, its schema removed): their "
        "record numbers would collide"]


def test_check_names_a_frozen_form_edited_without_a_new_revision(root):
    """Review 18b: `forms check` passed a frozen form edited in place, which `forms issue`
    and `new` then refused; it names the same problem, in one line."""
    issued = qrec(root, "forms", "issue", "complaint", "--to", "sales")
    assert issued.returncode == 0, issued.stderr
    schema = root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace("客户名称", "顾客名称"),
                      encoding="utf-8")
    refusal = ("表单已冻结，修改须换修订版本 form complaint rev A/0 was changed after records "
               "were made with it (schemas/complaint.yaml or templates/complaint.docx); a "
               "controlled form that changes needs a new revision: edit `revision:` in its "
               "schema")
    checked = qrec(root, "forms", "check", "complaint")
    assert checked.returncode == 1, checked.stdout
    assert checked.stdout.startswith(f"✗ complaint\n    错误 error: {refusal}\n")
    assert json.loads(qrec(root, "forms", "check", "complaint", "--json").stdout)[
        "complaint"]["errors"] == [refusal]
    issued = qrec(root, "forms", "issue", "complaint", "--to", "sales")
    assert issued.returncode == 1 and issued.stderr == f"Error: {refusal}\n"

    schema.write_text(schema.read_text(encoding="utf-8").replace("revision: A/0", "revision: A/1"),
                      encoding="utf-8")
    assert qrec(root, "forms", "check", "complaint").returncode == 0


def test_every_place_naming_an_undefined_department_is_listed_at_once(root):
    """Review 18b: a department named by a state holder hid the same department named by the
    holder field's choices (and by later states) until the first place was fixed."""
    settings = root / "qrecords.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "\n  quality: {zh: 质量部", "\n  qa: {zh: 质量部", 1), encoding="utf-8")
    checked = qrec(root, "forms", "check", "complaint", "--json")
    assert checked.returncode == 1
    places = [e.split(": 部门未定义")[0].removeprefix("schemas/complaint.yaml: workflow: ")
              for e in json.loads(checked.stdout)["complaint"]["errors"] if "部门未定义" in e]
    assert places == ["state 'registered' holder", "state 'investigating' holder",
                      "state 'countermeasure' holder field:responsible_department "
                      "(choice 'quality')", "state 'decided' holder"]
