"""A form's fields as HTML inputs, and a posted HTML form back into record data.

Inputs are named by field id; a table's cells by `<table>-<row>-<column>` (rows numbered as
the browser sends them; the rows of one table are kept in that order, and a row left empty is
dropped). Values go to the verbs as the raw text typed, so the portal validates exactly as the
CLI does (domain/forms.py: validate_data), and a problem is shown beside its field.
"""

from __future__ import annotations

import re

from ..domain.fields import Field
from ..domain.forms import Form
from ..domain.entry import typed_fields
from ..text_rules import escaped_controls

_CELL = re.compile(r"(?P<table>[a-z_][a-z0-9_]*)-(?P<row>\d{1,4})-(?P<column>[a-z_][a-z0-9_]*)")


def raw_text(field: Field, value) -> str:
    """A stored value as the text an input holds (the inverse of Field.parse)."""
    if value is None:
        return ""
    if field.type == "yesno":
        return "yes" if value else "no"
    return str(value)


def defaults(form: Form, today: str) -> dict:
    """{field id: text} of the schema's defaults, as a new form's inputs start (the CLI
    applies the same defaults to fields not given): `today` for a date default of today."""
    return {f.id: raw_text(f, today if f.default == "today" else f.default)
            for f in typed_fields(form) if f.default is not None and f.type != "table"}


def posted_data(form: Form, posted) -> dict:
    """{field id: raw text, or [row {column: raw text}] for tables} from a posted form (a
    MultiDict), for every typed field that was sent."""
    data: dict = {}
    tables = {f.id: f for f in typed_fields(form) if f.type == "table"}
    rows: dict[str, dict[int, dict]] = {t: {} for t in tables}
    for name, value in posted.items(multi=False):
        cell = _CELL.fullmatch(name)
        if cell and cell["table"] in tables:
            column = tables[cell["table"]].column(cell["column"])
            if column is not None:
                rows[cell["table"]].setdefault(int(cell["row"]), {})[column.id] = value
    for field in typed_fields(form):
        if field.type == "table":
            if f"{field.id}-present" in posted or rows[field.id]:
                data[field.id] = [row for _, row in sorted(rows[field.id].items())
                                  if any(str(v).strip() for v in row.values())]
        elif field.id in posted:
            data[field.id] = posted.get(field.id, "")
    return data


def problems_by_field(problems: list[str]) -> dict[str, list[str]]:
    """Each problem of a ValidationError under the field it names first ("customer (客户):
    is required" under customer; "items[2].qty ..." under items); others under ""."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        match = re.match(r"([a-z_][a-z0-9_]*)", problem)
        found.setdefault(match.group(1) if match else "", []).append(problem)
    return found


def refusal_text(exc: Exception) -> str:
    """A refusal as one line for a page: its lines joined, control characters it quotes
    escaped (text_rules.escaped_controls)."""
    return escaped_controls(" ".join(str(exc).split()))


def refusal_heading(exc: Exception) -> str:
    """A refusal's first line, control characters escaped: for the error page (which lists a
    ValidationError's problems below it) and the search results."""
    return escaped_controls(str(exc).splitlines()[0])


def typed_values(posted) -> dict:
    """What a refused form sends back into its inputs: every posted value but the password
    and the CSRF token."""
    return {k: v for k, v in posted.items() if k not in ("password", "csrf_token")}
