"""Filling records: new, amend, show, history, diff — through the CLI on a real workspace."""

import pytest

from qrecords.errors import FormError
from tests.conftest import as_json, as_user, example, load_example, snapshot
from tests.render.docx_text import docx_text, edit_template
from qrecords.api import records

CONTRACT_KEYS = {"number", "form", "form_revision", "version", "status", "data", "files",
                 "retention_until", "hold"}


@pytest.mark.parametrize("form_id, number, state", [
    ("contract_review", "CR-2026-0001", "draft"),
    ("customer_property", "CP-2026-0001", "received"),
    ("complaint", "CC-2611-01", "registered")])
def test_new_from_example_gives_version_1(run, form_id, number, state):
    record = as_json(run("new", form_id, "--data", example(form_id), "--json"))
    assert CONTRACT_KEYS <= set(record)
    assert (record["number"], record["form"], record["version"], record["status"]) == \
        (number, form_id, 1, state)  # the first state of the form's workflow
    assert record["form_revision"] == "A/0"
    assert record["files"]["docx"].endswith(f"/{number}_v1.docx")
    assert record["files"]["pdf"].endswith(f"/{number}_v1.pdf")


def test_values_are_typed_and_computed(run):
    record = as_json(run("new", "contract_review", "--data", example("contract_review"),
                         "--json"))
    data = record["data"]
    assert data["quantity"] == "1200" and data["unit_price"] == "86.5000"
    assert data["amount"] == "103800.00"          # quantity × unit price
    assert data["repeat_order"] is False and data["delivery_date"] == "2026-12-20"
    assert data["currency"] == "CNY"              # schema default
    assert data["department_reviews"] == []      # rows come with the sign-offs


def test_new_from_set_only_with_labels_accepted_for_choices(run):
    record = as_json(run("new", "complaint", "--set", "customer=宁波海天塑机", "--set",
                         "market=国外", "--set", "description=外观划伤", "--set",
                         "quantity=1,200", "--json"))
    assert record["data"]["market"] == "foreign" and record["data"]["quantity"] == 1200
    assert record["data"]["received_date"] == "2026-11-23"  # default: effective today


def test_numbers_and_dates_typed_in_full_width_are_taken(run):
    """A Chinese input method types digits and signs full-width: they were refused."""
    record = as_json(run("new", "complaint", "--set", "customer=宁波海天塑机", "--set",
                         "market=国外", "--set", "description=外观划伤", "--set",
                         "quantity=１，２００", "--set", "received_date=２０２６－１１－２０",
                         "--json"))
    assert record["data"]["quantity"] == 1200
    assert record["data"]["received_date"] == "2026-11-20"
    unit_price = as_json(run("new", "contract_review", "--data", example("contract_review"),
                             "--set", "unit_price=８６．５", "--json"))
    assert unit_price["data"]["unit_price"] == "86.5000"


def test_table_from_set_as_yaml(run):
    record = as_json(run("new", "customer_property", "--set", "customer=苏州明辉", "--set",
                         "items=[{item_no: 1, name: 铜板, category: 材料, quantity: 5}]",
                         "--json"))
    assert record["data"]["items"][0]["category"] == "material"


def test_invalid_new_lists_every_problem_and_changes_nothing(ws, run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    before = snapshot(ws.root)
    result = run("new", "complaint", "--set", "custmer=X", "--set", "market=mars",
                 "--set", "quantity=-1", "--set", "ship_date=2026-02-30")
    assert result.exit_code == 1
    out = result.output
    assert "unknown field 'custmer' (did you mean 'customer'?)" in out
    assert "market (市场): 'mars' 须为其中之一 must be one of domestic (国内), foreign (国外)" \
        in out
    assert "quantity (数量): '-1' 低于下限 below the minimum 0" in out
    assert "ship_date (交运日期): '2026-02-30' 不是真实的日期 is not a real calendar date" in out
    assert "customer (客户名称): 必填 is required" in out
    assert "description (异常描述): 必填 is required" in out
    assert "Traceback" not in out
    assert snapshot(ws.root) == before
    # and no number was used: the next good record takes 02
    assert as_json(run("new", "complaint", "--data", example("complaint"),
                       "--json"))["number"] == "CC-2611-02"


def test_amend_makes_the_next_version_and_keeps_the_old_one(run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    v2 = as_json(run("amend", "CC-2611-01", "--set", "defective_quantity=15", "--reason",
                     "客户复点", "--json"))
    assert v2["version"] == 2 and v2["data"]["defective_quantity"] == 15
    assert v2["reason"] == "客户复点" and v2["files"]["docx"].endswith("CC-2611-01_v2.docx")
    v1 = as_json(run("show", "CC-2611-01", "--version", "1", "--json"))
    assert v1["data"]["defective_quantity"] == 12 and v1["current_version"] == 2
    assert "12" in docx_text(v1["files"]["docx"]) and "15" in docx_text(v2["files"]["docx"])


def test_history_and_diff_field_by_field_with_table_rows(run):
    as_json(run("new", "customer_property", "--data", example("customer_property"), "--json"))
    data = load_example("customer_property")
    data["items"][1]["condition"] = "锈蚀已处理"
    data["items"].append({"item_no": 4, "name": "检具", "category": "gauge"})
    import yaml

    changes = {"items": data["items"], "received_by": "王文"}
    result = run("amend", "CP-2026-0001", "--set", f"items={yaml.safe_dump(data['items'])}",
                 "--set", "received_by=王文", "--reason", "补充检具")
    assert result.exit_code == 0, result.output
    diff = as_json(run("diff", "CP-2026-0001", "--json"))
    labels = [c["label"] for c in diff["changes"]]
    assert (diff["from"], diff["to"]) == (1, 2)
    assert any(label.startswith("items[2].condition") for label in labels)
    assert any(label.endswith("items[4]") for label in labels)
    assert any(label.startswith("接收人") for label in labels)
    added = next(c for c in diff["changes"] if c["label"].endswith("items[4]"))
    assert added["from"] is None and "检具" in added["to"]
    history = as_json(run("history", "CP-2026-0001", "--json"))
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["reason"] == "补充检具"
    assert history[1]["changed"] == sorted(changes)
    text = run("history", "CP-2026-0001").output
    assert "补充检具" in text and "新建 Created" in text and "修改 Amended" in text


def test_amend_that_changes_nothing_is_refused(run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    result = run("amend", "CC-2611-01", "--set", "defective_quantity=12", "--reason", "x")
    assert result.exit_code == 1 and "nothing changed" in result.output


def test_record_keeps_its_form_revision_after_the_form_changes(ws, run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    schema = ws.root / "schemas" / "complaint.yaml"
    text = schema.read_text(encoding="utf-8")
    # Revise the form: new revision, a relabelled field and a new template.
    schema.write_text(text.replace("revision: A/0", "revision: A/1").replace(
        "{zh: 料号, en: Part no.}", "{zh: 物料编码, en: Material code}"), encoding="utf-8")
    edit_template(ws, "complaint", "{{ form.title_zh }}", "{{ form.title_zh }}（A/1 新版）")
    new = as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    assert new["form_revision"] == "A/1" and "A/1 新版" in docx_text(new["files"]["docx"])
    old = as_json(run("amend", "CC-2611-01", "--set", "defective_quantity=13", "--reason",
                      "复点", "--json"))
    assert old["form_revision"] == "A/0"
    assert "A/1 新版" not in docx_text(old["files"]["docx"])
    assert "料号" in run("show", "CC-2611-01").output


def test_changing_a_form_without_a_new_revision_is_refused(ws, run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    with pytest.raises(FormError, match="needs a new revision"):
        records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))


def test_sensitive_values_masked_without_privacy_role_and_reads_logged(ws, run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    masked = as_json(run("show", "CC-2611-01", "--json", user="zhangwei"))
    assert masked["data"]["customer_phone"] == "***" and masked["data"]["customer_contact"] == "***"
    seen = as_json(run("show", "CC-2611-01", "--json", user="lina"))
    assert seen["data"]["customer_contact"] == "王磊"
    events = ws.catalog.events("CC-2611-01")
    reads = [e for e in events if e["action"] == "record.sensitive_read"]
    assert [e["actor"] for e in reads] == ["lina"]
    assert reads[0]["detail"]["fields"] == ["customer_contact", "customer_phone"]


def test_every_version_records_who_when_why(ws, run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json", user="zhangwei"))
    as_json(run("amend", "CC-2611-01", "--set", "category=non_quality", "--reason", "改类别",
                "--json", user="lina"))
    actions = [(e["action"], e["actor"], e["version"]) for e in ws.catalog.events("CC-2611-01")
               if e["action"] != "record.sensitive_read"]
    assert actions == [("record.created", "zhangwei", 1), ("file.pdf_made", "zhangwei", 1),
                       ("record.amended", "lina", 2), ("file.pdf_made", "lina", 2)]
    history = records.history(ws, "CC-2611-01")
    assert [v["author"] for v in history] == ["zhangwei", "lina"]
    assert all(v["created_at"].endswith("Z") for v in history)


def test_amend_output_masks_what_the_amending_user_may_not_see(run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    amended = as_json(run("amend", "CC-2611-01", "--set", "defective_quantity=13", "--reason",
                          "复点", "--json", user="zhangwei"))
    assert amended["data"]["customer_phone"] == "***"
    assert "138 0000 1234" not in run("amend", "CC-2611-01", "--set", "defective_quantity=14",
                                      "--reason", "复点", user="zhangwei").output


def test_the_mask_cannot_be_written_back(ws, run):
    shown = as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    masked = as_json(run("show", "CC-2611-01", "--json", user="zhangwei"))["data"]
    import json

    data_file = ws.root.parent / "masked.json"
    data_file.write_text(json.dumps({**masked, "defective_quantity": 13}), encoding="utf-8")
    result = run("amend", "CC-2611-01", "--data", data_file, "--reason", "x", user="zhangwei")
    assert result.exit_code == 1
    assert "customer_contact: '***' is how the value is hidden" in result.output
    assert as_json(run("show", "CC-2611-01", "--json"))["data"]["customer_contact"] == \
        shown["data"]["customer_contact"]


def test_amending_a_factor_recomputes_its_product(run):
    as_json(run("new", "contract_review", "--data", example("contract_review"), "--json"))
    amended = as_json(run("amend", "CR-2026-0001", "--set", "quantity=600", "--reason",
                          "客户减量", "--json"))
    assert (amended["data"]["quantity"], amended["data"]["amount"]) == ("600", "51900.00")
    wrong = run("amend", "CR-2026-0001", "--set", "unit_price=80", "--set", "amount=1",
                "--reason", "x")
    assert wrong.exit_code == 1 and "is not quantity × unit_price = 48000.00" in wrong.output


def test_huge_factors_are_computed_exactly(run):
    record = as_json(run("new", "contract_review", "--data", example("contract_review"),
                         "--set", "quantity=999999999999999", "--set",
                         "unit_price=999999999999999.9999", "--json"))
    assert record["data"]["amount"] == "999999999999998999900000000000.00"


def test_forms_whose_numbers_collide_are_refused_without_a_gap(ws, run):
    source = (ws.root / "schemas" / "complaint.yaml").read_text(encoding="utf-8")
    (ws.root / "schemas" / "complaint_b.yaml").write_text(
        source.replace("id: complaint\n", "id: complaint_b\n", 1), encoding="utf-8")
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    clash = run("new", "complaint_b", "--data", example("complaint"))
    assert clash.exit_code == 1
    assert "number CC-2611-01 is already used by another record" in clash.output
    assert as_json(run("new", "complaint", "--data", example("complaint"),
                       "--json"))["number"] == "CC-2611-02"


def test_unknown_user_is_refused_by_read_commands_too(run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    result = run("history", "CC-2611-01", user="nobody")
    assert result.exit_code == 1 and "unknown user 'nobody'" in result.output


def test_a_lower_case_number_gets_a_hint(run):
    as_json(run("new", "complaint", "--data", example("complaint"), "--json"))
    result = run("show", "cc-2611-01")
    assert result.exit_code == 1 and "did you mean 'CC-2611-01'?" in result.output
