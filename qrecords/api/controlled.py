"""Controlled blank forms 受控表单的发放与回收: issue copies of a form's current revision to a
department, list what is out, list the copies of older revisions to recall, record returns.

DOMAIN.md, "Controlled blank forms": each copy carries the form number, revision, a 受控
CONTROLLED stamp and a distribution number 分发号, and the issue is logged; when the form is
revised, copies of the old revision still out are listed and recalled (回收), and their
return is recorded. Issues are `form.issued` events (one per issue, naming every copy and
file), returns `form.copy_returned` events: what is out is read from them.
"""

from __future__ import annotations

from typing import TypedDict

from .. import clock
from ..domain import names
from ..errors import Conflict, NotFound, QrecError, suggest
from ..render.context import build_context, literal
from ..render.controlled import CONTROLLED_MARK, control_line, controlled_copy_docx
from ..render.docx import render_docx
from ..render.pdf import PdfFailed, PdfUnavailable, make_pdf
from ..workspace import Workspace
from .form_revisions import RETIRED, refuse_retired
from .keys import pdf_key
from .form_check import later_frozen
from .versions import free_text, freeze_revision

MAX_COPIES = 200
ISSUED, RETURNED = "form.issued", "form.copy_returned"


class IssuedCopy(TypedDict):
    distribution_number: str  # 分发号, e.g. QR-9.1.2-01-A0-003
    form: str
    form_number: str
    revision: str
    department: str  # its id in qrecords.yaml
    department_label: str
    issued_on: str
    issued_by: str
    docx: str  # where the user finds it
    pdf: str | None  # None when LibreOffice could not make it
    current: bool  # of the form's current revision (else: to be recalled)
    returned_on: str | None
    return_note: str | None  # the remark `forms return --note` kept with the return


class Issue(TypedDict):
    form: str
    revision: str
    department: str
    department_label: str
    copies: list[IssuedCopy]
    to_recall: list[IssuedCopy]  # copies of older revisions still out


def issue(ws: Workspace, form_id: str, department: str, copies: int = 1) -> Issue:
    """Issue `copies` controlled blank copies of the current revision of `form_id` to
    `department` (an id or label in qrecords.yaml), by the document controller: DOCX and PDF
    per copy, each with its own distribution number, logged as one `form.issued` event. The
    revision is frozen (as by its first record): a changed form needs a new revision label.
    Raises Forbidden, NotFound (form; param "to" for the department), QrecError (param
    "copies"), FormError."""
    ws.require_role("document_controller", "issuing controlled forms")
    if not 1 <= copies <= MAX_COPIES:
        raise QrecError(f"份数须为 1 至 {MAX_COPIES} must be 1 to {MAX_COPIES}, not {copies}",
                        param="copies")
    form = ws.forms.current(names.form_id(ws.forms.all_current(), form_id))
    refuse_retired(ws, form, "controlled issue")
    template = ws.forms.template(form)
    dept = names.department_id(ws.settings.departments, department, param="to")
    label = ws.settings.department(dept)
    today = clock.today().isoformat()
    compact = "".join(ch for ch in form.revision if ch.isalnum())
    made, written = [], {}
    with ws.write() as tx:  # files put in it go if it fails
        freeze_revision(ws, form, template)
        context = build_context(form, {}, org=ws.settings.organisation,
                                org_en=ws.settings.organisation_en, number="", version="",
                                status=form.workflow.initial, date="",
                                language=ws.settings.document_language)
        context["record"]["status_label"] = literal(CONTROLLED_MARK)
        blank = render_docx(template, context, f"templates/{form.template}",
                            language=ws.settings.document_language)
        for _ in range(copies):
            number = f"{form.form_number}-{compact}-{tx.next_seq(f'issue:{form.id}', compact):03d}"
            content = controlled_copy_docx(blank, control_line(
                form_number=form.form_number, revision=form.revision,
                distribution_number=number, department=label, issued_on=today))
            key = f"controlled/{form.id}/{compact}/{number}.docx"
            written[key] = ws.put_file(key, ws.document(content))
            made.append({"distribution_number": number, "key": key})
        ws.log(ISSUED, None, None, {
            "form": form.id, "form_number": form.form_number, "revision": form.revision,
            "department": dept, "copies": [m["distribution_number"] for m in made],
            "written": written})
    for item in made:
        _pdf(ws, item["key"], item["distribution_number"], form)
    out = {c["distribution_number"]: c for c in issued(ws, form.id)}
    return {"form": form.id, "revision": form.revision, "department": dept,
            "department_label": label,
            "copies": [out[m["distribution_number"]] for m in made],
            "to_recall": to_recall(ws, form.id)}


def _pdf(ws: Workspace, key: str, number: str, form) -> None:
    """The copy's PDF, stamped 受控 CONTROLLED, logged; a notice when it cannot be made."""
    try:
        with ws.files.local_path(key) as docx:
            content = make_pdf(docx, CONTROLLED_MARK, {
                "Title": f"{form.title} {form.form_number} "
                         f"rev {form.revision} {number}",
                "Organisation": ws.settings.organisation})
    except (PdfUnavailable, PdfFailed) as exc:
        ws.notices.append(f"{number}: no PDF made: {exc}")
        return
    with ws.write():
        digest = ws.put_file(pdf_key(key), content)
        ws.log("file.pdf_made", None, None, {"distribution_number": number,
                                             "written": {pdf_key(key): digest}})


def issued(ws: Workspace, form_id: str | None = None,
           include_returned: bool = False) -> list[IssuedCopy]:
    """The controlled copies out (returned ones too with `include_returned`), by department
    and distribution number; `current` says whether each is of its form's revision now (and
    that revision is not retired: copies of a retired form are recalled too). `form_id`: an id
    or title (domain/names.py); NotFound for another."""
    if form_id:
        form_id = names.form_id(ws.forms.all_current(), form_id)
    events = ws.catalog.events_by_action([ISSUED, RETURNED, "file.pdf_made", RETIRED])
    retired = {(e["detail"]["form"], e["detail"]["revision"]) for e in events
               if e["action"] == RETIRED}
    returned = {e["detail"]["distribution_number"]: e for e in events
                if e["action"] == RETURNED}
    pdfs = {e["detail"]["distribution_number"] for e in events
            if e["action"] == "file.pdf_made" and "distribution_number" in e["detail"]}
    copies: list[IssuedCopy] = []
    current_revisions: dict[str, str | None] = {}
    for event in events:
        detail = event["detail"]
        if event["action"] != ISSUED or (form_id and detail["form"] != form_id):
            continue
        fid = detail["form"]
        if fid not in current_revisions:
            current = ws.forms.current(fid).revision if fid in ws.forms.ids() else None
            # a schema set back to an older frozen revision makes no copy current again
            current_revisions[fid] = None if current and later_frozen(ws, fid, current) \
                else current
        for key in detail["written"]:
            number = key.rsplit("/", 1)[-1].removesuffix(".docx")
            if number in returned and not include_returned:
                continue
            copies.append({
                "distribution_number": number, "form": fid,
                "form_number": detail["form_number"], "revision": detail["revision"],
                "department": detail["department"],
                "department_label": ws.settings.department(detail["department"]),
                "issued_on": event["effective_date"], "issued_by": event["actor"],
                "docx": ws.files.location(key),
                "pdf": ws.files.location(pdf_key(key)) if number in pdfs else None,
                "current": detail["revision"] == current_revisions[fid]
                and (fid, detail["revision"]) not in retired,
                "returned_on": returned[number]["effective_date"] if number in returned
                else None,
                "return_note": returned[number]["detail"].get("note") if number in returned
                else None})
    return sorted(copies, key=lambda c: (c["department"], c["distribution_number"]))


def to_recall(ws: Workspace, form_id: str | None = None) -> list[IssuedCopy]:
    """Copies still out of a revision that is no longer the form's current one, or that is
    retired (回收)."""
    return [c for c in issued(ws, form_id) if not c["current"]]


def return_copies(ws: Workspace, numbers: list[str], note: str | None = None
                  ) -> list[IssuedCopy]:
    """Record the return (回收) of controlled copies by distribution number (in any case:
    qr-9.1.2-01-a0-001 is QR-9.1.2-01-A0-001), by the document controller, with `note` kept
    with each; one `form.copy_returned` event each. Raises Forbidden, NotFound for a number
    never issued, Conflict for one returned already."""
    ws.require_role("document_controller", "recording returned controlled forms")
    if not numbers:
        raise QrecError("须写明分发号 name the distribution numbers returned")
    note = free_text(note, "note")
    with ws.catalog.write():
        every = {c["distribution_number"]: c for c in issued(ws, include_returned=True)}
        by_case = {number.upper(): number for number in every}
        named = []
        for given in numbers:
            number = by_case.get(" ".join(given.split()).upper())
            if number is None:
                raise NotFound(f"无此分发号 no controlled copy with distribution number "
                               f"{given}{suggest(given, every)}")
            if every[number]["returned_on"]:
                raise Conflict(f"已回收 {number} was returned on "
                               f"{every[number]['returned_on']}")
            named.append(number)
        numbers = list(dict.fromkeys(named))
        for number in numbers:
            copy = every[number]
            ws.log(RETURNED, None, None, {
                "distribution_number": number, "form": copy["form"],
                "revision": copy["revision"], "department": copy["department"],
                "note": note})
    after = {c["distribution_number"]: c for c in issued(ws, include_returned=True)}
    return [after[n] for n in dict.fromkeys(numbers)]
