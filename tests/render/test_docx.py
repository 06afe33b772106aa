"""DOCX rendering: each value in its labelled cell, hostile values literal, LibreOffice opens it."""

import subprocess

import pytest

from qrecords.domain.fields import Field
from tests.conftest import EXAMPLES, as_user, load_example
from tests.render.docx_text import docx_rows, docx_text, edit_template
from qrecords.api import records

HOSTILE = {
    "customer": "A&B <Co> \"引号\" 'x' {{ 7*7 }} {% if x %} {_{ }_} 😀",
    "description": "第一行 & <b>\n第二行 {{ org.name }}\n\n第四行 ☃ ]]> <w:t>",
    "customer_request": "长" * 1900,
    "complaint_reason": "{{ ''.__class__.__mro__ }} {%tr endfor %} \\n",
}


def _value_cell(rows, label_zh: str) -> str:
    """The text of the cell right after the cell labelled `label_zh`."""
    for cells in rows:
        for index, text in enumerate(cells[:-1]):
            if text.startswith(label_zh):
                return cells[index + 1]
    raise AssertionError(f"no cell labelled {label_zh}")


@pytest.mark.parametrize("form_id", ["contract_review", "customer_property", "complaint"])
def test_each_value_in_its_labelled_cell(ws, form_id):
    form = ws.forms.current(form_id)
    record = records.new_record(as_user(ws, "lina"), form_id, load_example(form_id))
    rows = docx_rows(record["files"]["docx"])
    checked = 0
    for field in form.fields:
        value = record["data"][field.id]
        if field.type == "table" or value is None:
            continue
        assert _value_cell(rows, field.label.zh).strip() == field.display(value), field.id
        checked += 1
    assert checked >= 7  # each example fills at least 7 plain fields
    text = docx_text(record["files"]["docx"])
    for expected in (ws.settings.organisation, form.title.zh, form.title.en, form.form_number,
                     form.revision, record["number"], record["status_label"]):
        assert expected in text


def test_table_rows_expand_and_key_rows_always_show(ws):
    record = records.new_record(as_user(ws, "lina"), "customer_property",
                                load_example("customer_property"))
    rows = docx_rows(record["files"]["docx"])
    names = [cells for cells in rows if any(c == "外壳冲压模具" for c in cells)]
    assert len(names) == 1 and "MH-DIE-07" in names[0] and "设备 Equipment" in names[0]
    assert sum(1 for cells in rows if any(c in ("铜板 C1100", "外壳冲压模具", "外壳图纸 Rev.C")
                                          for c in cells)) == 3
    review = records.new_record(as_user(ws, "lina"), "contract_review",
                                load_example("contract_review"))
    text = docx_text(review["files"]["docx"])
    # Three departments reviewed in the data; all six departments are printed.
    for department in ("销售 Sales", "技术 Technical", "生产 Production", "质量 Quality",
                       "采购 Purchasing", "仓库 Warehouse"):
        assert department in text


def test_footer_has_page_x_of_y_fields(ws):
    from docx import Document

    record = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    footer = Document(record["files"]["docx"]).sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "第" in footer


def _hostile_record(ws):
    data = {**load_example("complaint"), **HOSTILE}
    return data, records.new_record(as_user(ws, "lina"), "complaint", data)


def test_hostile_values_render_literally(ws):
    data, record = _hostile_record(ws)
    text = docx_text(record["files"]["docx"])
    for field_id, value in HOSTILE.items():
        assert record["data"][field_id] == value  # stored exactly
        for line in value.split("\n"):
            assert line in text, (field_id, line)


def test_sandbox_blocks_a_malicious_template(ws):
    from qrecords.errors import FormError
    from qrecords.render.docx import render_docx
    edit_template(ws, "complaint", "{{ customer }}",
                   "{{ customer.__class__.__mro__[1].__subclasses__() }}")
    template = (ws.root / "templates" / "complaint.docx").read_bytes()
    with pytest.raises(FormError, match=r"cannot fill in \{\{ customer.__class__.*SecurityError"):
        render_docx(template, {"customer": "x"}, "complaint.docx")


def test_libreoffice_opens_the_hostile_docx(ws, tmp_path):
    _, record = _hostile_record(ws)
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "txt:Text (encoded):UTF8", "--outdir", str(tmp_path), record["files"]["docx"]],
        capture_output=True, text=True, timeout=180)
    out = tmp_path / "CC-2611-01_v1.txt"
    assert out.exists(), result.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert HOSTILE["customer"] in text
    assert "第二行 {{ org.name }}" in text and "长" * 1900 in text


def test_display_of_each_type():
    from qrecords.domain.fields import Choice, Label

    label = Label("标", "L")
    assert Field("a", "yesno", label).display(True) == "是 Yes"
    choice = Field("c", "choice", label, choices=(Choice("x", Label("甲", "A")),))
    assert choice.display("x") == "甲 A" and choice.display(None) == ""


def test_each_version_has_its_own_document_properties(ws, run):
    """docProps/core.xml of each version says what it is, who made it and when, as the PDF's
    metadata does; nothing of the template's own properties (its author, its fixed date, its
    description) is left."""
    import datetime as dt
    import json
    import zipfile

    import docx

    def shown(*args, user="lina"):
        result = run(*args, "--json", user=user)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = shown("new", "complaint", "--data", str(EXAMPLES / "complaint.yaml"))
    number = first["number"]
    second = shown("do", number, "investigate", user="zhaomin")
    template = docx.Document(str(ws.root / "templates" / "complaint.docx")).core_properties
    for made, version, user, status in ((first, 1, "李娜 (lina)", "已登记 Registered"),
                                        (second, 2, "赵敏 (zhaomin)", "调查中 Investigating")):
        core = docx.Document(made["files"]["docx"]).core_properties
        at = dt.datetime.fromisoformat(made["version_created_at"].replace("Z", "+00:00"))
        assert core.title == f"客户投诉处理单 Customer Complaint Handling Form {number} v{version}"
        assert core.subject == "QR-9.1.2-01 rev A/0"
        assert core.author == "华东精密制造有限公司" and core.last_modified_by == user
        assert core.created == core.modified == at
        assert (core.identifier, core.keywords, core.category) == (number, number,
                                                                   "QR-9.1.2-01")
        assert (core.revision, core.content_status) == (version, status)
        assert core.comments == "" and core.last_printed is None  # no template description
        assert core.author != template.author and core.created != template.created
        with zipfile.ZipFile(made["files"]["docx"]) as package:  # nor the template's editor
            app = package.read("docProps/app.xml").decode()
        assert "<Application>qrecords</Application>" in app and "Word" not in app
        assert "<Company>华东精密制造有限公司</Company>" in app and "<Manager>" not in app


def test_a_number_stamped_into_a_rendered_draft(ws, tmp_path):
    """A new record is rendered before its number is reserved, with a stand-in the number
    then replaces in body, headers and properties (api/versions.py: render_draft); a value
    that looks like a stand-in is left alone, and a number is XML-escaped."""
    import datetime as dt
    import io

    from docx import Document

    from qrecords.api.versions import render_version
    from qrecords.domain.forms import validate_data
    from qrecords.render.docx import number_mark, stamp_number

    form = ws.forms.current("complaint")
    template = ws.forms.template(form)
    data = {**load_example("complaint"), "description": "QRECNO0123456789abcdef01 typed"}
    clean = validate_data(form, data, "2026-11-23")
    mark = number_mark()
    assert mark != number_mark() and mark.isalnum()
    draft = render_version(ws, form, template, mark, 1, "registered", clean,
                           dt.date(2026, 11, 23), "2026-11-23T08:00:00Z")
    stamped = stamp_number(draft, mark, "CC<&>-0001")
    path = tmp_path / "stamped.docx"
    path.write_bytes(stamped)
    text = docx_text(path)
    assert "CC<&>-0001" in text and mark not in text
    assert "QRECNO0123456789abcdef01 typed" in text
    assert Document(io.BytesIO(stamped)).core_properties.identifier == "CC<&>-0001"
    with pytest.raises(ValueError):
        stamp_number(stamped, number_mark(), "CC-2611-0002")
