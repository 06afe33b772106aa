"""Checking every row of a ledger before an import stores anything (api/imports.py): the
records its rows make (domain/ledger_records.py), their data, state, dates and original
numbers, and every problem of every row named by row and column.
"""

from __future__ import annotations

import re

from .. import clock
from ..domain import ledger, workflow_rules
from ..domain.fields import Field, Invalid, Label
from ..domain.forms import Form, validate_data
from ..domain.ledger_records import group_rows
from ..errors import QrecError, ValidationError
from ..workspace import Workspace
from .ledger_file import Ledger, column_letter

_DATE = Field("closed_on", "date", Label("结案日期", "Closed on"))
_RECORD_DATE = Field("date", "date", Label("记录日期", "Record date"))


def plan_rows(ws: Workspace, form: Form, source: Ledger, header_row: int,
          columns: dict) -> tuple[list, list]:
    """(plans, footer rows): one plan per record (ledger_records.group_rows: a row, or the
    rows filling its tables): {row, rows, data, state, closed_on, created_on, original,
    number}; the totals rows skipped [{row, text}]. Raises ValidationError with every
    problem of every row, in row order."""
    today = clock.today()
    closing_field = ledger.closing_date_field(form)
    legacy = form.field(ledger.LEGACY_FIELD)
    where_of = {target: f"column {column_letter(i)} ({header})"
                for i, (header, target) in columns.items()}
    problems, plans, numbers = [], [], {}
    known = _known_originals(ws, form)
    groups, footers = group_rows(source["rows"], header_row, columns, source["unsaved"])
    for group in groups:
        number = group["rows"][0]
        found: list[tuple[int, str]] = []

        def problem(target: str | None, text: str, row: int = number) -> None:
            place = f", {where_of[target]}" if target in where_of else ""
            found.append((row, f"row {row}{place}: {text}"))

        for row, target, text in group["notes"]:
            problem(target, text, row)
        data = {f.id: None for f in form.fields if f.type != "table"}
        pseudo = {}
        for target, value in group["cells"].items():
            if target in ledger.PSEUDO:
                pseudo[target] = value
            else:
                data[target] = ledger.cell_value(form.field(target), value)
        for table, rows in group["tables"].items():
            field = form.field(table)
            data[table] = [{c: ledger.cell_value(field.column(c), v) for c, v in r.items()}
                           for r in rows]
        closed_on = _closing_date(form, data, pseudo, closing_field, problem)
        dated = None
        if not form.date_field:
            raw = pseudo.get(ledger.DATE)
            try:
                dated = _RECORD_DATE.parse(ledger.cell_value(_RECORD_DATE, raw))
                if dated is None:
                    problem(ledger.DATE, "记录日期必填 the record's date is empty (required)")
            except Invalid as exc:
                problem(ledger.DATE, f"'{raw}' 日期无效 {exc}")
        voided_on = _date_cell(pseudo, ledger.VOIDED_ON, problem)
        try:
            state, closed_on = ledger.state_of(form, pseudo.get(ledger.STATUS), closed_on,
                                               voided_on)
        except Invalid as exc:
            shown = pseudo.get(ledger.STATUS) or closed_on or "the record"
            about_void = isinstance(exc, ledger.VoidDateProblem)
            place = next((t for t in (ledger.VOIDED_ON, ledger.STATUS) if t in where_of
                          and (about_void or t != ledger.VOIDED_ON)), ledger.CLOSED_ON)
            problem(place, f"'{shown}' {exc}")
            state = None
        void = state is not None and form.workflow.state(state).void
        if closing_field and closed_on and data.get(closing_field) is None and not void:
            data[closing_field] = closed_on
        original = _text(pseudo.get(ledger.NUMBER))
        kept = None
        if original:
            kept = _number_plan(ws, form, original, number, numbers, known, legacy, data,
                                problem)
        try:
            clean = validate_data(form, data, today.isoformat())
        except ValidationError as exc:
            for text in exc.problems:
                target, text, row = _place(text, group)
                if (row, target) not in group["unsaved"]:  # said already: its formula
                    problem(target, text, row)
            clean = None
        early = clean is not None and closed_on and \
            workflow_rules.closed_too_early(form, clean, closed_on)
        if early:
            problem(ledger.CLOSED_ON if ledger.CLOSED_ON in where_of else closing_field,
                    early)
        if found:
            problems += found
            continue
        created = (clean.get(form.date_field) if form.date_field else None) or closed_on \
            or today.isoformat()
        if not form.date_field:  # its own date column (ledger.undated_problem)
            created = dated
        plans.append({"row": number, "rows": group["rows"], "data": clean, "state": state,
                      "closed_on": closed_on, "created_on": created, "original": original,
                      "number": kept})
    if problems:
        raise ValidationError([text for _, text in sorted(problems, key=lambda p: p[0])],
                              subject=source["name"])
    if not plans:
        raise QrecError(f"{source['name']}: 无数据行 no data rows below the header row "
                        f"{header_row}",
                        param="file")
    return plans, [{"row": row, "text": text} for row, text in footers]


_TABLE_PLACE = re.compile(r"(\w+)\[(\d+)\]\.(\w+)")


def _place(text: str, group) -> tuple:
    """(target, text, ledger row) of a validate_data problem: a table cell's problem
    (`items[2].quantity ...`) is in the ledger row that made that table row."""
    head = text.split(" ", 1)[0]
    cell = _TABLE_PLACE.match(head)
    if cell:
        rows = group["table_rows"].get(cell.group(1), [])
        if int(cell.group(2)) <= len(rows):
            return f"{cell.group(1)}.{cell.group(3)}", text, rows[int(cell.group(2)) - 1]
    return head.split("[", 1)[0], text, group["rows"][0]


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _date_cell(pseudo: dict, target: str, problem) -> str | None:
    """The date a pseudo-column's cell gives (YYYY-MM-DD), or None (empty or refused)."""
    raw = pseudo.get(target)
    try:
        return _DATE.parse(ledger.cell_value(_DATE, raw)) if raw is not None else None
    except Invalid as exc:
        problem(target, f"'{raw}' 日期无效 {exc}")
        return None


def _closing_date(form: Form, data: dict, pseudo: dict, closing_field, problem) -> str | None:
    """The closing date the row gives (its closing-date field or a closed_on column)."""
    raw = pseudo.get(ledger.CLOSED_ON)
    closed_on = None
    if raw is not None:
        try:
            closed_on = _DATE.parse(ledger.cell_value(_DATE, raw))
        except Invalid as exc:
            problem(ledger.CLOSED_ON, f"'{raw}' 日期无效 {exc}")
    if closing_field and data.get(closing_field) is not None:
        try:
            own = form.field(closing_field).parse(data[closing_field])
        except Invalid:
            return closed_on  # validate_data reports it
        if closed_on and own != closed_on:
            problem(ledger.CLOSED_ON, f"结案日期不一致 closed on {closed_on}, but "
                    f"{closing_field} says {own}")
        return own
    return closed_on


def recheck_originals(ws: Workspace, form: Form, plans: list) -> None:
    """Under the catalog's write lock, before the planned records are stored: the original
    numbers that records of `form` were given since plan_rows read them (an import of the
    same ledger in another process) are refused as plan_rows refuses them. Raises
    ValidationError naming each row."""
    known, problems = _known_originals(ws, form), []
    for plan in plans:
        if plan["original"] and ledger.number_key(plan["original"]) in known:
            chinese, english = known[ledger.number_key(plan["original"])]
            problems.append(f"row {plan['row']}: {chinese} {plan['original']} {english}")
    if problems:
        raise ValidationError(problems, "the ledger (nothing was imported)", zh="未导入")


def _known_originals(ws: Workspace, form: Form) -> dict[str, tuple[str, str]]:
    """{original number as compared (ledger.number_key): (Chinese, English) of why it cannot
    be imported again, to put around the number}
    for the records of `form`: each imported one's original number (its record number or
    its legacy number; disposed records too: their events stay), and the legacy number any
    record carries now (typed in by hand)."""
    known, forms = {}, {}
    for record in ws.catalog.form_records(form.id):
        legacy = record["data"].get(ledger.LEGACY_FIELD)
        if legacy:
            known[ledger.number_key(legacy)] = (
                "原编号已存在", f"is already the original number ({ledger.LEGACY_FIELD}) of "
                f"{record['number']}")
    for event in ws.catalog.events_by_action(["record.imported"]):
        detail = event["detail"]
        revision = (detail.get("form_revision") or {}).get("id")
        if revision not in forms:
            forms[revision] = revision is not None and \
                ws.catalog.form_revision_by_id(revision)["form_id"]
        if forms[revision] == form.id and detail.get("original_number"):
            known[ledger.number_key(detail["original_number"])] = (
                "原编号已导入", f"was imported already (from {detail.get('source')} row "
                f"{detail.get('row')}, as {event['record_number']})")
    return known


def _number_plan(ws: Workspace, form: Form, original: str, row: int, numbers: dict,
                 known: dict, legacy, data: dict, problem) -> str | None:
    """The record's number when the original number becomes it (it fits the form's pattern,
    as written or in capitals, and is free); else None, and it goes into the legacy-number
    field. An original number given twice in the file, or one the form's records have
    already (`known`), is a problem; numbers compare trimmed and without case (`ks-2025-007 `
    is KS-2025-007)."""
    key = ledger.number_key(original)
    if key in numbers:
        problem(ledger.NUMBER, f"原编号重复 number {original} appears again (first in row "
                f"{numbers[key]})")
        return None
    numbers[key] = row
    if key in known:
        chinese, english = known[key]
        problem(ledger.NUMBER, f"{chinese} {original} {english}")
        return None
    fitting = next((number for number in (original, original.upper())
                    if ledger.fitting_number(form.number_pattern, number)), None)
    if fitting is not None and ws.catalog.record(fitting) is None \
            and ws.catalog.tombstone(fitting) is None:
        return fitting
    if legacy is None:
        why = "is used already" if fitting is not None else \
            f"does not fit the form's pattern {form.number_pattern}"
        problem(ledger.NUMBER, f"原编号无处保存 number {original} {why}, and {form.id} has "
                f"no {ledger.LEGACY_FIELD} field to keep it in")
        return None
    data[ledger.LEGACY_FIELD] = original
    return None
