"""Hostile and careless input: every bad invocation fails cleanly and changes nothing.

The rules (DESIGN.md, "Principles"): a user error prints `Error: ...` naming what is wrong and
where, exits 1 (click usage errors exit 2), shows no traceback, and leaves the workspace, the
catalog included, byte for byte as it was. A few odd but valid values must instead be stored
and printed exactly as typed.

Each error case is one row of CASES; `test_refused` runs them all the same way. Broken forms
are planted in the workspace after the seed record; a read-only records folder and a full disk
are simulated in-process (the tests run as root, which chmod does not stop): see simulate_disk.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner

from qrecords.cli import cli
from qrecords.files import local as files
from tests.conftest import example, load_example, snapshot

NUMBER = "CC-2611-01"          # the first complaint under QREC_TODAY=2026-11-23 (conftest)
MISSING = "CC-2611-99"
COMPLAINT = str(example("complaint"))
MINIMAL = {"market": "domestic", "customer": "ACME 精密", "description": "外壳划伤"}
TEMPLATE = Path(__file__).resolve().parent.parent / "qrecords" / "templates" / "complaint.docx"
# anything but tab and newline: C0, DEL and C1 controls, line/paragraph separators, bidi
# embeddings, overrides and isolates (a raw U+202E would reorder the error on the terminal)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
PROBLEM_LINE = "  - "
SCHEMA = TEMPLATE.parent.parent / "schemas" / "complaint.yaml"


def foreign_docx() -> bytes:
    """A valid DOCX that is not a form template: meeting minutes, no placeholder at all."""
    document = docx.Document()
    document.add_heading("会议纪要 Meeting minutes", 1)
    document.add_paragraph("质量例会：讨论十一月客户投诉。 {not a tag}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def schema_with(old: str, new: str) -> str:
    text = SCHEMA.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def with_reviews(*rows) -> dict:
    return {**load_example("contract_review"), "department_reviews": list(rows)}


def with_items(*rows) -> dict:
    return {**load_example("customer_property"), "items": list(rows)}


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple             # after `-w WS --as USER`; {file} {tmp} {ws} are filled in
    expect: tuple           # substrings the error (stderr) must contain
    code: int = 1
    file: object = None     # str/bytes written as is; dict/list as JSON (.json) or YAML
    name: str = "data.yaml"  # the file's name in tmp_path
    stdin: str | None = None
    seed: bool = False      # make record NUMBER (from the complaint example) first
    problems: int | None = None  # exactly this many "  - " problem lines
    env: dict = field(default_factory=dict)
    user: str | None = "lina"
    workspace: bool = True  # pass -w WS
    plant: tuple = ()       # (path under WS, bytes or str) written after the seed
    disk: str | None = None  # simulate a "read-only" records folder or a "full" disk


def new(form: str, *more: str) -> tuple:
    """`new FORM --data <the form's example>` plus more arguments."""
    return ("new", form, "--data", str(example(form)), *more)


def many_keys_yaml(size: int) -> str:
    """YAML of about `size` bytes: one short key after another (a million of them in 10 MB)."""
    lines, total, i = [], 0, 0
    while total < size:
        line = f"k{i}: v\n"
        lines.append(line)
        total, i = total + len(line), i + 1
    return "".join(lines)


def big_table_json(size: int) -> str:
    """A customer property list of about `size` bytes of JSON, far more rows than allowed."""
    row = '{"item_no": 1, "name": "铜板", "category": "material"}'
    count = size // (len(row.encode()) + 2)  # each row and its ", "
    return '{"customer": "ACME", "items": [' + ", ".join([row] * count) + "]}"


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))

DUPLICATE_ROW_YAML = ("items:\n  - item_no: 1\n    name: 铜板\n    category: material\n"
                      "    name: 模具\n" + "customer: ACME\n")


CASES = [
    # -- --data files -------------------------------------------------------------------------
    Case("yaml-unclosed-bracket", ("new", "complaint", "--data", "{file}"),
         ("--data", "data.yaml", "invalid YAML", "line 3"),
         file="customer: ACME\nmarket: [domestic\ndescription: x\n"),
    Case("yaml-bad-indent", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "invalid YAML at line 4", "mapping values are not allowed"),
         file="customer: ACME\ndescription: x\nmarket: domestic\n  bad: indent\n"),
    Case("yaml-tab-indent", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "invalid YAML at line 2", "'\\t'"), file="customer:\n\t- ACME\n"),
    Case("yaml-python-tag", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "invalid YAML at line 1", "python/object"),
         file="customer: !!python/object/apply:os.system ['touch /tmp/pwned']\n"),
    Case("yaml-deeply-nested", ("new", "complaint", "--data", "{file}"), ("--data", "data.yaml"),
         file="customer: " + "[" * 3000 + "]" * 3000 + "\n"),
    Case("json-trailing-comma", ("new", "complaint", "--data", "{file}"),
         ("--data", "data.json", "invalid JSON at line 3"), name="data.json",
         file='{"market": "domestic",\n "customer": "ACME",\n}'),
    Case("json-deeply-nested", ("new", "complaint", "--data", "{file}"), ("--data", "data.json"),
         name="data.json", file='{"customer": ' + "[" * 3000 + "]" * 3000 + "}"),
    Case("yaml-list-not-mapping", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "must be a mapping of field id to value", "list"),
         file="- market: domestic\n- customer: ACME\n"),
    Case("yaml-scalar-not-mapping", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "must be a mapping of field id to value"), file="just some words\n"),
    Case("json-list-not-mapping", ("new", "complaint", "--data", "{file}"),
         ("data.json", "must be a mapping", "list"), name="data.json", file=[MINIMAL]),
    Case("empty-file-reports-required", ("new", "complaint", "--data", "{file}"),
         ("market (市场): 必填 is required", "customer (客户名称): 必填 is required",
          "description (异常描述): 必填 is required"), file="", problems=3),
    Case("not-utf8", ("new", "complaint", "--data", "{file}"), ("data.yaml", "not UTF-8"),
         file="customer: 华东电力\nmarket: domestic\n".encode("gbk")),
    Case("binary-docx-as-data", ("new", "complaint", "--data", "{file}"),
         ("data.docx", "not UTF-8"), name="data.docx", file=TEMPLATE.read_bytes()),
    Case("nul-bytes-file", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "invalid YAML"), file=b"\x00\x01\x02\x03"),
    Case("data-is-a-folder", ("new", "complaint", "--data", "{tmp}"), ("--data", "is a folder")),
    Case("data-missing-file", ("new", "complaint", "--data", "{tmp}/nope.yaml"),
         ("nope.yaml", "no such file")),
    Case("data-too-large", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "larger than 10 MiB"), file=b"# " + b"x" * (10 * 2**20)),
    Case("data-endless-device", ("new", "complaint", "--data", "/dev/zero"),
         ("/dev/zero", "文件过大 larger than 10 MiB")),  # read whole before: gigabytes
    Case("stdin-invalid-yaml", ("new", "complaint", "--data", "-"),
         ("--data -", "invalid YAML"), stdin="customer: [ACME\n"),
    Case("stdin-too-large", ("new", "complaint", "--data", "-"),
         ("--data -", "larger than 10 MiB"), stdin="#" * (10 * 2**20 + 1)),

    # -- within the size limit, but no record data: refused before it is built ----------------
    Case("data-10mb-of-keys", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "holds more than 20000 values (at line 10000)"),
         file=many_keys_yaml(10 * 2**20 - 100)),
    Case("data-10mb-table-json", ("new", "customer_property", "--data", "{file}"),
         ("data.json", "holds more than 20000 values"), name="data.json",
         file=big_table_json(10 * 2**20 - 100)),
    Case("yaml-alias-bomb", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "holds more than 20000 values"), file=ALIAS_BOMB),
    Case("yaml-alias-to-itself", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "the alias at line 1 refers to the value that holds it"),
         file="customer: &c [*c]\n"),
    Case("yaml-nested-11-levels", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "nested too deeply to be record data (more than 10 levels"),
         file="customer: " + "[" * 11 + "]" * 11 + "\n"),
    Case("json-nested-11-levels", ("new", "complaint", "--data", "{file}"),
         ("data.json", "nested too deeply to be record data (more than 10 levels"),
         name="data.json", file='{"customer": ' + "[" * 11 + "]" * 11 + "}"),

    # -- a key given twice: which one was meant? (YAML and JSON parsers keep the last) --------
    Case("yaml-duplicate-key", ("new", "complaint", "--data", "{file}"),
         ("data.yaml", "the key 'customer' is given twice (line 2 and line 4)"),
         file="market: domestic\ncustomer: ACME\ndescription: x\ncustomer: 华东电力\n"),
    Case("yaml-duplicate-key-in-a-table-row", ("new", "customer_property", "--data", "{file}"),
         ("data.yaml", "the key 'name' is given twice (line 3 and line 5)"),
         file=DUPLICATE_ROW_YAML),
    Case("json-duplicate-key", ("new", "complaint", "--data", "{file}"),
         ("data.json", "the key 'customer' is given twice (line 2 and line 4)"),
         name="data.json", file='{"market": "domestic",\n "customer": "ACME",\n'
                                ' "description": "x",\n "customer": "华东电力"}'),
    Case("json-duplicate-key-written-with-an-escape", ("new", "complaint", "--data", "{file}"),
         ("data.json", "the key 'customer' is given twice (line 1 and line 2)"),
         name="data.json", file='{"customer": "ACME", "market": "domestic",\n'
                                ' "cust\\u006fmer": "华东电力", "description": "x"}'),
    Case("json-duplicate-key-in-a-table-row", ("new", "customer_property", "--data", "{file}"),
         ("data.json", "the key 'name' is given twice (line 3)"), name="data.json",
         file='{"customer": "ACME",\n "items": [{"item_no": 1, "name": "铜板", "category": '
              '"material"},\n  {"item_no": 2, "name": "模具", "name": "铜板"}]}'),
    Case("set-table-duplicate-column",
         new("customer_property", "--set",
             "items=[{item_no: 1, name: 铜板, category: material, name: 模具}]"),
         ("items (财产明细)", "the key 'name' is given twice")),

    # -- wrong values, field by field -------------------------------------------------------
    Case("integer-given-text", new("complaint", "--set", "quantity=lots"),
         ("quantity (数量)", "'lots' 须为整数 must be a whole number"), problems=1),
    Case("integer-given-fraction", new("complaint", "--set", "quantity=2.5"),
         ("quantity", "'2.5' 须为整数 must be a whole number")),
    Case("integer-below-min", new("complaint", "--set", "quantity=-5"),
         ("quantity", "below the minimum 0")),
    Case("decimal-given-text", new("complaint", "--set", "disposition_amount=ten yuan"),
         ("disposition_amount (金额)", "must be a number")),
    Case("decimal-nan", new("complaint", "--set", "disposition_amount=NaN"),
         ("disposition_amount", "must be a number")),
    # "86,5" is 86.5 written with a decimal comma; it must not become 865 (ten times the price)
    Case("decimal-comma-is-not-thousands", new("contract_review", "--set", "unit_price=86,5"),
         ("unit_price", "'86,5'")),
    Case("unit-price-too-many-places", new("contract_review", "--set", "unit_price=86.12345"),
         ("unit_price (单价)", "more than 4 decimal places")),
    Case("amount-too-many-places", new("contract_review", "--set", "amount=103800.001"),
         ("amount (金额)", "more than 2 decimal places")),
    Case("amount-not-product", new("contract_review", "--set", "amount=100"),
         ("amount (金额)", "is not quantity × unit_price = 103800.00"), problems=1),
    Case("date-word", new("complaint", "--set", "ship_date=tomorrow"),
         ("ship_date (交运日期)", "'tomorrow' 须为日期 must be a date YYYY-MM-DD")),
    Case("date-feb-30", new("complaint", "--set", "received_date=2026-02-30"),
         ("received_date", "'2026-02-30' 不是真实的日期 is not a real calendar date")),
    Case("date-month-13", new("complaint", "--set", "received_date=2026-13-01"),
         ("received_date", "is not a real calendar date")),
    Case("date-day-first", new("complaint", "--set", "ship_date=23/11/2026"),
         ("ship_date", "must be a date YYYY-MM-DD")),
    Case("date-year-9999", new("complaint", "--set", "ship_date=9999-12-31"),
         ("ship_date (交运日期)", "'9999-12-31' 超出记录可用的日期范围 is outside the dates a "
          "record may hold "
          "(1900-01-01 to 2199-12-31)")),
    Case("date-year-1", new("complaint", "--set", "production_date=0001-01-01"),
         ("production_date (生产日期)", "is outside the dates a record may hold")),
    Case("date-1899-in-a-table", new("customer_property", "--set",
                                     "items=[{item_no: 1, name: 铜板, category: material}]",
                                     "--set", "received_date=1899-12-31"),
         ("received_date (接收日期)", "is outside the dates a record may hold")),
    Case("today-year-9999", new("complaint"),
         ("QREC_TODAY='9999-12-20' is outside the dates a record may hold",),
         env={"QREC_TODAY": "9999-12-20"}),
    Case("choice-unknown", new("complaint", "--set", "market=overseas"),
         ("market (市场)", "'overseas' 须为其中之一 must be one of domestic (国内), "
          "foreign (国外)")),
    Case("choice-unknown-in-table-cell", ("new", "customer_property", "--data", "{file}"),
         ("items[1].category", "'maybe' 须为其中之一 must be one of material"),
         file=with_items({"item_no": 1, "name": "铜板", "category": "maybe"})),
    Case("date-in-the-future", new("complaint", "--set", "received_date=2026-12-01"),
         ("received_date (受理日期)", "above the maximum today (a date in the future)")),
    Case("step-unknown-field", ("do", NUMBER, "investigate", "--set", "bogus=1"),
         ("unknown field 'bogus'",), seed=True, user="zhaomin"),
    Case("yesno-maybe", new("complaint", "--set", "sample_attached=maybe"),
         ("sample_attached (附样品)", "must be yes or no")),
    Case("text-given-list", ("new", "complaint", "--data", "{file}"),
         ("customer (客户名称)", "must be text, not a list"),
         file={**MINIMAL, "customer": ["华东电力", "苏州明辉"]}),
    Case("text-too-long", new("complaint", "--set", "customer=" + "客" * 201),
         ("customer (客户名称)", "longer than 200 characters (201)")),
    Case("longtext-5000-chinese-over-max", new("complaint", "--set", "description=" + "质" * 5000),
         ("description (异常描述)", "longer than 4000 characters (5000)")),
    Case("phone-pattern", new("complaint", "--set", "customer_phone=call me maybe"),
         ("customer_phone (联系电话)", "does not match the pattern")),
    Case("follows-typed-in", new("complaint", "--set", "follows=CC-2611-01"),
         ("new complaint: follows cannot be given", "is set when a record is opened as the follow-up of another")),

    # -- unknown names and tables ------------------------------------------------------------
    Case("unknown-field-typo", new("complaint", "--set", "custmer=ACME"),
         ("unknown field 'custmer' (did you mean 'customer'?)",), problems=1),
    Case("unknown-column-typo", ("new", "customer_property", "--data", "{file}"),
         ("items[1]: 未知列 unknown column 'nam' (did you mean 'name'?)",),
         file=with_items({"item_no": 1, "name": "铜板", "nam": "铜板", "category": "material"})),
    Case("table-cell-wrong-type", ("new", "customer_property", "--data", "{file}"),
         ("items[2].item_no (序号)", "'two' 须为整数 must be a whole number"),
         file=with_items({"item_no": 1, "name": "铜板", "category": "material"},
                         {"item_no": "two", "name": "模具", "category": "equipment"})),
    Case("table-given-string", new("customer_property", "--set", "items=铜板 40 张"),
         ("items (财产明细)", "must be a list of rows")),
    Case("table-given-broken-yaml", new("customer_property", "--set", "items=[{name: 铜板"),
         ("items (财产明细)", "must be a YAML list of rows")),
    Case("table-row-not-mapping", ("new", "customer_property", "--data", "{file}"),
         ("items (财产明细)", "row 1 is not a mapping"),
         file=with_items("铜板 40 张", {"item_no": 2, "name": "模具", "category": "equipment"})),
    Case("table-zero-rows", new("customer_property", "--set", "items=[]"),
         ("items (财产明细)", "needs at least 1 row"), problems=1),
    Case("table-too-many-rows", ("new", "customer_property", "--data", "{file}"),
         ("items (财产明细)", "has 201 rows, at most 200 allowed"),
         file=with_items(*[{"item_no": i, "name": "铜板", "category": "material"}
                           for i in range(1, 202)])),

    # -- what only the workflow writes --------------------------------------------------------
    Case("signoff-rows-typed-in", ("new", "contract_review", "--data", "{file}"),
         ("department_reviews cannot be given", "each department signs its own row"),
         file=with_reviews({"department": "sales", "opinion": "feasible"})),
    Case("approver-typed-in", new("contract_review", "--set", "approver=马总"),
         ("approver cannot be given", "the step approve fills approver")),
    Case("decider-amended", ("amend", NUMBER, "--set", "decided_by=马总", "--reason", "x"),
         (f"{NUMBER}: decided_by cannot be given", "the step decide fills decided_by"),
         seed=True),
    Case("step-takes-other-field", ("do", NUMBER, "investigate", "--set", "customer=X"),
         (f"{NUMBER}: investigate takes no fields", "change customer with an amendment"),
         seed=True, user="zhaomin"),

    # -- several mistakes in one go: all of them are listed ---------------------------------
    Case("four-problems-at-once",
         new("complaint", "--set", "quantity=lots", "--set", "market=overseas",
             "--set", "received_date=2026-02-30", "--set", "custmer=ACME"),
         ("4 problem(s)", "quantity", "market", "received_date", "custmer"), problems=4),

    # -- control characters and line breaks --------------------------------------------------
    Case("text-nul", ("new", "complaint", "--data", "{file}"),
         ("customer (客户名称)", "control character U+0000"), name="data.json",
         file={**MINIMAL, "customer": "ACME\x00 Ltd"}),
    Case("text-bell", ("new", "complaint", "--data", "{file}"),
         ("product (产品名称)", "control character U+0007"),
         file="market: domestic\ncustomer: ACME\ndescription: x\nproduct: \"ding\\a\"\n"),
    Case("text-escape-sequence", new("complaint", "--set", "product=\x1b[2J\x1b[31mRED"),
         ("product (产品名称)", "control character U+001B")),
    Case("text-newline", new("complaint", "--set", "customer=ACME\nLtd"),
         ("customer (客户名称)", "must be a single line")),
    # bidirectional controls reorder what is shown (the "Trojan Source" trick), C1 controls
    # drive terminals (U+009B is CSI), U+2028/2029 break lines where nothing expects it
    Case("text-right-to-left-override", new("complaint", "--set", "customer=ACME \u202eDTL"),
         ("customer (客户名称)", "control character U+202E (RIGHT-TO-LEFT OVERRIDE)")),
    Case("text-isolate-from-json", ("new", "complaint", "--data", "{file}"),
         ("product (产品名称)", "control character U+2066 (LEFT-TO-RIGHT ISOLATE)"),
         name="data.json", file={**MINIMAL, "product": "PCB\u2066-4451\u2069"}),
    Case("text-embedding", new("complaint", "--set", "part_no=PCB-\u202b4451"),
         ("part_no (料号)", "control character U+202B (RIGHT-TO-LEFT EMBEDDING)")),
    Case("text-c1-csi", ("new", "complaint", "--data", "{file}"),
         ("customer (客户名称)", "control character U+009B"), name="data.json",
         file={**MINIMAL, "customer": "ACME\u009b2J"}),
    Case("text-c1-next-line", ("new", "complaint", "--data", "{file}"),
         ("customer (客户名称)", "control character U+0085"), name="data.json",
         file={**MINIMAL, "customer": "ACME\u0085Ltd"}),
    Case("longtext-line-separator", new("complaint", "--set", "description=第一行\u2028第二行"),
         ("description (异常描述)", "control character U+2028 (LINE SEPARATOR)")),
    Case("table-cell-pop-isolate", new("customer_property", "--set",
                                       "items=[{item_no: 1, name: \"铜板\u2069\", "
                                       "category: material}]"),
         ("items[1].name (名称)", "control character U+2069 (POP DIRECTIONAL ISOLATE)")),

    # -- --set syntax ------------------------------------------------------------------------
    Case("set-without-equals", new("complaint", "--set", "customer"),
         ("--set 'customer'", "expected FIELD=VALUE")),
    Case("set-empty-name", new("complaint", "--set", "=ACME"),
         ("--set '=ACME'", "expected FIELD=VALUE")),

    # -- forms -------------------------------------------------------------------------------
    Case("form-typo", ("new", "complain", "--data", COMPLAINT),
         ("no form 'complain' (did you mean 'complaint'?)", "forms: complaint")),
    Case("form-traversal", ("new", "../etc/passwd", "--data", COMPLAINT),
         ("no form '../etc/passwd'",)),
    Case("form-traversal-encoded", ("new", "..%2Fetc%2Fpasswd", "--data", COMPLAINT),
         ("no form '..%2Fetc%2Fpasswd'",)),
    Case("form-traversal-to-real-schema", ("new", "../schemas/complaint", "--data", COMPLAINT),
         ("no form '../schemas/complaint'",)),
    Case("forms-show-typo", ("forms", "show", "complain"),
         ("no form 'complain' (did you mean 'complaint'?)",)),

    # -- records and versions ----------------------------------------------------------------
    Case("show-missing-record", ("show", MISSING), (f"no record '{MISSING}'",), seed=True),
    Case("amend-missing-record", ("amend", MISSING, "--set", "customer=X", "--reason", "typo"),
         (f"no record '{MISSING}'",), seed=True),
    Case("history-missing-record", ("history", MISSING), (f"no record '{MISSING}'",), seed=True),
    Case("diff-missing-record", ("diff", MISSING), (f"no record '{MISSING}'",), seed=True),
    Case("show-record-traversal", ("show", "../records/catalog"), ("no record '../records/",),
         seed=True),
    Case("show-version-99", ("show", NUMBER, "--version", "99"),
         (f"{NUMBER} has no version 99", "versions 1 to 1"), seed=True),
    Case("show-version-0", ("show", NUMBER, "--version", "0"),
         ("--version", "0 is not in the range"), code=2, seed=True),
    Case("show-version-word", ("show", NUMBER, "--version", "latest"),
         ("--version", "'latest' is not a valid integer"), code=2, seed=True),
    # lina may read sensitive fields, and such reads are logged: a diff that fails must not
    # log a read of version 1 that nobody was shown
    Case("diff-version-99", ("diff", NUMBER, "1", "99"),
         (f"{NUMBER} has no version 99", "versions 1 to 1"), seed=True),
    Case("diff-version-0", ("diff", NUMBER, "0"), ("0 is not in the range",), code=2, seed=True),

    # -- amend -------------------------------------------------------------------------------
    Case("amend-without-reason", ("amend", NUMBER, "--set", "customer=X"),
         ("Missing option '--reason'",), code=2, seed=True),
    Case("amend-empty-reason", ("amend", NUMBER, "--set", "customer=X", "--reason", ""),
         ("needs a reason",), seed=True),
    Case("amend-blank-reason", ("amend", NUMBER, "--set", "customer=X", "--reason", " \t "),
         ("needs a reason",), seed=True),
    Case("amend-changes-nothing",
         ("amend", NUMBER, "--set", "customer=  华东电力设备有限公司  ", "--reason", "retyped"),
         (f"{NUMBER}: nothing changed", "version 1 stays current"), seed=True),
    Case("amend-nothing-given", ("amend", NUMBER, "--reason", "because"),
         ("nothing to change", "--set FIELD=VALUE"), seed=True),
    Case("amend-invalid-value",
         ("amend", NUMBER, "--set", "quantity=-1", "--set", "custmer=X", "--reason", "fix"),
         ("quantity", "below the minimum 0", "unknown field 'custmer'"), problems=2, seed=True),

    # -- who and where -----------------------------------------------------------------------
    Case("unknown-user", new("complaint"), ("unknown user 'nobody'", "qrec users"),
         user="nobody"),
    Case("user-typo", new("complaint"), ("unknown user 'linna' (did you mean 'lina'?)",),
         user="linna"),
    Case("unknown-user-from-env", new("complaint"), ("unknown user 'nobody'",), user=None,
         env={"QREC_USER": "nobody"}),
    # `--as "$QREC_USR"` with a misspelt variable: the record must not silently be signed by
    # the workspace's default user
    Case("user-empty", ("--as", "", *new("complaint")), ("--as",), user=None),
    Case("w-not-a-workspace", ("-w", "{tmp}/elsewhere", *new("complaint")),
         ("Error: -w: ", "elsewhere: 不是工作区 not a qrecords workspace", "qrec init"),
         workspace=False),
    Case("w-is-a-file", ("-w", "{file}", *new("complaint")),
         ("data.yaml: 不是工作区 not a qrecords workspace",), file="customer: x\n", workspace=False),
    Case("env-workspace-missing", new("complaint"),
         ("(QREC_WORKSPACE): 不是工作区 not a qrecords workspace", "no-such-folder"),
         env={"QREC_WORKSPACE": "{tmp}/no-such-folder"}, workspace=False),
    Case("no-workspace-anywhere", ("show", NUMBER), ("no qrecords workspace in", "qrec init"),
         workspace=False),
    Case("today-garbage", new("complaint"), ("QREC_TODAY='garbage' is not a date",),
         env={"QREC_TODAY": "garbage"}),
    Case("today-feb-30", new("complaint"), ("QREC_TODAY='2026-02-30' is not a date",),
         env={"QREC_TODAY": "2026-02-30"}),
    Case("init-existing-workspace", ("init", "--demo", "{ws}"), ("already a workspace",),
         workspace=False, user=None),
    # search: malformed queries and options (each one line, nothing changed)
    # (An unclosed bracket or quote, or an unknown field, is searched as the text it is with
    # a warning: tests/index/test_typing.py.)
    Case("search-empty", ("search", "  "), ("query is empty",), seed=True),
    Case("search-sensitive-field", ("search", "customer_phone:138"),
         ("'customer_phone' is a sensitive field",), seed=True),
    Case("search-bad-date-range", ("search", "date:[2026-13-01 TO 2026-12-31]"),
         ("'2026-13-01' is not a date",), seed=True),
    Case("search-bad-from", ("search", "华东", "--from", "yesterday"),
         ("--from: 'yesterday' is not a date (YYYY-MM-DD)",), seed=True),
    Case("search-from-after-to", ("search", "华东", "--from", "2026-12-01", "--to",
                                  "2026-01-01"), ("--from: 2026-12-01 is after the end of the period",), seed=True),
    Case("search-unknown-form", ("search", "华东", "--form", "complain"),
         ("no form 'complain'", "did you mean 'complaint'"), seed=True),
    Case("search-unknown-status", ("search", "华东", "--status", "open"),
         ("--status: 无此状态 no status 'open'; one of: registered (已登记)", "closed (已结案)"),
         seed=True),
    Case("search-customer-punctuation", ("search", "*", "--customer", "、"),
         ("--customer: '、' has no letters, digits or Chinese characters",), seed=True),
    Case("search-date-star", ("search", "date:[2026-06-01 TO *]"),
         ("leave an open end of a date range empty",), seed=True),
    Case("search-date-compare", ("search", "date:>2026-01-01"), ("'>2026-01-01' is not a date",),
         seed=True),
    Case("search-zero-limit", ("search", "华东", "--limit", "0"), ("--limit: must be at least 1",),
         seed=True),
    Case("search-limit-not-a-number", ("search", "华东", "--limit", "ten"), ("'ten'",), code=2),
    Case("init-on-a-file", ("init", "--demo", "{file}"), ("data.yaml", "is a file"), code=2,
         file="customer: x\n", workspace=False, user=None),
    Case("init-under-a-file", ("init", "--demo", "{file}/sub"), ("Not a directory", "data.yaml"),
         file="customer: x\n", workspace=False, user=None),

    # -- path traversal in every number, form and name argument -------------------------------
    Case("amend-number-traversal", ("amend", "../../etc/passwd", "--set", "customer=X",
                                    "--reason", "x"), ("no record '../../etc/passwd'",),
         seed=True),
    Case("history-number-traversal", ("history", "../records/catalog.sqlite"),
         ("no record '../records/catalog.sqlite'",), seed=True),
    Case("diff-number-traversal", ("diff", "../CC-2611-01"), ("no record '../CC-2611-01'",),
         seed=True),
    Case("render-number-traversal", ("render", f"{NUMBER}/../../../x"),
         (f"no record '{NUMBER}/../../../x'",), seed=True),
    Case("do-number-traversal", ("do", "../x", "investigate"), ("no record '../x'",),
         seed=True, user="zhaomin"),
    Case("do-step-traversal", ("do", NUMBER, "../../x"),
         (f"{NUMBER}: no step '../../x' in the complaint workflow",), seed=True,
         user="zhaomin"),
    Case("sign-number-traversal", ("sign", "../x", "feasible"), ("no record '../x'",),
         seed=True, user="chengang"),
    Case("hold-number-traversal", ("hold", "add", "../x", "--reason", "诉讼"),
         ("no record '../x'",), seed=True, user="wangwen"),
    Case("dispose-number-traversal", ("dispose", "../x", "--reason", "期满"),
         ("no record '../x'",), seed=True, user="wangwen"),
    Case("void-number-traversal", ("void", "../x", "--reason", "误建"),
         ("no record '../x'",), seed=True, user="wangwen"),
    Case("transfer-number-traversal", ("transfer", "../x", "--to", "档案室", "--reason", "移交"),
         ("no record '../x'",), seed=True, user="wangwen"),
    Case("follows-traversal", ("new", "complaint", "--follows", "../x"),
         ("no record '../x'",), seed=True),
    Case("forms-show-traversal", ("forms", "show", "../schemas/complaint"),
         ("no form '../schemas/complaint'",)),
    Case("forms-check-traversal", ("forms", "check", "../../etc/passwd"),
         ("no form '../../etc/passwd'",)),
    Case("search-form-traversal", ("search", "华东", "--form", "../complaint"),
         ("no form '../complaint'",), seed=True),

    # -- control characters outside field values: refused, never echoed raw -------------------
    Case("number-escape-sequence", ("show", "CC-2611-01\x1b[2J"),
         ("no record 'CC-2611-01\\x1b[2J'",), seed=True),
    Case("user-escape", new("complaint"), ("unknown user 'li\\x1bna'",), user="li\x1bna"),
    Case("reason-escape-sequence",
         ("amend", NUMBER, "--set", "quantity=3", "--reason", "\x1b[2J\x1b[31m改数量"),
         ("--reason", "control character U+001B"), seed=True),
    Case("comment-bell", ("do", NUMBER, "close_unfounded", "--set", "disposition=unfounded",
                          "--comment", "ding\x07"),
         ("--comment", "control character U+0007"), seed=True, user="zhaomin"),
    Case("hold-reason-nul", ("hold", "add", NUMBER, "--reason", "诉讼\x00"),
         ("--reason", "control character U+0000"), seed=True, user="wangwen"),
    Case("reason-right-to-left-override",
         ("amend", NUMBER, "--set", "quantity=3", "--reason", "改数量 \u202e"),
         ("--reason", "control character U+202E"), seed=True),
    Case("comment-paragraph-separator",
         ("do", NUMBER, "close_unfounded", "--set", "disposition=unfounded", "--comment",
          "非质量\u2029问题"), ("--comment", "control character U+2029"), seed=True,
         user="zhaomin"),
    Case("hold-reason-c1", ("hold", "add", NUMBER, "--reason", "诉讼\u009b31m"),
         ("--reason", "control character U+009B"), seed=True, user="wangwen"),
    Case("dispose-reason-isolate", ("dispose", NUMBER, "--reason", "期满\u2067"),
         ("--reason", "control character U+2067"), seed=True, user="wangwen"),
    Case("void-reason-escape", ("void", NUMBER, "--reason", "误建\x1b[2J"),
         ("--reason", "control character U+001B"), seed=True, user="wangwen"),
    Case("transfer-archive-override", ("transfer", NUMBER, "--to", "档案室\u202e",
                                       "--reason", "移交"),
         ("--to", "control character U+202E"), seed=True, user="wangwen"),

    # -- output file names --------------------------------------------------------------------
    Case("register-out-name-override", ("register", "complaint", "--out",
                                        "{tmp}/台账\u202exslx.csv"),
         ("--out: the file name contains the control character U+202E",)),
    Case("register-out-name-escape", ("register", "complaint", "--out", "{tmp}/r\x1b[2J.csv"),
         ("--out: the file name contains the control character U+001B",)),
    Case("report-out-name-line-separator", ("report", "complaints", "--month", "2026-11",
                                            "--out", "{tmp}/r\u2028.pdf"),
         ("--out: the file name contains the control character U+2028",)),
    Case("audit-pack-name-c1", ("audit-pack", "{tmp}/pack\u0085.zip"),  # OUT.zip: no flag
         ("Error: the file name contains the control character U+0085",), user="wangwen"),

    # -- records/ holds only what the catalog knows: nothing else is written there ------------
    Case("register-out-into-records", ("register", "complaint", "--out",
                                       "{ws}/records/台账.xlsx"),
         ("--out", "台账.xlsx: may not be written inside records/"), seed=True),
    Case("register-out-into-a-record-folder",
         ("register", "complaint", "--out", f"{{ws}}/records/complaint/{NUMBER}/r.csv"),
         ("may not be written inside records/",), seed=True),
    Case("register-out-into-records-by-dotdot",
         ("register", "complaint", "--out", "{ws}/index/../records/r.csv"),
         ("may not be written inside records/",), seed=True),
    Case("report-out-over-the-kept-report",
         ("report", "complaints", "--month", "2026-11", "--out",
          "{ws}/records/reports/RPT-CC-2611-01.pdf"), ("may not be written inside records/",), seed=True),
    Case("report-out-into-records", ("report", "complaints", "--month", "2026-11", "--out",
                                     "{ws}/records/统计.docx"), ("may not be written inside records/",)),

    # -- huge values --------------------------------------------------------------------------
    Case("integer-huge", new("complaint", "--set", "quantity=" + "9" * 40),
         ("quantity (数量)", "must be a whole number")),
    Case("decimal-huge-exponent", new("complaint", "--set", "disposition_amount=1e400"),
         ("disposition_amount (金额)", "must be a number")),
    Case("search-huge-query", ("search", "包装" * 30000), ("query", "longer than"),
         seed=True),
    Case("table-1000-rows-via-set", new("customer_property", "--set",
                                        "items=[" + ", ".join(
                                            f"{{item_no: {i}, name: 铜板, category: material}}"
                                            for i in range(1000)) + "]"),
         ("items (财产明细)", "has 1000 rows, at most 200 allowed"), problems=1),
    Case("table-10000-rows-via-set", new("customer_property", "--set",
                                         "items=[" + ", ".join(
                                             f"{{item_no: {i}, name: 铜板, category: material}}"
                                             for i in range(10000)) + "]"),
         ("items (财产明细)", "holds more than 20000 values")),
    Case("five-thousand-unknown-fields", ("new", "complaint", "--data", "{file}"),
         ("unknown field 'k0'", "unknown field: 4990 more not listed"),
         file="".join(f"k{i}: v\n" for i in range(5000))),

    # -- forms: broken, missing or foreign schema and template --------------------------------
    Case("template-corrupt", new("complaint"),
         ("templates/complaint.docx", "not a readable DOCX file"),
         plant=(("templates/complaint.docx", b"PK\x03\x04 not really a zip"),)),
    Case("template-foreign-docx", new("complaint"),
         ("templates/complaint.docx", "required field 'customer' does not appear"),
         plant=(("templates/complaint.docx", foreign_docx()),)),
    Case("template-foreign-after-records", new("complaint"),
         ("form complaint rev A/0 was changed after records were made with it",),
         seed=True, plant=(("templates/complaint.docx", foreign_docx()),)),
    Case("template-missing", new("complaint"),
         ("schemas/complaint.yaml", "template 'complaint_v2.docx' not found"),
         plant=(("schemas/complaint.yaml",
                 schema_with("template: complaint.docx", "template: complaint_v2.docx")),)),
    Case("template-outside-templates", new("complaint"),
         ("complaint.yaml", "template: '../qrecords.yaml' must be a .docx"),
         plant=(("schemas/complaint.yaml",
                 schema_with("template: complaint.docx", "template: ../qrecords.yaml")),)),
    Case("schema-invalid-yaml", new("complaint"), ("complaint.yaml",),
         plant=(("schemas/complaint.yaml", "id: complaint\nfields: [\n"),)),
    Case("schema-unknown-type", new("complaint"),
         ("complaint.yaml", "field 'quantity': type 'int' must be one of"),
         plant=(("schemas/complaint.yaml", schema_with("type: integer", "type: int")),)),

    # -- the disk refuses: a folder in the way, read-only, full --------------------------------
    # A file where the new record's folder must go (a real obstacle on disk).
    Case("record-folder-is-a-file", new("complaint"), ("complaint/CC-2611-02",), seed=True,
         plant=(("records/complaint/CC-2611-02", "not a folder"),)),
    # Read-only: root ignores chmod, so the refusals a read-only mount gives (EROFS on
    # creating a folder or opening a file for writing under records/) are injected in-process.
    Case("records-read-only-new", new("complaint"),
         ("Read-only file system", "records/complaint/CC-2611-02"), seed=True,
         disk="read-only"),
    Case("records-read-only-amend", ("amend", NUMBER, "--set", "quantity=3", "--reason", "x"),
         ("Read-only file system", f"records/complaint/{NUMBER}/"), seed=True,
         disk="read-only"),
    # Full: writing a record's file fails half-way with ENOSPC, in-process.
    Case("disk-full-first-record", new("complaint"),
         ("cannot be written: the disk is full (No space left on device)",),
         disk="full"),
    Case("disk-full-amend", ("amend", NUMBER, "--set", "quantity=3", "--reason", "x"),
         ("cannot be written: the disk is full (No space left on device)",), seed=True,
         disk="full"),
]


def fill(text: str, tmp_path: Path, ws_root: Path, file: Path) -> str:
    return (text.replace("{file}", str(file)).replace("{tmp}", str(tmp_path))
            .replace("{ws}", str(ws_root)))


def write(path: Path, content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")


def write_data(path: Path, data: dict) -> Path:
    write(path, data)
    return path


def state(root: Path):
    """Every file's hash and every folder's name under root: nothing may appear or change."""
    return snapshot(root), sorted(str(p.relative_to(root)) for p in root.rglob("*")
                                  if p.is_dir())


def simulate_disk(kind: str, records: Path, monkeypatch) -> None:
    """A read-only records folder or a full disk, as record files are written
    (qrecords.files.local.write_immutable): the errors the kernel gives, injected."""
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if kind == "read-only" and self.is_relative_to(records) and not self.is_dir():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    def opener(path, mode="r", *args, **kwargs):
        if "w" not in mode:
            return builtins.open(path, mode, *args, **kwargs)
        if kind == "read-only":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return FullDisk(builtins.open(path, mode, *args, **kwargs))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(files, "open", opener, raising=False)


class FullDisk:
    """A file on a disk that fills up: half of the first write lands, then ENOSPC."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        self.handle.write(data[:len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.handle.name)

    def __getattr__(self, name):
        return getattr(self.handle, name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_refused(case: Case, ws, run, tmp_path, monkeypatch):
    if case.seed:
        assert run("new", "complaint", "--data", COMPLAINT).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # never inside a workspace, whatever the test run's cwd
    file = tmp_path / case.name
    if case.file is not None:
        write(file, case.file)
    for name, value in case.env.items():
        monkeypatch.setenv(name, fill(value, tmp_path, ws.root, file))
    for relative, content in case.plant:
        target = ws.root / relative
        if target.exists():
            target.chmod(0o644)
        write(target, content)
    if case.disk:
        simulate_disk(case.disk, ws.root / "records", monkeypatch)
    args = [fill(a, tmp_path, ws.root, file) for a in case.args]
    prefix = (["-w", str(ws.root)] if case.workspace else []) + \
        (["--as", case.user] if case.user is not None else [])
    before = state(tmp_path)

    result = CliRunner().invoke(cli, prefix + args, input=case.stdin, color=True)

    shown = f"exit {result.exit_code}\n{result.output}"
    assert result.exit_code == case.code, shown
    assert isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, shown
    assert result.stdout == "", "a failed command prints nothing on stdout"
    assert result.stderr.startswith("Error: " if case.code == 1 else "Usage: "), shown
    for expected in case.expect:
        assert expected in result.stderr, shown
    assert not CONTROL.search(result.output), f"raw control character echoed: {shown!r}"
    if case.problems is not None:
        lines = [line for line in result.stderr.splitlines() if line.startswith(PROBLEM_LINE)]
        assert len(lines) == case.problems, shown
        assert f"{case.problems} problem(s)" in result.stderr, shown
    assert state(tmp_path) == before, "a refused command changed files or the catalog"


# -- a deleted index folder: rebuilt by the next command, with a warning --------------------


@pytest.mark.parametrize("command", [("show", NUMBER),
                                     ("amend", NUMBER, "--set", "quantity=3", "--reason", "复点")])
def test_a_deleted_index_folder_is_rebuilt_by_the_next_command(command, ws, run):
    assert run("new", "complaint", "--data", COMPLAINT).exit_code == 0
    shutil.rmtree(ws.root / "index")
    result = run(*command)
    assert result.exit_code == 0, result.output
    assert "Warning: the search index was missing (or of an older format): rebuilt it from " \
           "the catalog (1 records)" in result.stderr
    assert run("index", "check").exit_code == 0


# -- odd but valid values: stored and printed exactly as typed ------------------------------


@dataclass(frozen=True)
class Literal:
    id: str
    values: dict            # field id -> the exact value that must come back
    yaml_text: str | None = None  # give the values as this YAML instead of JSON
    via_set: bool = False   # give the values with --set FIELD=VALUE


LITERALS = [
    Literal("xml-specials", {"customer": "A&B <Ltd> \"quoted\" 'single' </w:t>"}),
    Literal("jinja-expression", {"product": "{{ 7*7 }}", "description": "{{ org.name }}"}),
    Literal("jinja-statement", {"customer": "{% if %}", "part_no": "{% for x in y %}"}),
    Literal("docxtpl-escapes", {"product": "{_{ x }_} {_% y %_}", "order_no": "{_{"}),
    Literal("docxtpl-row-and-paragraph-tags",
            {"product": "{%tr endfor %}", "description": "{%p if x %}</w:t></w:p>{%p endif %}"}),
    Literal("emoji", {"customer": "😀 客户 👍🏽 👩‍🔧", "description": "🚚💥 包装破损"}),
    Literal("chinese-at-max-length", {"description": "质量异常说明" * 666 + "完结完结"}),
    Literal("longtext-newlines", {"description": "第一行\n  second line, indented\n\nafter a blank"
                                                 "\n第四行 & <end>"}),
    Literal("set-value-with-equals", {"customer": "A=B Co.", "product": "x==y"}, via_set=True),
    Literal("dates-at-the-bounds", {"ship_date": "2199-12-31", "production_date": "1900-01-01"}),
    # right-to-left text with its marks (U+200F RLM) is no control: only embeddings, overrides
    # and isolates are refused
    Literal("right-to-left-marks", {"customer": "שלום\u200f ACME", "product": "مرحبا\u200e 1"}),
    # YAML 1.1 would read these as the numbers 10, 1.1 and 750 (sexagesimal)
    Literal("yaml-text-that-looks-numeric", {"order_no": "0012", "part_no": "1.10",
                                             "product": "12:30"},
            yaml_text="order_no: 0012\npart_no: 1.10\nproduct: 12:30\n"),
]


def docx_text(path: str) -> str:
    """Text of every paragraph and table cell (nested tables included) of a DOCX."""
    def of(container) -> list[str]:
        parts = [p.text for p in container.paragraphs]
        for table in container.tables:
            for row in table.rows:
                for cell in row.cells:
                    parts += of(cell)
        return parts

    return "\n".join(of(docx.Document(path)))


@pytest.mark.parametrize("case", LITERALS, ids=lambda c: c.id)
def test_stored_literally(case: Literal, run, tmp_path):
    if case.via_set:
        args = ["--data", str(write_data(tmp_path / "data.json", MINIMAL))]
        args += [arg for fid, value in case.values.items() for arg in ("--set", f"{fid}={value}")]
    elif case.yaml_text is not None:
        path = tmp_path / "data.yaml"
        path.write_text(yaml.safe_dump(MINIMAL, allow_unicode=True) + case.yaml_text,
                        encoding="utf-8")
        args = ["--data", str(path)]
    else:
        args = ["--data", str(write_data(tmp_path / "data.json", {**MINIMAL, **case.values}))]

    made = run("new", "complaint", *args, "--json")
    assert made.exit_code == 0, made.output
    record = json.loads(run("show", json.loads(made.output)["number"], "--json").output)

    assert {fid: record["data"][fid] for fid in case.values} == case.values
    text = docx_text(record["files"]["docx"])
    for value in case.values.values():
        for line in value.split("\n"):
            assert line in text, f"{line!r} missing from the DOCX"
