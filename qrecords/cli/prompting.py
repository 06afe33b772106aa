"""Interactive filling at a terminal: bilingual prompts, each answer checked as it is typed
(domain/entry.py, the rules of validate_data) and asked again with the reason.

Prompts go to stderr, so `--json` keeps stdout for the result. Ctrl-C or end of input raise
click.Abort; the caller stores nothing then.
"""

from __future__ import annotations

import click

from ..domain.entry import check_cell, entry_fields
from ..domain.fields import Field
from ..domain.forms import Form, check_value
from ..errors import ValidationError

LONG_TEXT_END = "（多行文本，空行结束 several lines: an empty line ends it）"
YES = {"y", "yes", "是", "是的", "好"}
NO = {"n", "no", "否", "不"}


def prompt_fields(form: Form, data: dict, only_missing_required: bool, today: str) -> dict:
    """Ask for the entry fields (entry_fields) not in data: every one when filling from
    scratch, else the missing required ones without a default. Enter keeps the default, or
    leaves the field empty. `today` is the effective date YYYY-MM-DD. Returns data with the
    answers added (values clean, as validate_data makes them)."""
    filled = dict(data)
    for field in entry_fields(form):
        if field.id in filled or (only_missing_required and (
                not field.required or field.default is not None)):
            continue
        default = today if field.default == "today" else field.default
        value = prompt_table(field, today) if field.type == "table" else \
            prompt_value(field, "", lambda raw, f=field: check_value(f, raw, today), default)
        if value not in (None, []):
            filled[field.id] = value
    for field in form.fields:  # never typed: computed when the record is stored
        if field.computed is not None and not only_missing_required:
            click.echo(f"  {field.label} = {field.computed.text} (自动计算 computed)", err=True)
    return filled


def prompt_value(field: Field, indent: str, check, default=None):
    """Ask one value until `check(raw)` returns it (it raises ValidationError with the
    reason, shown before asking again)."""
    if field.help:
        click.echo(click.style(f"{indent}  {field.help}", dim=True), err=True)
    if field.type == "choice":
        for number, choice in enumerate(field.choices, start=1):
            click.echo(f"{indent}  {number}. {choice.label} [{choice.id}]", err=True)
    text = f"{indent}{field.label}" + (" *" if field.required else "")
    while True:
        raw = _ask_long(text, indent) if field.type == "longtext" else _ask(field, text, default)
        if field.type == "choice" and raw.strip().isdigit() and \
                1 <= int(raw) <= len(field.choices):
            raw = field.choices[int(raw) - 1].id
        try:
            return check(raw)
        except ValidationError as exc:
            for problem in exc.problems:
                click.echo(f"{indent}  ✗ {problem} — 请重新输入 please try again", err=True)


def _ask(field: Field, text: str, default) -> str:
    shown = "" if default is None else str(default)
    if isinstance(default, bool):
        shown = "yes" if default else "no"
    return click.prompt(text, default=shown, show_default=bool(shown), err=True)


def _ask_long(text: str, indent: str) -> str:
    """Lines until an empty one (the first line empty: no value)."""
    click.echo(f"{text} {LONG_TEXT_END}", err=True)
    lines: list[str] = []
    while True:
        line = click.prompt(f"{indent}  >", default="", show_default=False, err=True,
                            prompt_suffix=" ")
        if not line.strip():
            return "\n".join(lines)
        lines.append(line)


def prompt_table(field: Field, today: str) -> list:
    """Rows one by one, each cell checked as typed; a key an earlier row has is refused at
    that row's key cell."""
    rows: list[dict] = []
    click.echo(f"{field.label}:", err=True)
    while (field.max_rows is None or len(rows) < field.max_rows) and (
            len(rows) < field.min_rows
            or confirm(f"  添加一行 Add a row ({len(rows)} so far)?")):
        click.echo(f"  第 {len(rows) + 1} 行 Row {len(rows) + 1}", err=True)
        row = {}
        for column in field.columns:
            if column.computed is not None:  # worked out when the record is stored
                click.echo(f"    {column.label} = {column.computed.text} (自动计算 computed)",
                           err=True)
                continue
            value = prompt_value(column, "    ", lambda raw, c=column: check_cell(
                field, c, raw, rows, today))
            if value is not None:
                row[column.id] = value
        rows.append(row)
    return rows


def confirm(text: str, default: bool = False) -> bool:
    """Ask a yes/no question: y, yes, 是 or n, no, 否 (any case); Enter takes `default`.
    Any other answer is said to be wrong (bilingual) and the question asked again. Returns
    the answer as a bool; Ctrl-C or end of input raise click.Abort."""
    choices = "[Y/n]" if default else "[y/N]"
    while True:
        raw = click.prompt(f"{text} {choices}", default="", show_default=False, err=True)
        answer = raw.strip().lower()
        if not answer:
            return default
        if answer in YES:
            return True
        if answer in NO:
            return False
        click.echo(f"  ✗ 请回答 是/否 (y/n)：{raw.strip()!r} — answer yes or no", err=True)
