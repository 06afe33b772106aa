"""The register 台账 of a form: one row per record (its current version), as XLSX or CSV.

Columns, headed in both languages: record number, the day it was made, the form's date field
(what --from/--to filter on; without one, the day it was made), customer, product (when the
form has a `product` field), status, due date (when the workflow has a deadline), closed on
(a void record's only when it closed before it was voided), voided on, retained until, hold;
then the form's other one-line fields, its title fields first and the rest in schema order.
Long text and tables stay on the form unless asked for (`long_text`, or named among the
chosen columns). A View chooses the columns (by id, field label or heading, in the order
given; the record number always first), the records (by status) and the order of the rows.

Sensitive fields are `***` for users without the privacy role. A privacy user's export that
contains sensitive values is logged as one `register.sensitive_read` event.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from typing import Callable, NamedTuple, TypedDict

from .. import clock
from ..domain import names, retention, workflow_rules
from ..domain.fields import MASK
from ..domain.forms import Form
from ..errors import QrecError
from ..index.documents import record_date
from ..index.query import check_date
from ..labels import Label
from ..outputs import out_path, write_out
from ..textfmt import width
from ..workspace import Workspace

SUFFIXES = (".xlsx", ".csv")
LONG_TYPES = ("longtext", "table")
YES, NO = "是 Yes", "否 No"


class Column(NamedTuple):
    id: str                  # the key of the column in a row
    heading: str             # 中文 English
    kind: str = "text"       # text, date, integer or decimal: how a spreadsheet stores it
    field: str | None = None  # the form field it shows, if any


class View(NamedTuple):
    """Which columns a register shows, which records and how its rows are ordered (the
    default: every one-line column, every record, in the order of the catalog)."""
    columns: tuple[str, ...] = ()  # ids, field labels or headings (zh, en or both); () = all
    long_text: bool = False        # long-text and table fields too
    sort: str | None = None        # a column, as `columns` names them, + ":desc" for descending
    status: str | None = None      # only records in this workflow state (id or label: 已结案)


# form, form_title, out (the file written), from and to (the period, or None), count (rows),
# masked (sensitive columns shown as ***), columns [{id, heading}], rows [column id -> value]
Register = TypedDict("Register", {
    "form": str, "form_title": str, "out": str, "from": str | None, "to": str | None,
    "count": int, "masked": bool, "columns": list[dict], "rows": list[dict]})


def export(ws: Workspace, form_id: str, out: str | None, date_from: str | None = None,
           date_to: str | None = None, view: View = View()) -> Register:
    """Write the register of a form (id or title) to `out` (.xlsx or .csv) and return it:
    {form, form_title, out, from, to, count, masked, columns: [{id, heading}], rows}; with
    `out` None nothing is written (the rows are for the screen; `out` is "screen").
    Raises NotFound (param "columns" or "sort") for a column the form has not, or (param
    "status") for a state it has not, QrecError (param "out") for a bad file name."""
    if out is None:
        return _deliver(ws, form_id, None, date_from, date_to, "screen", lambda _: None, view)
    path = out_path(out, SUFFIXES, ws.files.holds_path)
    return _deliver(ws, form_id, path.suffix.lower(), date_from, date_to,
                    str(path.resolve()), lambda content: write_out(path, content), view)


def download(ws: Workspace, form_id: str, suffix: str, date_from: str | None = None,
             date_to: str | None = None) -> tuple[bytes, Register]:
    """The register of a form as the bytes of a `suffix` (".xlsx" or ".csv") file, for a face
    that hands it over itself (the portal), and the register. Raises QrecError (param "out")
    for another suffix."""
    if suffix not in SUFFIXES:
        raise QrecError(f"a register is {' or '.join(SUFFIXES)}, not {suffix!r}", param="out")
    made: list[bytes] = []
    result = _deliver(ws, form_id, suffix, date_from, date_to, "downloaded", made.append)
    return made[0], result


def _deliver(ws: Workspace, form_id: str, suffix: str | None, date_from: str | None,
             date_to: str | None, out: str, deliver: Callable[[bytes], None],
             view: View = View()) -> Register:
    """Build the register and `deliver` its file (none for the screen: suffix None); a read
    of sensitive values is logged in the same transaction as the delivery (the event and the
    file go together, or neither)."""
    actor = ws.actor
    date_from, date_to = period(date_from, date_to)
    form = ws.forms.current(names.form_id(ws.forms.all_current(), form_id))
    columns, rows, shown, about = build(ws, form, actor, date_from, date_to, view)
    content = b"" if suffix is None else xlsx_bytes(columns, rows, about) \
        if suffix == ".xlsx" else csv_bytes(columns, rows)
    if not shown["records"]:  # nothing to log (and a read-only workspace can export)
        deliver(content)
    else:
        with ws.catalog.write():
            ws.log("register.sensitive_read", None, None,
                   {"form": form.id, "fields": sorted(shown["fields"]),
                    "records": shown["records"], "out": out})
            deliver(content)
    return {"form": form.id, "form_title": str(form.title), "out": out,
            "from": date_from, "to": date_to, "count": len(rows),
            "masked": about["masked"] and any(f.sensitive for f in form.fields),
            "columns": [{"id": c.id, "heading": c.heading} for c in columns], "rows": rows}


def build(ws, form: Form, actor, date_from: str | None, date_to: str | None,
          view: View = View()):
    """(columns, rows, shown, about) of a form's register as `actor` may see it, its columns
    and order as `view` says; `shown` names the sensitive values it reveals (to be logged by
    whoever writes it out)."""
    every = register_columns(form, long_text=True)
    columns = chosen_columns(form, every, view)
    key, descending = sort_key(form, every, view.sort)
    status = names.status_id([form], view.status) if view.status is not None else None
    wanted = columns + ([key] if key is not None and key not in columns else [])
    sees = ws.sees_personal_data()  # `actor` is the acting user; masked when read-only
    rows, shown = register_rows(ws, form, wanted, sees, date_from, date_to, status)
    if key is not None:
        rows = sorted_rows(rows, key, descending)
        rows = [{c.id: row[c.id] for c in columns} for row in rows]
    about = {"form": form, "actor": actor, "from": date_from, "to": date_to,
             "status": form.workflow.label(status) if status else None,
             "organisation": ws.settings.organisation, "masked": not sees, "demo": ws.demo}
    return columns, rows, shown, about


def period(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """The period (YYYY-MM-DD, inclusive; None for open) checked: QrecError naming the
    parameter (date_from, date_to) for a bad date or a start after the end."""
    date_from = check_date(date_from, "date_from") if date_from else None
    date_to = check_date(date_to, "date_to") if date_to else None
    if date_from and date_to and date_from > date_to:
        raise QrecError(f"{date_from} is after the end of the period {date_to}",
                        param="date_from")
    return date_from, date_to


def register_columns(form: Form, long_text: bool = False) -> list[Column]:
    """The columns of a form's register, in order (see the module's docstring); long-text
    and table fields too with `long_text`."""
    placed = [fid for fid in (form.date_field, form.customer_field, "product")
              if fid and form.field(fid) is not None]
    columns = [Column("number", "记录编号 Number"), Column("created_on", "建档日期 Created",
                                                          "date")]
    columns += [_field_column(form, fid) for fid in placed]
    columns.append(Column("status", "状态 Status"))
    if form.workflow.deadline is not None:
        columns.append(Column("due_date", "期限 Due date", "date"))
    columns += [Column("closed_on", "关闭日期 Closed on", "date"),
                Column("voided_on", "作废日期 Voided on", "date"),
                Column("retention_until", "保存至 Retained until", "date"),
                Column("hold", "冻结 Hold")]
    rest = list(form.title_fields) + [f.id for f in form.fields if f.id not in form.title_fields]
    taken = {c.id for c in columns}
    for fid in rest:
        if fid in placed or (form.field(fid).type in LONG_TYPES and not long_text):
            continue
        column = _field_column(form, fid)
        if column.id in taken:  # a field named like a register column keeps its own key
            column = Column(f"field_{fid}", column.heading, column.kind, fid)
        taken.add(column.id)
        columns.append(column)
    return columns


def chosen_columns(form: Form, every: list[Column], view: View) -> list[Column]:
    """The columns `view` asks for, among `every` (register_columns with long text): the
    record number first, then those named in their order; without names, the default ones
    (with long text when asked). Raises NotFound (param "columns") in one line listing the
    columns the form has."""
    if not view.columns:
        return register_columns(form, long_text=view.long_text)
    chosen = [every[0]]
    for name in view.columns:
        column = _column_named(form, every, name, "columns")
        if column not in chosen:
            chosen.append(column)
    return chosen


def sort_key(form: Form, every: list[Column], sort: str | None) -> tuple[Column | None, bool]:
    """(column, descending) of a sort such as `received_date:desc` or `受理日期`; (None,
    False) for none. Raises NotFound (param "sort") for a column the form has not, QrecError
    for an order other than asc or desc."""
    if sort is None or not sort.strip():
        return None, False
    name, _, order = sort.strip().rpartition(":") if ":" in sort else (sort, "", "asc")
    if order.strip().lower() not in ("asc", "desc"):
        raise QrecError(f"'{sort}': the order after ':' is asc or desc", param="sort")
    return _column_named(form, every, name, "sort"), order.strip().lower() == "desc"


def _column_named(form: Form, every: list[Column], name: str, param: str) -> Column:
    """The column `name` names: its id, its field's label or its heading (zh, en, both)."""
    labels = {}
    for column in every:
        field = form.field(column.field) if column.field else None
        if field is not None:
            labels[column.id] = field.label
        else:
            zh, _, en = column.heading.partition(" ")
            labels[column.id] = Label(zh, en)
    found = names.resolve(name, labels, "column", param)
    return next(c for c in every if c.id == found)


def sorted_rows(rows: list[dict], column: Column, descending: bool) -> list[dict]:
    """Rows ordered by one column (dates and numbers as such, text as text); empty and
    masked cells last either way; rows with equal cells keep their order."""
    def value(row):
        cell = row[column.id]
        if column.kind in ("integer", "decimal"):
            return decimal.Decimal(str(cell))
        return str(cell)

    filled = [r for r in rows if r[column.id] not in (None, MASK)]
    empty = [r for r in rows if r[column.id] in (None, MASK)]
    return sorted(filled, key=value, reverse=descending) + empty


def _field_column(form: Form, fid: str) -> Column:
    field = form.field(fid)
    kind = field.type if field.type in ("date", "integer", "decimal") else "text"
    return Column(fid, str(field.label), kind, fid)


def register_rows(ws, form: Form, columns: list[Column], privacy: bool,
                  date_from: str | None, date_to: str | None,
                  status: str | None = None) -> tuple[list[dict], dict]:
    """(rows, {"fields", "records"}: the sensitive values shown unmasked) of the records
    dated in the period and, with `status` (a state id), in that state. A row maps column
    ids to cells: text (choices and yes/no in both languages), ISO dates, integers, decimals
    as text ("3000.00"), None when empty, `***` when masked."""
    rows, shown = [], {"fields": set(), "records": []}
    for record in ws.catalog.form_records(form.id):
        if status is not None and record["status"] != status:
            continue
        frozen = ws.forms.frozen(record["form_revision_id"])[0]  # as the record was made
        data = record["data"]
        day = record_date(frozen, data, record["created_on"])
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        due = workflow_rules.due_date(frozen.workflow, data)
        closed_on, voided_on = retention.closed_and_voided(
            record["closed_on"], record["retention_from"],
            frozen.workflow.state(record["status"]).void)
        row = {"number": record["number"], "created_on": record["created_on"],
               "status": frozen.workflow.label(record["status"]),
               "due_date": due.isoformat() if due else None, "closed_on": closed_on,
               "voided_on": voided_on, "retention_until": record["retention_until"],
               "hold": YES if record["on_hold"] else NO}
        revealed = []
        for column in columns:
            if column.field is None:
                continue
            field = frozen.field(column.field) or form.field(column.field)
            value = data.get(column.field)
            sensitive = field.sensitive or form.field(column.field).sensitive
            if value is not None and sensitive:
                if not privacy:
                    row[column.id] = MASK
                    continue
                revealed.append(column.field)
            row[column.id] = _cell(field, value)
        if revealed:
            shown["fields"].update(revealed)
            shown["records"].append(record["number"])
        rows.append({c.id: row.get(c.id) for c in columns})
    return rows, shown


def _cell(field, value):
    if field.type == "table":  # one line per row: 名称=铜板; 数量=40
        return "\n".join(field.row_text(row) for row in value) if value else None
    return field.display(value) if field.type in ("choice", "yesno") else value


# -- files ---------------------------------------------------------------------------------


# A spreadsheet reads a cell that begins with one of these as a formula (OWASP, "CSV
# Injection"; OWASP ASVS 5.0, 1.2.10): =HYPERLINK(...) or =cmd|... in a customer's name would
# run when the register is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Whole numbers and decimals keep every digit in a number cell up to 15 significant digits,
# what a spreadsheet's double holds and shows exactly (Excel: "15 digits of precision"); longer
# ones (the catalog keeps 18) are written as text.
EXACT_DIGITS = 15


def csv_bytes(columns: list[Column], rows: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly. A text cell
    that a spreadsheet would take for a formula (FORMULA_STARTS) gets a leading single quote,
    as OWASP's CSV-injection guidance says; numbers and dates are written as they are."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([csv_text(c.heading) for c in columns])
    for row in rows:
        writer.writerow(["" if row[c.id] is None else
                         csv_text(row[c.id]) if c.kind == "text" or row[c.id] == MASK
                         else row[c.id] for c in columns])
    return text.getvalue().encode("utf-8-sig")


def csv_text(value) -> str:
    """A text cell of a CSV: '=1+1 for =1+1 (see FORMULA_STARTS), anything else as it is."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_bytes(columns: list[Column], rows: list[dict], about: dict) -> bytes:
    """The register sheet (header row bold and frozen, filters on, widths fitted to CJK text,
    dates and numbers as real cells) and a sheet saying what the register is."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    form = about["form"]
    book = Workbook(write_only=True)
    english = f" {form.title.en} register" if form.title.en else ""
    book.properties.title = f"{form.title.zh} 台账{english}" + (
        " (演示 DEMO)" if about.get("demo") else "")
    book.properties.creator = "qrecords"
    sheet = book.create_sheet("台账 Register")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        cells = [column.heading] + [_text(row[column.id]) for row in rows]
        sheet.column_dimensions[get_column_letter(index)].width = \
            min(max(width(text) for text in cells) + 2, 60)
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    bold = Font(bold=True)
    heading = []
    for column in columns:
        cell = _text_cell(sheet, column.heading)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in rows:
        sheet.append([_typed(sheet, column, row[column.id]) for column in columns])
    info = book.create_sheet("说明 About")
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 24, 60
    actor = about["actor"]
    for label, value in (
            ("组织 Organisation", about["organisation"]),
            ("表单 Form", f"{form.title} {form.form_number} ({form.id})"),
            ("期间 Period", f"{about['from'] or '…'} – {about['to'] or '…'}"),
            ("按日期 Filed by", str(form.field(form.date_field).label) if form.date_field
             else "建档日期 Created"),
            *([("状态 Status", about["status"])] if about.get("status") else []),
            ("记录数 Records", len(rows)),
            ("导出 Exported", f"{clock.today().isoformat()} ({clock.utc_now()} UTC)"),
            ("导出人 By", f"{actor.name} ({actor.id})"),
            ("敏感信息 Sensitive fields", "*** 已隐藏 masked" if about["masked"]
             else "已显示，已记录 shown, logged"),
            *([("演示 DEMO", "演示工作区：非正式记录 a demonstration workspace: not records")]
              if about.get("demo") else [])):
        info.append([_text_cell(info, label), _text_cell(info, value)
                     if isinstance(value, str) else value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)


def _typed(sheet, column: Column, value):
    """A spreadsheet cell: dates and numbers typed (so they sort and sum), the rest text that
    stays text (see _text_cell). A number with more than EXACT_DIGITS significant digits is
    written as text, so every digit the catalog keeps survives."""
    if value is None:
        return None
    if column.kind == "text" or value == MASK:
        return _text_cell(sheet, value) if str(value).startswith(FORMULA_STARTS) else value
    from openpyxl.cell import WriteOnlyCell

    if column.kind == "date":
        cell = WriteOnlyCell(sheet, value=dt.date.fromisoformat(value))
        cell.number_format = "yyyy-mm-dd"
        return cell
    number = decimal.Decimal(value)
    if len(number.normalize().as_tuple().digits) > EXACT_DIGITS:
        return _text_cell(sheet, str(value))
    if column.kind == "integer":
        return value
    cell = WriteOnlyCell(sheet, value=number)
    cell.number_format = "#,##0.00"
    return cell


def _text_cell(sheet, value: str):
    """A text cell that stays text: openpyxl would store "=..." as a live formula; this one is
    a string with Excel's quote prefix (as if typed '=...), so editing it keeps it text too."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell
