"""The monthly complaint statistics 客户投诉案件统计表 (due by the 10th of the next month).

Two populations, as the quality manager reads them:
- complaints *received* in the month (by their received date): how many, of which category,
  and their cause, counted by the responsible department the investigation named (the form
  has no coded cause; its cause analysis is free text, shown per case);
- complaints *closed* in the month (the day they reached 已结案): how many, on time or late
  (the closing step recorded the deadline, the days taken and whether it was late), the
  average days to close, and their dispositions with the amounts (the amount of a closed
  complaint is final; an open one's may still change).
Plus the backlog at the end of the month (or today, for the month under way). A void
complaint 作废 (issued by mistake) is in none of these: it is listed apart, as voided.

The report is a controlled document: numbered RPT-CC-<yymm of the month>-<serial> from the
catalog's counters (a second report of a month, after late entries, gets the next serial and
the first is kept), kept as DOCX and PDF under reports/ in the file store, logged with their
SHA-256.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import PurePosixPath

from .. import clock
from ..domain import workflow_rules
from ..domain.fields import MASK
from ..domain.numbering import format_number, period_of
from ..domain.statistics_fields import missing_fields
from ..errors import FormError, QrecError
from ..index.documents import record_date
from ..outputs import out_path, write_out
from ..workspace import Workspace
from .keys import pdf_key
from .pdfs import log_letter_pdf

FORM = "complaint"
NUMBER_PATTERN = "RPT-CC-{yy}{mm}-{seq:02}"
COUNTER = "report:complaints"  # a counters key no form id can take
REPORTS = "reports"  # the file store folder where reports are kept
TITLE = "客户投诉案件统计表  Customer Complaint Statistics"
SUFFIXES = (".pdf", ".docx")
# The complaint form's fields the statistics read (their ids are part of the form's contract).
CATEGORY, DEPARTMENT, CAUSE = "category", "responsible_department", "cause_analysis"
DISPOSITION, AMOUNT, CUSTOMER = "disposition", "disposition_amount", "customer"
UNSET = {CATEGORY: "未分类 Not classified", DEPARTMENT: "未定 Not assigned",
         DISPOSITION: "未定 Not decided"}
CENTS = decimal.Decimal("0.01")


def month_range(month: str | None) -> tuple[dt.date, dt.date]:
    """First and last day of a YYYY-MM month. Raises QrecError (param "month")."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", month or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise QrecError(f"'{month}' is not a month (YYYY-MM, e.g. 2026-11)", param="month")
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def complaint_statistics(ws: Workspace, month: str) -> dict:
    """The figures of a month (see the module's docstring), as of today. Raises QrecError
    (param "month"), FormError when a form revision of the complaints lacks what the
    statistics read."""
    first, last = month_range(month)
    today = clock.today()
    if first > today:
        raise QrecError(f"{month} has not begun (today is {today})", param="month")
    form = ws.forms.current(FORM)
    _check_fields(form)
    start, end, cut = first.isoformat(), last.isoformat(), min(last, today).isoformat()
    closings = ws.catalog.closings(FORM)
    cases, voided, open_at_end, overdue_at_end = [], [], 0, 0
    for record in ws.catalog.form_records(FORM):
        revision = ws.forms.frozen(record["form_revision_id"])[0]
        if revision is not form:
            _check_fields(revision)
        case = _case(revision, record, closings.get(record["number"], {}), start, end)
        if revision.workflow.state(record["status"]).void:
            # Issued by mistake: no complaint was received, none closed (DOMAIN.md, Void).
            if case["received_in_month"]:
                voided.append({k: case[k] for k in ("number", "received_date", "status_label",
                                                    "closed_on")})
            continue
        if case["received_date"] <= cut and (case["closed_on"] is None
                                             or case["closed_on"] > cut):
            open_at_end += 1
            overdue_at_end += bool(case["due_date"] and case["due_date"] < cut)
        if case["received_in_month"] or case["closed_in_month"]:
            cases.append(case)
    received = [c for c in cases if c["received_in_month"]]
    closed = [c for c in cases if c["closed_in_month"]]
    on_time = sum(c["late"] is False for c in closed)
    late = sum(c["late"] is True for c in closed)
    days = [c["days_taken"] for c in closed if c["days_taken"] is not None]
    categories = _count_by(form, CATEGORY, received)
    return {
        "month": month, "from": start, "to": end, "as_of": today.isoformat(),
        "form": form.id, "form_title": str(form.title), "form_number": form.form_number,
        "received": len(received), "closed": len(closed),
        "closed_on_time": on_time, "closed_late": late,
        "on_time_percent": round(100 * on_time / (on_time + late), 1) if on_time + late
        else None,
        "average_days_to_close": round(sum(days) / len(days), 1) if days else None,
        "amount": _money(c[AMOUNT] for c in closed),
        "open_at_month_end": open_at_end, "overdue_at_month_end": overdue_at_end,
        # complaints of the month voided 作废 (issued by mistake), counted nowhere else:
        # [{number, received_date, status_label, closed_on (the day voided)}]
        "voided": voided,
        "by_category": categories,
        # the causes: per department, its count of each category (in by_category's order)
        "by_department": [{**row, "by_category": [
            sum(c[CATEGORY] == cat["id"] and c[DEPARTMENT] == row["id"] for c in received)
            for cat in categories]} for row in _count_by(form, DEPARTMENT, received)],
        "by_disposition": [{**row, "amount": _money(c[AMOUNT] for c in closed
                                                   if c[DISPOSITION] == row["id"])}
                           for row in _count_by(form, DISPOSITION, closed)],
        "cases": cases,
    }


def _check_fields(form) -> None:
    problems = missing_fields("complaints", form)
    if problems:
        raise FormError(f"the complaint statistics cannot read {form.id} rev {form.revision}: "
                        f"{'; '.join(problems)} (`qrec forms check {form.id}`)")


def _case(form, record: dict, closing: dict, start: str, end: str) -> dict:
    """One complaint as the statistics see it, read with its own form revision."""
    data = record["data"]
    received = record_date(form, data, record["created_on"])
    closed = record["closed_on"]
    closed_in_month = closed is not None and start <= closed <= end
    due = workflow_rules.due_date(form.workflow, data)
    case = {"number": record["number"], "received_date": received,
            "received_in_month": start <= received <= end, "closed_in_month": closed_in_month,
            "status": record["status"], "status_label": form.workflow.label(record["status"]),
            "due_date": due.isoformat() if due else None, "closed_on": closed,
            "days_taken": closing.get("days_taken") if closed_in_month else None,
            "late": closing.get("late") if closed_in_month else None}
    for fid in (CUSTOMER, CAUSE, AMOUNT):
        case[fid] = _value(form, data, fid)
    for fid in (CATEGORY, DEPARTMENT, DISPOSITION):
        field, value = form.field(fid), data.get(fid)
        case[fid] = value
        case[f"{fid}_label"] = field.display(value) if value is not None and field \
            else UNSET[fid]
    return case


def _value(form, data: dict, fid: str):
    field = form.field(fid)
    value = data.get(fid)
    return MASK if value is not None and field is not None and field.sensitive else value


def _count_by(form, fid: str, cases: list[dict]) -> list[dict]:
    """[{id, label, count}] for every choice of the field (a stable table from month to
    month), then values an earlier form revision had, then the unset ones (id None)."""
    labels = {choice.id: str(choice.label) for choice in form.field(fid).choices}
    for case in cases:
        labels.setdefault(case[fid], case[f"{fid}_label"])
    unset = labels.pop(None, None)
    rows = [{"id": value, "label": label, "count": sum(c[fid] == value for c in cases)}
            for value, label in labels.items()]
    return rows + ([{"id": None, "label": unset, "count": sum(c[fid] is None for c in cases)}]
                   if unset else [])


def _money(amounts) -> str:
    return str(sum((decimal.Decimal(a) for a in amounts if a not in (None, MASK)),
                   decimal.Decimal(0)).quantize(CENTS))


def report_complaints(ws: Workspace, month: str, out: str) -> dict:
    """Make the month's statistics as a controlled document (DOCX and PDF kept in the file
    store under reports/, logged with their SHA-256) and copy it to `out` (.pdf or .docx).
    Returns the figures with `number`, `files` {docx, pdf} and `out`. Raises QrecError
    naming the parameter (month, out), FormError when the complaint form lacks a field the
    statistics read (see domain/statistics_fields.py)."""
    from ..render.pdf import PdfUnavailable, office_paths

    path = out_path(out, SUFFIXES, ws.files.holds_path)
    wants_pdf = path.suffix.lower() == ".pdf"
    if wants_pdf:
        try:
            office_paths()  # refused before a report number is used
        except PdfUnavailable as exc:
            raise QrecError(f"{out}: {exc}; or ask for FILE.docx", param="out") from None
    stats = complaint_statistics(ws, month)
    finish_pending(ws)
    number, docx = _issue(ws, stats)
    pdf = _report_pdf(ws, docx)
    if wants_pdf and pdf is None:
        raise QrecError(f"{out}: no PDF could be made (see the warning); the report "
                        f"{number} is kept as {ws.files.location(docx)}", param="out")
    write_out(path, ws.files.read(pdf if wants_pdf else docx))
    return {"number": number, **stats,
            "files": {"docx": ws.files.location(docx),
                      "pdf": ws.files.location(pdf) if pdf else None},
            "out": str(path.resolve())}


def _issue(ws: Workspace, stats: dict) -> tuple[str, str]:
    """Number the report and keep its DOCX under reports/, logged, in one transaction: a
    failure uses no number and leaves no file. Returns (number, the DOCX's key)."""
    from ..render.statistics import complaint_statistics_docx

    today = clock.today().isoformat()
    with ws.write() as tx:  # files put in it go if it fails
        period = period_of(NUMBER_PATTERN, dt.date.fromisoformat(stats["from"]))
        number = format_number(period, tx.next_seq(COUNTER, period))
        content = complaint_statistics_docx(
            org=ws.settings.organisation, org_en=ws.settings.organisation_en, title=TITLE,
            number=number, stats=stats, prepared_by=ws.actor.name, issued_on=today,
            chain_head=tx.chain_head())
        docx = f"{REPORTS}/{number}.docx"
        digest = ws.put_file(docx, ws.document(content))
        ws.log("report.made", None, None,
               {"report": number, "kind": "complaints", "month": stats["month"],
                "files": {"docx": digest}, "written": {docx: digest}})
    return number, docx


def finish_pending(ws: Workspace) -> None:
    """A report whose PDF could not be made (no LibreOffice then) gets it now."""
    logged = ws.catalog.written_files(None)
    for key in sorted(logged):
        if key.startswith(f"{REPORTS}/") and key.endswith(".docx") and \
                pdf_key(key) not in logged:
            _report_pdf(ws, key)


def _report_pdf(ws: Workspace, docx: str) -> str | None:
    """The report's PDF beside its DOCX, logged: its key; None (with a notice) when
    LibreOffice cannot make it."""
    digest = log_letter_pdf(ws, docx, TITLE, "the next qrec report complaints", None, None,
                            {"report": PurePosixPath(docx).stem})
    return None if digest is None else pdf_key(docx)
