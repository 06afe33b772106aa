"""Deadline verbs: the open cases past their workflow's deadline, and their reminders 催办单.

DOMAIN.md, complaint deadline: closed within 13 calendar days of registration for domestic
customers, 17 for foreign; open complaints past it are listed and reminded to the department
holding the case.
"""

from __future__ import annotations

from typing import TypedDict

from .. import clock
from ..domain import names, workflow_rules
from ..labels import Label
from ..workspace import Workspace
from .keys import pdf_key
from .pdfs import log_letter_pdf


class OverdueCase(TypedDict):
    number: str
    form: str
    form_title: str
    title: str
    status: str
    status_label: str
    holder: str | None  # the department holding the case
    holder_label: str
    due_date: str
    days_overdue: int


class Reminder(OverdueCase):
    reminder: str  # its number, RM-<yyyymmdd>-<record number>
    docx: str  # where the files are
    pdf: str | None  # None when no PDF could be made
    made: bool  # False when it was made earlier today


def overdue(ws: Workspace, form: str | None = None,
            department: str | None = None) -> list[OverdueCase]:
    """Open records past their workflow's deadline, most overdue first; only those of `form`
    and held by `department` when given (ids or labels, domain/names.py: NotFound listing
    the allowed ones for another)."""
    today = clock.today()
    found: list[OverdueCase] = []
    forms = ws.forms.all_current()
    if form is not None:
        wanted = names.form_id(forms, form)
        forms = {wanted: forms[wanted]}
    if department is not None:
        department = names.department_id(ws.settings.departments, department)
    for form_id, current in forms.items():
        flow = current.workflow
        if flow.deadline is None:
            continue
        open_states = [s.id for s in flow.states if flow.is_open(s.id)]
        for row in ws.catalog.current_versions(form_id, open_states):
            form, _ = ws.forms.frozen(row["form_revision_id"])
            due = workflow_rules.due_date(form.workflow, row["data"])
            if due is None or today <= due:
                continue
            holder = workflow_rules.holder(form.workflow, row["status"], row["data"])
            if department is not None and holder != department:
                continue
            found.append({
                "number": row["number"], "form": form.id, "form_title": str(form.title),
                "title": form.title_of(row["data"]), "status": row["status"],
                "status_label": form.workflow.label(row["status"]), "holder": holder,
                "holder_label": ws.settings.department(holder),
                "due_date": due.isoformat(), "days_overdue": (today - due).days})
    return sorted(found, key=lambda case: (-case["days_overdue"], case["number"]))


def remind(ws: Workspace) -> list[Reminder]:
    """A reminder 催办单 (DOCX and PDF) for every overdue case, addressed to the department
    holding it; one per case and day (an existing one is kept, not made again). Each is kept
    under reminders/<date>/ in the file store and logged with its SHA-256."""
    from ..render.letters import reminder_docx

    today = clock.today().isoformat()
    made: list[Reminder] = []
    for case in overdue(ws):
        reminder_no = f"RM-{today.replace('-', '')}-{case['number']}"
        key = f"reminders/{today}/{reminder_no}.docx"
        item = {**case, "reminder": reminder_no, "docx": ws.files.location(key),
                "pdf": ws.files.location(pdf_key(key)), "made": False}
        # A reminder is made once an event logs it; a file no event names is what a
        # killed `qrec remind` left, and is written again. The DOCX is stored and logged
        # under the write lock, so a second `qrec remind` at the same moment reuses it.
        if key in ws.catalog.written_files(case["number"]):
            made.append({**item, "pdf": _earlier_pdf(ws, key, case)})
            continue
        # From the issuer's department, to the one holding the case (or, for a state
        # nobody holds, to the issuer's own): both as qrecords.yaml names them.
        issuer = ws.settings.departments.get(ws.actor.department)
        content = reminder_docx(
            org=ws.settings.organisation, org_en=ws.settings.organisation_en,
            reminder_no=reminder_no, case=case,
            to=case["holder_label"] or ws.settings.department(ws.actor.department),
            reply_to=issuer or Label(ws.actor.name, ws.actor.name),
            issued_by=ws.actor.name, issued_on=today)
        with ws.write():
            mine = key not in ws.catalog.written_files(case["number"])  # else the other's
            if mine:
                digest = ws.put_file(key, ws.document(content),
                                     ws.keep_until(case["number"]))
                ws.log("reminder.made", case["number"], None,
                       {"reminder": reminder_no, "to": case["holder"],
                        "days_overdue": case["days_overdue"], "files": {"docx": digest},
                        "written": {key: digest}})
        made.append({**item, "pdf": _earlier_pdf(ws, key, case), "made": mine})
    return made


def _earlier_pdf(ws: Workspace, key: str, case: dict) -> str | None:
    """Where the PDF of a reminder is; made and logged now when it is not (yet)."""
    if pdf_key(key) in ws.catalog.written_files(case["number"]):
        return ws.files.location(pdf_key(key))
    stem = key.rsplit("/", 1)[-1].removesuffix(".docx")
    digest = log_letter_pdf(ws, key, f"催办单 Reminder {stem}", "qrec remind", case["number"],
                            None, {"reminder": stem})
    return None if digest is None else ws.files.location(pdf_key(key))
