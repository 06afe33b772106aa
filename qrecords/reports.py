"""The monthly complaint statistics 客户投诉案件统计表 (due by the 10th of the next month).

Two populations, as the quality manager reads them:
- complaints *received* in the month (by their received date): how many, of which category,
  and their cause, counted by the responsible department the investigation named (the form
  has no coded cause; its cause analysis is free text, shown per case);
- complaints *closed* in the month (the day they reached 已结案): how many, on time or late
  (the closing step recorded the deadline, the days taken and whether it was late), the
  average days to close, and their dispositions with the amounts (the amount of a closed
  complaint is final; an open one's may still change).
Plus the backlog at the end of the month (or today, for the month under way).

The report is a controlled document: numbered RPT-CC-<yymm of the month>-<serial> from the
catalog's counters (a second report of a month, after late entries, gets the next serial and
the first is kept), written as DOCX and PDF under records/reports/, logged with their SHA-256.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path

from . import clock, workflow
from .errors import QrecError
from .fields import MASK
from .index.documents import record_date
from .outputs import out_path, write_out
from .records.files import write_immutable
from .records.numbering import format_number, period_of

FORM = "complaint"
NUMBER_PATTERN = "RPT-CC-{yy}{mm}-{seq:02}"
COUNTER = "report:complaints"  # a counters key no form id can take
REPORTS = "reports"  # the folder under records/ where reports are kept
TITLE = "客户投诉案件统计表  Customer Complaint Statistics"
SUFFIXES = (".pdf", ".docx")
# The complaint form's fields the statistics read (their ids are part of the form's contract).
CATEGORY, DEPARTMENT, CAUSE = "category", "responsible_department", "cause_analysis"
DISPOSITION, AMOUNT, CUSTOMER = "disposition", "disposition_amount", "customer"
UNSET = {CATEGORY: "未分类 Not classified", DEPARTMENT: "未定 Not assigned",
         DISPOSITION: "未定 Not decided"}
CENTS = decimal.Decimal("0.01")


def month_range(month: str | None) -> tuple[dt.date, dt.date]:
    """First and last day of a YYYY-MM month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", month or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise QrecError(f"--month: '{month}' is not a month (YYYY-MM, e.g. 2026-11)")
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = (first + dt.timedelta(days=31)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def complaint_statistics(ws, month: str) -> dict:
    """The figures of a month (see the module's docstring), as of today."""
    first, last = month_range(month)
    today = clock.today()
    if first > today:
        raise QrecError(f"--month {month} has not begun (today is {today})")
    form = ws.form(FORM)
    start, end, cut = first.isoformat(), last.isoformat(), min(last, today).isoformat()
    closings = ws.store.closings(FORM)
    cases, open_at_end, overdue_at_end = [], 0, 0
    for record in ws.store.form_records(FORM):
        case = _case(ws.frozen_form(record["form_revision_id"])[0], record,
                     closings.get(record["number"], {}), start, end)
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


def _case(form, record: dict, closing: dict, start: str, end: str) -> dict:
    """One complaint as the statistics see it, read with its own form revision."""
    data = record["data"]
    received = record_date(form, data, record["created_on"])
    closed = record["closed_on"]
    closed_in_month = closed is not None and start <= closed <= end
    due = workflow.due_date(form.workflow, data)
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


def report_complaints(ws, month: str, out: str, user: str | None = None) -> dict:
    """Make the month's statistics as a controlled document (DOCX and PDF kept under
    records/reports/, logged with their SHA-256) and copy it to `out` (.pdf or .docx).
    Returns the figures with `number`, `files` {docx, pdf} and `out`."""
    from .render.pdf import PdfUnavailable, office_paths

    actor = ws.user(user)
    path = out_path(out, SUFFIXES, ws.root)
    wants_pdf = path.suffix.lower() == ".pdf"
    if wants_pdf:
        try:
            office_paths()  # refused before a report number is used
        except PdfUnavailable as exc:
            raise QrecError(f"--out {out}: {exc}; or ask for FILE.docx") from None
    stats = complaint_statistics(ws, month)
    finish_pending(ws, actor)
    number, docx = _issue(ws, stats, actor)
    pdf = _report_pdf(ws, docx, actor)
    if wants_pdf and pdf is None:
        raise QrecError(f"--out {out}: no PDF could be made (see the warning); the report "
                        f"{number} is kept as {docx}")
    write_out(path, (pdf if wants_pdf else docx).read_bytes())
    return {"number": number, **stats, "files": {"docx": str(docx),
                                                 "pdf": str(pdf) if pdf else None},
            "out": str(path.resolve())}


def _issue(ws, stats: dict, actor) -> tuple[str, Path]:
    """Number the report and keep its DOCX under records/reports/, logged, in one
    transaction: a failure uses no number and leaves no file."""
    from .render.statistics import complaint_statistics_docx

    today = clock.today().isoformat()
    docx = None
    try:
        with ws.store.write() as tx:
            period = period_of(NUMBER_PATTERN, dt.date.fromisoformat(stats["from"]))
            number = format_number(period, tx.next_seq(COUNTER, period))
            content = complaint_statistics_docx(
                org=ws.config.organisation, org_en=ws.config.organisation_en, title=TITLE,
                number=number, stats=stats, prepared_by=actor.name, issued_on=today)
            docx = ws.root / "records" / REPORTS / f"{number}.docx"
            digest = write_immutable(docx, content)
            tx.add_event(clock.utc_now(), today, actor.id, "report.made", None, None,
                         {"report": number, "kind": "complaints", "month": stats["month"],
                          "files": {"docx": digest}, "written": ws.written(docx, digest)})
    except BaseException:
        if docx is not None:
            docx.unlink(missing_ok=True)
        raise
    return number, docx


def finish_pending(ws, actor) -> None:
    """A report whose PDF could not be made (no LibreOffice then) gets it now."""
    for docx in sorted((ws.root / "records" / REPORTS).glob("*.docx")):
        if not docx.with_suffix(".pdf").exists():
            _report_pdf(ws, docx, actor)


def _report_pdf(ws, docx: Path, actor) -> Path | None:
    """The report's PDF beside its DOCX, logged; None (with a notice) when LibreOffice
    cannot make it."""
    digest = ws.log_letter_pdf(docx, TITLE, "the next qrec report complaints", actor, None,
                               None, {"report": docx.stem})
    return None if digest is None else docx.with_suffix(".pdf")