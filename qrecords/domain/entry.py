"""Entering a record by hand: which fields a person types, and each answer checked as it is
typed, by the same rules as validate_data (forms.py) applies to the whole record.

Pure: the faces ask (cli/prompting.py at a terminal, web/fields.py in the portal) and show
the problem; nothing here reads a terminal.
"""

from __future__ import annotations

from ..errors import ValidationError
from .fields import Field
from .forms import Form, check_value
from .ledger import LEGACY_FIELD


def typed_fields(form: Form) -> list[Field]:
    """The fields a person may type (new or amend), in schema order: not those only the
    workflow writes (who approved, sign-off rows, the follow-up link), not computed ones, not
    an imported record's old number."""
    owned = form.workflow.owned_fields()
    return [f for f in form.fields if f.id not in owned and f.computed is None
            and f.id != LEGACY_FIELD]


def entry_fields(form: Form) -> list[Field]:
    """The fields asked when a record is made: the typed fields less those a workflow step
    takes later (a step's `requires` and `inputs`: cause analysis, disposition ...), unless
    the schema makes them required from the start or a step out of the first state requires
    them (what a draft needs before it is submitted is part of making it). The skipped ones
    can still be given with --set; the step takes them."""
    flow = form.workflow
    later = {fid for t in flow.transitions for fid in flow.inputs(t)}
    first = {name.split(".", 1)[0] for t in flow.allowed(flow.initial) for name in t.requires}
    return [f for f in typed_fields(form) if f.required or f.id in first or f.id not in later]


def check_cell(table: Field, column: Field, raw, earlier: list[dict], today: str):
    """One cell of a new row of `table` (rows `earlier` already entered, clean): the clean
    value, as validate_data would make it. Raises ValidationError with one problem, naming
    the table, row and column, for a bad value or a key that an earlier row has."""
    number = len(earlier) + 1
    place = f"{table.id}[{number}].{column.id}"
    value = check_value(column, raw, today, place)
    if column.id == table.key and value is not None and \
            any(row.get(table.key) == value for row in earlier):
        raise ValidationError([f"{place} ({column.label.zh}): '{column.display(value)}' is "
                               f"already in an earlier row of {table.id} ({table.label.zh}); "
                               "each row needs its own"])
    return value
