"""Interactive filling at a terminal: bilingual prompts that re-ask until a value is valid."""

from __future__ import annotations

import datetime as dt

import click

from ..domain.fields import Field, Invalid
from ..domain.forms import Form
from ..domain.ledger import LEGACY_FIELD


def prompt_fields(form: Form, data: dict, only_missing_required: bool, today: str) -> dict:
    """Ask for fields not in data: every field when filling from scratch, else the missing
    required ones without a default. Enter keeps the default, or leaves the field empty."""
    filled = dict(data)
    for field in form.fields:
        if field.id == LEGACY_FIELD:  # an old record's number: only `qrec import` fills it
            continue
        if field.id in filled or (only_missing_required and (
                not field.required or field.default is not None)):
            continue
        if field.computed is not None:  # never typed: computed when the record is stored
            if not only_missing_required:
                click.echo(f"  {field.label} = {field.computed.text} (自动计算 computed)")
            continue
        default = today if field.default == "today" else field.default
        day = dt.date.fromisoformat(today)
        value = prompt_table(field, day) if field.type == "table" else \
            prompt_value(field, "", day, default)
        if value not in (None, []):
            filled[field.id] = value
    return filled


def prompt_value(field: Field, indent: str, today: dt.date, default=None):
    text = f"{indent}{field.label}"
    if field.help:
        click.echo(click.style(f"{indent}  {field.help}", dim=True))
    if field.type == "choice":
        for number, choice in enumerate(field.choices, start=1):
            click.echo(f"{indent}  {number}. {choice.label} [{choice.id}]")
    mark = " *" if field.required else ""
    while True:
        shown = "" if default is None else str(default)
        if isinstance(default, bool):
            shown = "yes" if default else "no"
        raw = click.prompt(text + mark, default=shown, show_default=bool(shown))
        if field.type == "choice" and raw.strip().isdigit() and \
                1 <= int(raw) <= len(field.choices):
            raw = field.choices[int(raw) - 1].id
        try:
            value = field.parse(raw, today)
        except Invalid as exc:
            click.echo(f"{indent}  ✗ {exc} — 请重新输入 please try again", err=True)
            continue
        if value is None and field.required:
            click.echo(f"{indent}  ✗ 必填 required", err=True)
            continue
        return value


def prompt_table(field: Field, today: dt.date) -> list:
    rows = []
    click.echo(f"{field.label}:")
    while (field.max_rows is None or len(rows) < field.max_rows) and (
            len(rows) < field.min_rows
            or click.confirm(f"  添加一行 Add a row ({len(rows)} so far)?", default=False)):
        click.echo(f"  第 {len(rows) + 1} 行 Row {len(rows) + 1}")
        row = {}
        for column in field.columns:
            value = prompt_value(column, "    ", today)
            if value is not None:
                row[column.id] = value
        rows.append(row)
    return rows
