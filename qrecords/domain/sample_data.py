"""Synthetic record data for trying a form's template before anyone relies on it (`qrec forms
check`): every field with a typical value of its type, tables with two rows; the same with
the optional fields empty; and every field empty, as a controlled blank copy is printed."""

from __future__ import annotations

import datetime as dt

from .fields import Field
from .forms import Form

SAMPLE_TEXT = "示例 Sample"


def sample_value(field: Field, day: dt.date) -> object:
    """A typical stored value of `field` (as validate_data keeps it), within its limits where
    it has them: text as str, integer as int, decimal as str with its places, date as
    "YYYY-MM-DD" (`day`, else a bound), choice as its first id, yes/no True, a table as two
    rows of typical values (a keyed table: its first two keys)."""
    if field.type in ("text", "longtext"):
        return SAMPLE_TEXT[:field.max_length] if field.max_length else SAMPLE_TEXT
    if field.type == "integer":
        return _within(12, field, int)
    if field.type == "decimal":
        places = field.places if field.places is not None else 2
        return f"{_within(12, field, float):.{places}f}"
    if field.type == "date":
        return _date_within(day, field)
    if field.type == "choice":
        return field.choices[0].id if field.choices else None
    if field.type == "yesno":
        return True
    if field.type == "table":
        rows = [{c.id: sample_value(c, day) for c in field.columns} for _ in range(2)]
        key = field.column(field.key) if field.key else None
        for row, choice in zip(rows, key.choices if key else ()):
            row[key.id] = choice.id
        return rows[:field.max_rows] if field.max_rows is not None else rows
    raise ValueError(f"no sample for the field type '{field.type}'")


def _within(typical, field: Field, kind):
    low = kind(field.min) if field.min is not None else None
    high = kind(field.max) if field.max is not None else None
    if low is not None and typical < low:
        return low
    if high is not None and typical > high:
        return high
    return typical


def _date_within(day: dt.date, field: Field) -> str:
    for bound, wrong in ((field.min, lambda b: day < b), (field.max, lambda b: day > b)):
        if bound not in (None, "today") and wrong(dt.date.fromisoformat(str(bound))):
            return str(bound)
    return day.isoformat()


def sample_records(form: Form, day: dt.date) -> dict[str, dict]:
    """{what it is: data} for the three ways a template is filled in: "every field filled",
    "optional fields empty" (required ones filled) and "blank (as a controlled copy)"."""
    filled = {f.id: sample_value(f, day) for f in form.fields}
    required = {f.id: (filled[f.id] if f.required else ([] if f.type == "table" else None))
                for f in form.fields}
    blank = {f.id: [] if f.type == "table" else None for f in form.fields}
    return {"every field filled": filled, "optional fields empty": required,
            "blank (as a controlled copy)": blank}
