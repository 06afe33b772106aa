"""Forms: the Form a schema defines, and record data validated against it.

A schema is data (see qrecords/schemas/*.yaml and the README's "Form schema" section), parsed
and checked by form_schema.py. Every problem in record data is reported at once, with the
field, the value and the rule.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import re
from typing import NamedTuple

from ..errors import ValidationError, suggest
from ..text_rules import CONTROL_CHARACTERS
from .computed import ExpressionError, dependency_order, evaluate, rounded
from .fields import Field, Invalid, Label
from .workflow import Workflow

# Names the template context uses for itself; a field may not take them.
RESERVED = {"org", "form", "record"}


class Retention(NamedTuple):
    years: int
    months: int
    days: int
    runs_from: str  # "closure", "creation" or "field:<date field id>"
    action: str     # "destroy" or "transfer"
    text: str       # as written, e.g. "3y"


class Form(NamedTuple):
    id: str
    title: Label
    form_number: str
    revision: str
    number_pattern: str
    retention: Retention
    template: str
    title_fields: tuple[str, ...]
    date_field: str | None      # the date a record is filed under (else the day it was made)
    customer_field: str | None  # what `qrec search --customer` and registers read
    fields: tuple[Field, ...]
    workflow: Workflow
    source: str  # the schema's YAML text, kept so a record can be re-rendered with it

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    @property
    def field_ids(self) -> list[str]:
        return [f.id for f in self.fields]

    def title_of(self, data: dict) -> str:
        """A one-line title of a record, for listings and search hits."""
        parts = [self.field(fid).display(data.get(fid)) for fid in self.title_fields]
        return " / ".join(p for p in parts if p)


# -- loading ---------------------------------------------------------------------------------


def validate_data(form: Form, data: dict, today: str) -> dict:
    """Check record data against the form; return the clean data (every field present, None
    where empty). Raises ValidationError listing every problem."""
    if not isinstance(data, dict):
        raise ValidationError(["record data must be a mapping of field id to value"])
    problems: list[str] = []
    _unknown([str(n) for n in data if form.field(str(n)) is None], "未知字段 unknown field",
             form.field_ids, problems)
    clean: dict = {}
    day = dt.date.fromisoformat(today)
    for f in form.fields:
        raw = data.get(f.id, _default(f, today))
        clean[f.id] = _check_value(f, raw, f.id, problems, day)
    for f in dependency_order(form.fields):
        _check_computed(f, clean, f.id, problems, day)
    if problems:
        raise ValidationError(problems)
    return clean


def check_value(f: Field, raw, today: str, place: str | None = None):
    """One field's value (a table: its rows, but not the other fields) checked as
    validate_data checks it: the clean value (None, or [] for a table, when empty). `today`
    is the effective date YYYY-MM-DD; `place` names the value in a problem (default the
    field id). Raises ValidationError listing the value's problems (a required field left
    empty is one)."""
    problems: list[str] = []
    value = _check_value(f, raw, place or f.id, problems, dt.date.fromisoformat(today))
    if problems:
        raise ValidationError(problems)
    return value


def _default(f: Field, today: str):
    return today if f.default == "today" else f.default


def _check_value(f: Field, raw, place: str, problems: list[str], today: dt.date):
    try:
        value = f.parse(raw, today)
    except Invalid as exc:
        problems.append(f"{place} ({f.label.zh}): {_show(raw)} {exc}")
        return None
    if value is None:
        if f.required and f.computed is None:
            problems.append(f"{place} ({f.label.zh}): 必填 is required")
        return [] if f.type == "table" else None
    if f.type == "table":
        return _check_table(f, value, place, problems, today)
    return value


def _check_table(f: Field, rows: list, place: str, problems: list[str],
                 today: dt.date) -> list:
    if f.max_rows is not None and len(rows) > f.max_rows:
        # the rows are not checked one by one: the table has to be cut down first anyway
        problems.append(f"{place} ({f.label.zh}): 行数过多 has {len(rows)} rows, at most "
                        f"{f.max_rows} allowed")
        return []
    clean_rows = []
    known = [c.id for c in f.columns]
    for number, row in enumerate(rows, start=1):
        where = f"{place}[{number}]"
        _unknown([str(n) for n in row if f.column(str(n)) is None],
                 f"{where}: 未知列 unknown column", known, problems)
        clean_row = {c.id: _check_value(c, row.get(c.id), f"{where}.{c.id}", problems, today)
                     for c in f.columns}
        for column in dependency_order(f.columns):
            _check_computed(column, clean_row, f"{where}.{column.id}", problems, today)
        clean_rows.append(clean_row)
    if len(clean_rows) < f.min_rows:
        problems.append(f"{place} ({f.label.zh}): 行数不足 needs at least {f.min_rows} row(s)")
    if f.key:
        counts = collections.Counter(r[f.key] for r in clean_rows if r[f.key] is not None)
        for key in sorted(k for k, n in counts.items() if n > 1):
            problems.append(f"{place} ({f.label.zh}): 重复 {f.key} '{key}' appears more than "
                            "once")
    return clean_rows


_UNKNOWN_LISTED = 10  # unknown names listed one by one (with a did-you-mean); then a count


def _unknown(names: list[str], what: str, known, problems: list[str]) -> None:
    for name in names[:_UNKNOWN_LISTED]:
        problems.append(f"{what} {_show(name)}{suggest(name, known)}")
    if len(names) > _UNKNOWN_LISTED:
        problems.append(f"{what}: {len(names) - _UNKNOWN_LISTED} more not listed")


def _check_computed(f: Field, clean: dict, place: str, problems: list[str],
                    today: dt.date) -> None:
    """Put the computed value of `f` into `clean` (a record's clean data or one clean table
    row). A value given for it must be that value (so data shown by `qrec show --json` reads
    back); a different one is refused, naming the expression and its value."""
    try:
        exact = evaluate(f.computed, clean)
    except ExpressionError as exc:
        problems.append(f"{place} ({f.label.zh}): 无法计算 cannot be computed: {exc}")
        return
    given = clean.get(f.id)
    if exact is None:
        if given is not None and not f.computed.typed_when_empty:
            problems.append(f"{place} ({f.label.zh}): 计算字段 is computed ({_formula(f)}) and "
                            f"cannot be given while {' or '.join(f.computed.inputs())} is "
                            "empty")
        elif f.required:
            problems.append(f"{place} ({f.label.zh}): 必填 is required (it is computed: give "
                            f"{' and '.join(f.computed.inputs())})")
        return
    value = rounded(exact, f.type, f.places)
    try:
        f.check_limits(value, today)  # min, max (a computed value may have any length)
    except Invalid as exc:
        problems.append(f"{place} ({f.label.zh}): 计算值 the computed value {value} {exc}")
        return
    if given is not None and decimal.Decimal(str(given)) != decimal.Decimal(str(value)):
        problems.append(f"{place} ({f.label.zh}): 计算字段 {given} is not {_formula(f)} = "
                        f"{value} (a computed field: leave it out)")
        return
    clean[f.id] = value


def _formula(f: Field) -> str:
    return f.computed.text.replace("*", "×")


def _show(raw) -> str:
    """A value as echoed in an error: short, and with control characters escaped so a hostile
    value cannot drive the user's terminal."""
    text = repr(raw) if not isinstance(raw, str) else raw
    if len(text) > 57:
        text = text[:54] + "..."
    text = re.sub(f"[\\x00-\\x1f{CONTROL_CHARACTERS}]", lambda m: repr(m.group())[1:-1], text)
    return f"'{text}'" if isinstance(raw, str) else text
