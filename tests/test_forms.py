"""Form schemas: the built-in forms, schema mistakes reported precisely, `forms check`."""


import json

import pytest

from qrecords.errors import FormError, ValidationError
from qrecords.domain.form_schema import parse_form
from qrecords.domain.forms import validate_data
from tests.render.docx_text import edit_template

# The field ids DOMAIN.md fixes as contract (examples, imports and scripts rely on them).
CONTRACT_IDS = {
    "contract_review": "customer customer_contact customer_phone contract_no "
    "technical_agreement_no order_type repeat_order product specification quantity unit "
    "unit_price amount currency delivery_date delivery_terms payment_terms packaging "
    "customer_requirements implied_requirements statutory_requirements company_requirements "
    "special_requirements",
    "customer_property": "customer contract_no owner_contact received_date received_by",
    "complaint": "received_date market customer customer_contact customer_phone order_no part_no "
    "product quantity ship_date defective_quantity category description customer_request "
    "complaint_reason sample_attached cause_analysis responsible_department countermeasure "
    "disposition disposition_amount customer_accepted follows track_improvement closed_date",
}
CONTRACT_CHOICES = {
    ("contract_review", "order_type"): {"written", "tender", "oral", "phone", "online"},
    ("complaint", "market"): {"domestic", "foreign"},
    ("complaint", "category"): {"quality", "non_quality"},
    ("complaint", "disposition"): {"credit", "compensation", "return", "rework", "replacement",
                                   "unfounded"},
}
SENSITIVE = {"contract_review": {"customer_contact", "customer_phone"},
             "customer_property": {"owner_contact"},
             "complaint": {"customer_contact", "customer_phone"}}


@pytest.mark.parametrize("form_id", sorted(CONTRACT_IDS))
def test_builtin_form_has_the_domain_fields(ws, form_id):
    form = ws.forms.current(form_id)
    assert set(CONTRACT_IDS[form_id].split()) <= set(form.field_ids)
    assert {f.id for f in form.fields if f.sensitive} == SENSITIVE[form_id]
    for field in form.fields:
        assert field.label.zh and field.label.en
    assert form.retention.years == 3 and form.retention.runs_from == "closure"


def test_contract_choice_ids(ws):
    for (form_id, field_id), ids in CONTRACT_CHOICES.items():
        assert {c.id for c in ws.forms.current(form_id).field(field_id).choices} == ids


def test_form_numbers_and_patterns(ws):
    got = {f: (ws.forms.current(f).form_number, ws.forms.current(f).revision, ws.forms.current(f).number_pattern)
           for f in ws.forms.ids()}
    assert got == {"contract_review": ("QR-8.2-01", "A/0", "CR-{yyyy}-{seq:04}"),
                   "customer_property": ("QR-8.5.3-01", "A/0", "CP-{yyyy}-{seq:04}"),
                   "complaint": ("QR-9.1.2-01", "A/0", "CC-{yy}{mm}-{seq:02}")}


GOOD = """
id: demo
title: {zh: 演示, en: Demo}
form_number: QR-0
revision: A/0
number_pattern: "D-{yyyy}-{seq:03}"
template: demo.docx
fields:
  - {id: name, type: text, required: true, label: {zh: 名称, en: Name}}
"""


def test_minimal_schema_parses():
    form = parse_form(GOOD, "demo.yaml")
    assert form.field_ids == ["name"] and form.retention.text == "3y"


@pytest.mark.parametrize("change, expected", [
    (("type: text, required", "type: txt, required"), "field 'name': type 'txt' must be one of"),
    (("required: true,", "requird: true,"), "unknown key 'requird' (did you mean 'required'?)"),
    (("en: Name}", "en: }"), "field 'name' label: must have a Chinese text and, optionally, an English one"),
    (('"D-{yyyy}-{seq:03}"', '"D-{yyyy}"'), "number_pattern: 'D-{yyyy}' needs exactly one"),
    (('"D-{yyyy}-{seq:03}"', '"D/{yyyy}-{seq:03}"'), "only letters, digits, - and _"),
    (("template: demo.docx", "template: ../x.docx"), "template: '../x.docx' must be a .docx"),
    (("id: demo", "id: Demo-1"), "id: 'Demo-1' must be lower-case"),
    (("id: name,", "id: form,"), "id 'form' is reserved"),
    (("revision: A/0\n", ""), "missing required key 'revision'"),
    (("required: true,", "required: true, min: abc,"), "min is only for integer, decimal"),
    (("type: text, required", "type: decimal, places: 20, required"),
     "places must be at most 8"),
    (("type: text, required: true,", "type: table, sensitive: true, columns: [{id: a, "
      "type: text, label: {zh: 甲, en: A}}],"), "sensitive is only for fields outside tables"),
])
def test_schema_mistakes_name_file_field_and_problem(change, expected):
    old, new = change
    assert old in GOOD
    with pytest.raises(FormError) as caught:
        parse_form(GOOD.replace(old, new), "schemas/demo.yaml")
    message = str(caught.value)
    assert message.startswith("schemas/demo.yaml: ") and expected in message, message


KEYED = GOOD + """\
  - id: reviews
    type: table
    key: department
    label: {zh: 评审, en: Reviews}
    columns:
      - {id: department, type: choice, label: {zh: 部门, en: Dept}, choices: [
          {id: sales, zh: 销售, en: Sales}, {id: quality, zh: 质量, en: Quality}]}
"""


def test_a_keyed_table_refuses_a_key_twice():
    form = parse_form(KEYED, "demo.yaml")
    rows = [{"department": "sales"}, {"department": "sales"}]
    with pytest.raises(ValidationError, match="department 'sales' appears more than once"):
        validate_data(form, {"name": "x", "reviews": rows}, "2026-11-23")
    assert validate_data(form, {"name": "x", "reviews": rows[:1]}, "2026-11-23")["reviews"]


def test_schema_reports_every_mistake_at_once():
    broken = GOOD.replace("type: text", "type: nope").replace("{zh: 演示, en: Demo}",
                                                              "{en: Demo}") \
        .replace("form_number: QR-0\n", "")
    with pytest.raises(FormError) as caught:
        parse_form(broken, "demo.yaml")
    assert len(str(caught.value).splitlines()) >= 3


def test_invalid_yaml_gives_the_line():
    with pytest.raises(FormError, match=r"demo.yaml: line 3: invalid YAML"):
        parse_form("id: x\ntitle: {zh: a\nfields: [\n", "demo.yaml")


def test_forms_check_builtin_clean(run):
    result = run("forms", "check")
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 3


def test_forms_check_finds_template_problems(ws, run):
    edit_template(ws, "complaint", "{{ customer }}", "{{ custmer }}")
    edit_template(ws, "customer_property", "{{ row.storage_location }}", "{{ row.location }}")
    edit_template(ws, "contract_review", "{{ record.number }}", "{{ record.nmber }}")
    result = run("forms", "check")
    assert result.exit_code == 1
    out = result.output
    assert "placeholder 'custmer' is not a field of complaint (did you mean 'customer'?)" in out
    assert "required field 'customer' does not appear" in out
    assert "'items' has no column 'location'" in out
    assert "'record.nmber' is not available" in out


def test_forms_check_reports_a_broken_schema_and_a_missing_template(ws, run):
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace("type: integer", "type: int",
                                                                  1), encoding="utf-8")
    (ws.root / "templates" / "contract_review.docx").unlink()
    result = run("forms", "check")
    assert result.exit_code == 1
    assert "complaint.yaml: field 'quantity': type 'int' must be one of" in result.output
    assert "template 'contract_review.docx' not found" in result.output


def test_forms_check_reports_a_corrupt_template(ws, run):
    (ws.root / "templates" / "complaint.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = run("forms", "check", "complaint")
    assert result.exit_code == 1 and "not a readable DOCX file" in result.output


def test_forms_listing_and_show(run):
    listing = run("forms")
    assert listing.exit_code == 0 and "合同评审单 Contract Review Sheet" in listing.output
    shown = run("forms", "show", "complaint")
    assert "disposition" in shown.output and "credit / compensation" in shown.output
    as_json = run("forms", "show", "complaint", "--json")
    assert '"form_number": "QR-9.1.2-01"' in as_json.output


def test_forms_show_json_gives_every_built_in_form_with_its_computed_expressions(run):
    """A computed field's parsed expression once made `forms show contract_review --json` an
    internal error; it is given as the schema writes it."""
    for form_id in ("contract_review", "customer_property", "complaint"):
        result = run("forms", "show", form_id, "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert shown["id"] == form_id and "source" not in shown
        assert shown["title"] == {"zh": shown["title"]["zh"], "en": shown["title"]["en"]}
        assert "void" in [state["id"] for state in shown["workflow"]["states"]]
        if form_id == "contract_review":
            amount = next(f for f in shown["fields"] if f["id"] == "amount")
            assert amount["computed"] == "quantity * unit_price"


def test_a_parsed_form_pickles_and_copies_as_it_is(ws):
    """Forms are plain immutable values: a worker process or a copy gets the same form."""
    import copy
    import pickle

    for form_id in ws.forms.ids():
        form = ws.forms.current(form_id)
        assert pickle.loads(pickle.dumps(form)) == form == copy.deepcopy(form)
