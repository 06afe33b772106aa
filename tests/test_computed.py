"""Computed fields declared in a form's schema (issue 18): sum, average and count of a table
column and arithmetic of fields, checked when the form loads, computed on new and amend,
stored in the version's data and printed in the DOCX; through the real `qrec`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
from docx import Document

from tests.conftest import TODAY
from tests.render.docx_text import docx_text

QREC = str(Path(sys.executable).parent / "qrec")

SCHEMA = """\
id: purchase
title: {zh: 采购单, en: Purchase order}
form_number: QR-7.4-01
revision: A/0
number_pattern: "PO-{yyyy}-{seq:03}"
template: purchase.docx
title_fields: [supplier]
fields:
  - {id: supplier, type: text, required: true, label: {zh: 供应商, en: Supplier}}
  - id: lines
    type: table
    min_rows: 1
    label: {zh: 明细, en: Lines}
    columns:
      - {id: item, type: text, label: {zh: 品名, en: Item}}
      - {id: qty, type: integer, label: {zh: 数量, en: Quantity}}
      - {id: price, type: decimal, places: 2, label: {zh: 单价, en: Unit price}}
      - {id: amount, type: decimal, places: 2, computed: qty * price,
         label: {zh: 金额, en: Amount}}
  - {id: line_count, type: integer, computed: count(lines), label: {zh: 行数, en: Lines}}
  - {id: total, type: decimal, places: 2, computed: sum(lines.amount),
     label: {zh: 合计, en: Total}}
  - {id: mean_price, type: decimal, places: 3, computed: average(lines.price),
     label: {zh: 平均单价, en: Average price}}
  - {id: freight, type: decimal, places: 2, label: {zh: 运费, en: Freight}}
  - {id: with_tax, type: decimal, places: 2, computed: (total + freight) * 1.13,
     label: {zh: 含税合计, en: Total with tax}}
workflow:
  states:
    - {id: open, zh: 待审, en: Open, holder: purchasing}
    - {id: closed, zh: 已关闭, en: Closed, closes: true}
  amend_roles: [document_controller]
  transitions:
    - {id: close, zh: 关闭, en: Close, from: [open], to: closed, roles: [document_controller]}
"""

DATA = {"supplier": "宁波铜材", "freight": "10.00",
        "lines": [{"item": "铜板", "qty": 3, "price": "12.50"},
                  {"item": "铜棒", "qty": 2, "price": "0.35"}]}


def qrec(root: Path, *args: str, user: str = "wangwen") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(root), QREC_TODAY=TODAY, QREC_SOFFICE="/nonexistent/soffice")
    return subprocess.run([QREC, "--as", user, *args], capture_output=True, text=True,
                          env=env, timeout=300)


def add_form(root: Path, schema: str = SCHEMA) -> None:
    (root / "schemas" / "purchase.yaml").write_text(schema, encoding="utf-8")
    document = Document()
    for line in ("{{ supplier }}", "{% for row in lines %}{{ row.item }}={{ row.amount }}; "
                 "{% endfor %}", "行数 {{ line_count }}", "合计 {{ total }}",
                 "平均单价 {{ mean_price }}", "含税合计 {{ with_tax }}"):
        document.add_paragraph(line)
    document.save(root / "templates" / "purchase.docx")


def made(root: Path, data: dict, *more: str) -> dict:
    path = root / "purchase-data.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    done = qrec(root, "new", "purchase", "--data", str(path), "--json", *more)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_computed_fields_are_stored_and_printed(ws):
    add_form(ws.root)
    record = made(ws.root, DATA)
    data = record["data"]
    assert [row["amount"] for row in data["lines"]] == ["37.50", "0.70"]
    assert data["line_count"] == 2
    assert data["total"] == "38.20"
    assert data["mean_price"] == "6.425"  # (12.50 + 0.35) / 2, exactly
    assert data["with_tax"] == "54.47"  # (38.20 + 10.00) × 1.13 = 54.466, half up
    text = docx_text(ws.root / "records" / record["files"]["docx"])
    for printed in ("铜板=37.50; 铜棒=0.70;", "行数 2", "合计 38.20", "平均单价 6.425",
                    "含税合计 54.47"):
        assert printed in text


def test_amend_computes_again_and_a_typed_value_that_differs_is_refused(ws):
    add_form(ws.root)
    number = made(ws.root, DATA)["number"]
    wrong = qrec(ws.root, "new", "purchase", "--set", "supplier=甲", "--set",
                 "lines=[{item: 铜板, qty: 1, price: 2}]", "--set", "total=5")
    assert wrong.returncode == 1
    assert "total (合计): 计算字段 5.00 is not sum(lines.amount) = 2.00" in wrong.stderr
    amended = qrec(ws.root, "amend", number, "--set", "freight=0", "--reason", "免运费",
                   "--json")
    assert amended.returncode == 0, amended.stderr
    assert json.loads(amended.stdout)["data"]["with_tax"] == "43.17"  # 38.20 × 1.13
    same = qrec(ws.root, "new", "purchase", "--set", "supplier=乙", "--set",
                "lines=[{item: 铜板, qty: 1, price: 2, amount: 2}]", "--json")
    assert same.returncode == 0, same.stderr  # the value it would be: taken as given

    # A revision frozen with the older spelling product_of keeps its rule: a value typed
    # while a factor is empty stays through an amendment that changes neither factor.
    old = SCHEMA.replace("revision: A/0", "revision: A/1").replace(
        "computed: (total + freight) * 1.13", "product_of: [freight, line_count]")
    add_form(ws.root, old)
    kept = made(ws.root, {**DATA, "freight": None, "with_tax": "99.00"})
    assert kept["data"]["with_tax"] == "99.00"
    amended = qrec(ws.root, "amend", kept["number"], "--set", "supplier=丙", "--reason", "更名",
                   "--json")
    assert amended.returncode == 0, amended.stderr
    assert json.loads(amended.stdout)["data"]["with_tax"] == "99.00"
    amended = qrec(ws.root, "amend", kept["number"], "--set", "freight=3", "--reason", "运费",
                   "--json")
    assert json.loads(amended.stdout)["data"]["with_tax"] == "6.00"  # 3 × 2 rows


def test_a_bad_declaration_is_one_line_naming_the_form_and_the_field(ws):
    cases = {
        "computed: sum(lines.qty) + frieght": "field 'with_tax': computed: unknown field "
                                              "'frieght' (did you mean 'freight'?)",
        "computed: sum(lines.item)": "field 'with_tax': computed: sum(lines.item): the "
                                     "column is text, not a number",
        "computed: with_tax - 1": "field 'with_tax': computed: a cycle with_tax → with_tax",
        "computed: __import__('os').system('true')": "field 'with_tax': computed: "
                                                     "'__import__('os').system('true')' is "
                                                     "not allowed",
    }
    for declaration, expected in cases.items():
        add_form(ws.root, SCHEMA.replace("computed: (total + freight) * 1.13", declaration))
        done = qrec(ws.root, "new", "purchase", "--set", "supplier=甲")
        assert done.returncode != 0
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "schemas/purchase.yaml" in lines[0], done.stderr
        assert expected in lines[0], done.stderr


def test_a_computed_table_column_is_not_asked_at_the_terminal_and_yes_no_take_chinese(ws):
    """At a terminal the computed column is shown, never asked; 是/否 answer the yes/no
    questions and a wrong answer is said in both languages, then asked again."""
    add_form(ws.root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(ws.root), QREC_TODAY=TODAY,
               QREC_SOFFICE="/nonexistent/soffice")
    child = pexpect.spawn(QREC, ["--as", "wangwen", "new", "purchase"], env=env,
                          encoding="utf-8", timeout=60, dimensions=(50, 200))
    child.expect_exact("供应商 Supplier *")
    child.sendline("宁波铜材")
    for label, text in (("品名 Item", "铜板"), ("数量 Quantity", "3"), ("单价 Unit price", "2.50")):
        child.expect_exact(label)
        child.sendline(text)
    child.expect_exact("金额 Amount = qty * price (自动计算 computed)")
    child.expect_exact("添加一行 Add a row (1 so far)? [y/N]")
    child.sendline("maybe")
    child.expect_exact("请回答 是/否 (y/n)")
    child.expect_exact("answer yes or no")
    child.expect_exact("添加一行 Add a row (1 so far)? [y/N]")
    child.sendline("否")
    child.expect_exact("运费 Freight")
    child.sendline("")
    child.expect_exact("保存？ save? [y/N]")
    child.sendline("是")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    shown = qrec(ws.root, "show", "PO-2026-001", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)["data"]
    assert data["lines"] == [{"item": "铜板", "qty": 3, "price": "2.50", "amount": "7.50"}]
    assert data["total"] == "7.50"


def test_a_sum_or_an_average_of_no_values_is_empty_and_a_count_is_zero(ws):
    """Review 18b: the sum of an empty table was 0.00 while the README says an empty
    operand leaves the field empty (as the average of no values already was)."""
    add_form(ws.root, SCHEMA.replace("    min_rows: 1\n", ""))
    empty = made(ws.root, {"supplier": "宁波铜材", "freight": "10.00"})["data"]
    assert (empty["line_count"], empty.get("total"), empty.get("mean_price"),
            empty.get("with_tax")) == (0, None, None, None)
    unpriced = made(ws.root, {"supplier": "宁波铜材", "lines": [{"item": "铜板"},
                                                             {"item": "铜棒"}]})["data"]
    assert (unpriced["line_count"], unpriced.get("total"), unpriced.get("mean_price")) == \
        (2, None, None)
    given = qrec(ws.root, "new", "purchase", "--set", "supplier=甲", "--set", "total=0")
    assert given.returncode == 1
    assert "total (合计): 计算字段 is computed (sum(lines.amount)) and cannot be given while lines is " \
        "empty" in given.stderr
