"""Old records from a ledger (台账): which column is which field, what an original number and
state mean for the form, and the cell values turned into what the fields parse.

Pure: the ledger's cells arrive as Python values (str, int, float, datetime, None), read by
api/ledger_file.py. DOMAIN.md, "Old records": each keeps its original number and dates, and
no workflow history is invented for it.
"""

from __future__ import annotations

import datetime as dt
import re

from .fields import Invalid
from .forms import Form

# Columns that are no field of the form: the record's original number, its state, the day it
# closed. Named so in a map file; recognised by these headers (normalised) in a ledger.
NUMBER, STATUS, CLOSED_ON, DATE = "number", "status", "closed_on", "date"
VOIDED_ON = "voided_on"
PSEUDO = {
    NUMBER: {"number", "no", "no.", "编号", "记录编号", "单号", "表单编号记录编号", "原编号",
             "recordnumber", "recordno", "recordno.", "originalnumber"},
    STATUS: {"status", "state", "状态", "记录状态", "处理状态"},
    CLOSED_ON: {"closedon", "dateclosed", "closingdate", "结案日期", "关闭日期", "结案时间"},
    VOIDED_ON: {"voidedon", "datevoided", "voiddate", "作废日期", "作废时间"},
    # The record's own date, for a form without `date_field:`: named in a map file only.
    DATE: set(),
}
# The field that keeps an original number which cannot be the record number.
LEGACY_FIELD = "legacy_number"
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_CN_DATE = re.compile(r"\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?\s*")


def normalise(header) -> str:
    """A header as compared: lower case, no spaces, no required-marks or colons, ASCII
    brackets (`受理日期 *`, `Date received:` and `受理日期（Date received）` all compare)."""
    text = str(header or "").strip().lower()
    text = text.replace("（", "(").replace("）", ")").replace("：", ":")
    return re.sub(r"[\s*:：]+", "", text)


def number_key(number: str) -> str:
    """An original number as compared with others: trimmed, without case."""
    return str(number).strip().casefold()


def header_names(form: Form) -> dict[str, str]:
    """{normalised header: field id, pseudo-column or table column} a ledger's header row is
    matched by: each field's id, Chinese and English label and both together; the
    pseudo-columns' usual names; a table column's `table.column` id and labels, when no
    field or pseudo-column has that name and no other table column has it too. A field's
    own label wins over a pseudo-column's name (结案日期 of the complaint is its
    `closed_date` field), except the legacy-number field's: 原编号 is the original number
    (kept as the record's number when it can be, checked against those imported before)."""
    names = {}
    for pseudo, spellings in PSEUDO.items():
        names.update({normalise(s): pseudo for s in spellings})
    for field in form.fields:
        if field.id == LEGACY_FIELD:
            names.update({s: NUMBER for s in _spellings(field.id, field)})
        elif field.type != "table":
            names.update({s: field.id for s in _spellings(field.id, field)})
    in_tables: dict[str, set] = {}
    for table in form.fields:
        for column in table.columns if table.type == "table" else ():
            target = f"{table.id}.{column.id}"
            for spelling in _spellings(target, column):
                in_tables.setdefault(spelling, set()).add(target)
    names.update({s: next(iter(t)) for s, t in in_tables.items()
                  if len(t) == 1 and s not in names})
    return names


def _spellings(target: str, field) -> set[str]:
    zh, en = field.label.zh, field.label.en
    both = (en, f"{zh} {en}", f"{zh}({en})", f"{zh}/{en}") if en else ()
    return {normalise(s) for s in (target, zh, *both)}


def table_target(form: Form, target: str):
    """(table field, column field) a `table.column` target names, or None."""
    table_id, _, column_id = target.partition(".")
    table = form.field(table_id) if column_id else None
    if table is None or table.type != "table" or table.column(column_id) is None:
        return None
    return table, table.column(column_id)


def target_of(names: dict[str, str], header) -> str | None:
    """The field (or pseudo-column) a header names: exactly, by `header_names`; else a
    header ending in 编号 or 单号 that is no field's label (投诉单号, 记录单号) is the
    original number."""
    key = normalise(header)
    if key in names:
        return names[key]
    if key.endswith(("编号", "单号")) and len(key) <= 8:
        return NUMBER
    return None


def target_problem(form: Form, target: str) -> str | None:
    """Why a map file's target is no column an import can fill, or None."""
    if target == DATE and form.date_field:
        return (f"记录日期为字段 {form.date_field} {form.id} dates its records by its field "
                f"{form.date_field}: map the column to {form.date_field}")
    if target in PSEUDO:
        return None
    if "." in target:
        if table_target(form, target) is None:
            return (f"表格列不存在 '{target}' is no column of a table of {form.id} "
                    "(table.column, e.g. " + ", ".join(
                        f"{t.id}.{t.columns[0].id}" for t in form.fields
                        if t.type == "table") + ")")
        return None
    field = form.field(target)
    if field is None:
        return (f"字段不存在 '{target}' is no field of {form.id} (nor number, status, "
                "closed_on, date)")
    if field.type == "table":
        return (f"表格按列映射 '{target}' is a table: map a ledger column to each of its "
                f"columns ({', '.join(f'{target}.{c.id}' for c in field.columns)})")
    return None


def cell_value(field, value):
    """A ledger cell as the field parses it: Excel dates and day counts, 2023年11月5日, whole
    numbers stored as floats, text cells of numbers. Empty cells are None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.type == "date":
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and 1 <= value < 2958466:
            return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
        if isinstance(value, str):
            match = _CN_DATE.fullmatch(value)
            if match:
                return "-".join(match.groups())
            if " " in value.strip() and re.match(r"\d{4}-\d", value.strip()):
                return value.strip().split(" ")[0]  # "2023-11-05 00:00:00" as text
        return value
    if isinstance(value, float) and value.is_integer() and field.type != "decimal":
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)) and field.type in ("text", "longtext"):
        value = value.date().isoformat() if isinstance(value, dt.datetime) else \
            value.isoformat()
    if field.type in ("text", "longtext") and isinstance(value, (int, float)):
        return str(value)
    return value


def number_regex(pattern: str) -> re.Pattern:
    """A regular expression matching the numbers a pattern makes, with named groups for its
    date tokens and serial (`CC-{yy}{mm}-{seq:02}` matches CC-2311-05 and CC-2311-105)."""
    tokens = {"{yyyy}": r"(?P<yyyy>\d{4})", "{yy}": r"(?P<yy>\d{2})",
              "{mm}": r"(?P<mm>0[1-9]|1[0-2])", "{dd}": r"(?P<dd>0[1-9]|[12]\d|3[01])"}
    out, rest = "", pattern
    while rest:
        token = next((t for t in tokens if rest.startswith(t)), None)
        seq = re.match(r"\{seq:(\d{2})\}", rest)
        if token:
            out, rest = out + tokens[token], rest[len(token):]
        elif seq:
            out, rest = out + rf"(?P<seq>\d{{{int(seq.group(1))},}})", rest[seq.end():]
        else:
            out, rest = out + re.escape(rest[0]), rest[1:]
    return re.compile(out)


def fitting_number(pattern: str, number: str) -> tuple[str, int] | None:
    """(counter period, serial) when `number` is one the pattern makes (CC-2311-05 ->
    ("CC-2311-{seq:02}", 5)), else None. The period is the serial counter's key, as
    numbering.period_of makes it."""
    match = number_regex(pattern).fullmatch(number)
    if not match:
        return None
    period = pattern
    for token in ("yyyy", "yy", "mm", "dd"):
        if f"{{{token}}}" in period:
            period = period.replace(f"{{{token}}}", match.group(token))
    return period, int(match.group("seq"))


def closing_date_field(form: Form) -> str | None:
    """The date field every step into a closing state sets to the day (the complaint's
    `closed_date`), or None: what a ledger's closing date fills."""
    flow = form.workflow
    into = [t for t in flow.transitions if flow.state(t.target).closes]
    if not into:
        return None
    common = set.intersection(*({f for f, v in t.sets.items() if v == "today"} for t in into))
    dates = sorted(f for f in common if form.field(f) and form.field(f).type == "date")
    return dates[0] if dates else None


class VoidDateProblem(Invalid):
    """A void record without its void date, or a void date on a record not void."""


def state_of(form: Form, status, closed_on: str | None,
             voided_on: str | None = None) -> tuple[str, str | None]:
    """(state id, closed on) of an old record: the state its status names (id or label), else
    the closing state when it has a closing date, else the form's first state. A void
    record's day is its void date (`voided_on`, else the closing date the ledger gives).
    Raises Invalid when the status is no state, a closed record lacks its closing date, a
    void one its void date (never invented), or an open one has one; VoidDateProblem (an
    Invalid) when a void record lacks its void date or one not void has one."""
    flow = form.workflow
    if status is not None and str(status).strip():
        wanted = normalise(status)
        state = next((s for s in flow.states if wanted in (
            normalise(s.id), normalise(s.label.zh), normalise(s.label.en),
            normalise(str(s.label)))), None)
        if state is None:
            raise Invalid("状态不存在 is no state of the form; states: " + ", ".join(
                f"{s.id} ({s.label.zh})" for s in flow.states))
    elif closed_on:
        state = next((s for s in flow.states if s.closes), None)
        if state is None:
            raise Invalid("表单无结案状态 is a closing date, but the form has no closing state")
    else:
        state = flow.states[0]
    if state.void:
        if not (voided_on or closed_on):
            raise VoidDateProblem(f"作废记录缺作废日期 is {state.label} but has no void date: give "
                          "it in a column 作废日期 (voided_on); a date is never invented")
        return state.id, voided_on or closed_on
    if voided_on:
        raise VoidDateProblem(f"非作废记录 is {state.label}, not void, but has the void date "
                      f"{voided_on}")
    if state.closes and not closed_on and state.id != flow.initial:
        # (a form whose records are final when made closes them on the day they were made)
        raise Invalid(f"已结案缺结案日期 is {state.label}: a closed record needs its "
                      "closing date")
    if not state.closes and closed_on:
        raise Invalid(f"未结案却有结案日期 is {state.label} (open) but has the closing date "
                      f"{closed_on}")
    return state.id, closed_on if state.closes else None


def table_problem(form: Form, targets) -> str | None:
    """Why a ledger whose columns fill `targets` (field ids, pseudo-columns, `table.column`)
    cannot make the tables of `form`: a required table no column fills, or a table filled
    without one of its required columns (every row would lack it). None when they can."""
    for table in form.fields:
        if table.type != "table" or table.computed is not None:
            continue
        filled = sorted(t for t in targets if t.startswith(f"{table.id}."))
        needed = [c for c in table.columns if c.required and c.computed is None]
        missing = [c for c in needed if f"{table.id}.{c.id}" not in filled]
        example = f"{table.id}.{(missing or needed or table.columns)[0].id}"
        if filled and missing:
            return (f"表格缺必填列 {table.id} ({table.label.zh}): the ledger fills "
                    f"{', '.join(filled)} but not its required column(s) "
                    f"{', '.join(f'{table.id}.{c.id} ({c.label.zh})' for c in missing)}: "
                    "name the ledger's columns for them in a map file (columns: {HEADER: "
                    f"{example}}}, --map), or skip its columns there (HEADER: null)")
        if not filled and table.required:
            return (f"表格必填 {table.id} ({table.label.zh}) is required and no ledger column "
                    "fills it: name the ledger's columns for its columns in a map file "
                    f"(columns: {{HEADER: {example}}}, --map); the rows of one record fill "
                    "one table row each")
    return None


def undated_problem(form: Form, targets, date_header: str | None = None,
                    built_in: bool = False) -> str | None:
    """Why a ledger whose columns fill `targets` (field ids and pseudo-columns) cannot be
    imported into `form`: the form has no date_field and no column is mapped to `date`, so
    its records would be dated (numbered, retained) from today. `date_header`: the ledger's
    column that looks like the date, shown in the example; `built_in`: the form is one of
    qrecords' own, whose schema the user does not revise. None when dated."""
    if form.date_field or DATE in targets:
        return None
    own = "" if built_in else (", or give the form `date_field: FIELD` (a date field) in "
                               f"a new revision of schemas/{form.id}.yaml")
    return (f"表单无记录日期 {form.id} has no date_field, so the ledger's date column must be "
            f"named, else its old records would be dated today: name it in a map file "
            f"(columns: {{{date_header or 'HEADER'}: date}}, --map MAP.yaml){own}")
