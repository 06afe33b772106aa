"""Workflow verbs: the steps possible now, taking a step, signing a sign-off row.

Every step and sign-off is a new version in one catalog transaction, with who, when, the
decision and the comment in its event; a step that is not allowed is refused with what it
needs (WorkflowError), or with the role it needs (Forbidden).
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from .. import clock
from ..domain import workflow_rules
from ..domain.fields import Invalid
from ..domain.forms import Form, validate_data
from ..errors import Forbidden, QrecError, WorkflowError, suggest
from ..labels import Label
from ..workspace import Workspace
from .pdfs import produced_pdf
from .signatures import check_signer, current_version, manifestation, meaning_of, signature
from .versions import RecordView, after_change, free_text, record_view, store_version


class StepOption(TypedDict):
    action: str
    label: str
    to: str
    to_label: str
    problem: str | None  # why the actor may not take it now; None when they may
    forbidden: bool  # the problem is the actor's roles (no values given with it would help)
    fields: list[str]  # the fields the step may be given (its requires and inputs)


def actions(ws: Workspace, number: str) -> list[StepOption]:
    """The transitions of the record's current state, and whether the actor may take them."""
    record = ws.record_row(number)
    form, _ = ws.forms.frozen(record["form_revision_id"])
    data = ws.catalog.version(record["id"], record["current_version"])["data"]
    found: list[StepOption] = []
    for t in form.workflow.allowed(record["status"]):
        problem, forbidden = None, False
        try:
            workflow_rules.check_transition(form, form.workflow, t, record["status"], data,
                                            ws.actor, ws.settings.limits, number)
        except QrecError as exc:
            problem, forbidden = str(exc), isinstance(exc, Forbidden)
        found.append({"action": t.id, "label": str(t.label), "to": t.target,
                      "to_label": form.workflow.label(t.target), "problem": problem,
                      "forbidden": forbidden, "fields": form.workflow.inputs(t)})
    exit_rule = form.workflow.amend_exit(record["status"])
    if not found and exit_rule:  # left by an amendment (resolving an objection)
        found.append({"action": "amend", "label": "修改 Amend (qrec amend NUMBER --reason)",
                      "to": exit_rule.target,
                      "to_label": form.workflow.label(exit_rule.target), "problem": None,
                      "forbidden": False, "fields": []})
    return found


def check_step(ws: Workspace, number: str, action: str, changes: dict | None = None,
               comment: str | None = None) -> None:
    """Whether the actor may take the step now, without taking it (a face asks before it
    asks for a signature's password). Raises what `transition` would: NotFound, Disposed,
    WorkflowError, Forbidden, ValidationError."""
    _checked_step(ws, ws.catalog, number, action, changes or {}, free_text(comment, "comment"))


def _checked_step(ws: Workspace, catalog, number: str, action: str, changes: dict,
                  comment: str | None):
    """(record, form, template, transition, data with the changes) once every rule of the
    step holds, read from `catalog` (the open write, or the catalog for a check)."""
    record = ws.record_row(number)
    form, template = ws.forms.frozen(record["form_revision_id"])
    flow = form.workflow
    t = flow.transition(action)
    if t is None:
        allowed = ", ".join(x.id for x in flow.allowed(record["status"])) or "none"
        raise WorkflowError(
            f"{number}: no step '{action}' in the {form.id} workflow"
            f"{suggest(action, [x.id for x in flow.transitions])}; allowed now: "
            f"{allowed}", param="action")
    workflow_rules.refuse_owned(flow, changes, number)
    workflow_rules.check_inputs(flow, t, changes, number, form.field_ids)
    current = catalog.version(record["id"], record["current_version"])
    today = clock.today().isoformat()
    data = validate_data(form, {**current["data"], **changes}, today)
    workflow_rules.check_transition(form, flow, t, record["status"], data, ws.actor,
                                    ws.settings.limits, number)
    if t.comment_required and not comment:  # after who may take it: asked of them only
        raise WorkflowError(f"{number}: 须填写理由 {t.id} needs a comment (the reason)",
                            param="comment")
    return record, form, template, t, data


def transition(ws: Workspace, number: str, action: str, changes: dict | None = None,
               comment: str | None = None, pdf: bool = True, password: str | None = None,
               expected_sha256: str | None = None) -> RecordView:
    """Take a workflow step: a new version in the target state, with the fields given and
    those the step sets (who, when). Closing records the days taken against the deadline.
    A step that is a signature (approve, decline, decide, close: signatures.meaning_of) needs
    the actor's `password` (not in a demo) and records the signature of the current version,
    which must still be `expected_sha256` when given; the step is checked before the
    password, so a step that cannot be taken never costs an attempt. Raises WorkflowError
    (what the step needs), Forbidden (the role), ValidationError, NotAuthenticated, Conflict
    (a race)."""
    comment = free_text(comment, "comment")
    meaning = meaning_of(action)
    changes = changes or {}
    if meaning:
        check_step(ws, number, action, changes, comment)
        check_signer(ws, password, meaning, f"{number} {action}")
    with ws.write() as tx:  # files put in it go if it fails
        record, form, template, t, data = _checked_step(ws, tx, number, action, changes,
                                                        comment)
        flow = form.workflow
        today = clock.today()
        detail = {"transition": t.id, "from": record["status"], "to": t.target,
                  "comment": comment}
        if meaning:
            detail["signature"] = signature(ws, meaning, {
                number: current_version(ws, number, expected_sha256)})
        signed_as = manifestation(detail["signature"]) if meaning else None
        data = validate_data(form, workflow_rules.apply_sets(t, data, ws.actor,
                                                             today.isoformat(), signed_as),
                             today.isoformat())
        if flow.state(t.target).closes:
            detail.update(workflow_rules.closing(flow, data, today))
        version = record["current_version"] + 1
        if t.produce:
            detail["produced"] = _produce(ws, form, t.produce, number, version, data, today)
            detail["written"] = {detail["produced"]["docx"]: detail["produced"]["sha256"]}
        stored = store_version(ws, form, template, record, version, t.target, data, comment,
                               today, "record.transition", detail)
    after_change(ws, stored, pdf, "transition.after_commit")
    if t.produce and pdf:
        produced_pdf(ws, detail["produced"], number, version)
    return record_view(ws, number, stored=stored)


def _produce(ws: Workspace, form: Form, document, number: str, version: int, data: dict,
             today: dt.date) -> dict:
    """Write the DOCX a step produces (inside the step's transaction) and return its key and
    hash for the step's event; its PDF follows the commit (produced_pdf)."""
    from ..render.letters import letter_docx

    # `to:` may name a department of qrecords.yaml (printed as it names it) or anyone else
    # (顾客 Customer); the reply goes to the issuer's department.
    departments = ws.settings.departments
    reply_to = departments.get(ws.actor.department) or Label(ws.actor.name, ws.actor.name)
    rows = [(f"{document.label.zh} No.", f"{number}-{document.id}-v{version}"),
            ("致 To", str(departments.get(document.to, document.to))),
            ("记录编号 Record", f"{number}  {form.title}")]
    for fid in document.fields:
        field = form.field(fid)
        value = data.get(fid)
        shown = "; ".join(field.row_text(r) for r in value) if field.type == "table" \
            and value else field.display(value)
        rows.append((str(field.label), "***" if field.sensitive else shown))
    rows.append(("签发 Issued", f"{ws.settings.department(ws.actor.department)}  "
                                f"{ws.actor.name}  {today.isoformat()}".lstrip()))
    content = letter_docx(org=ws.settings.organisation, org_en=ws.settings.organisation_en,
                          title=str(document.label), rows=rows,
                          body=f"特此通知，请确认并回复{reply_to.zh}处理意见。Please confirm and "
                               f"tell {reply_to.en or reply_to.zh} how you wish us to proceed.")
    key = f"{form.id}/{number}/{number}_{document.id}_v{version}.docx"
    return {"document": document.id, "title": str(document.label), "docx": key,
            "sha256": ws.put_file(key, ws.document(content), ws.keep_until(number))}


def check_sign(ws: Workspace, number: str, decision: str, comment: str | None = None,
               department: str | None = None) -> None:
    """Whether the actor may sign the row now, without signing (a face asks before it asks
    for the password). Raises what `sign` would: NotFound, WorkflowError."""
    _checked_sign(ws, ws.catalog, number, decision, free_text(comment, "comment"), department)


def _checked_sign(ws: Workspace, catalog, number: str, decision: str, comment: str | None,
                  department: str | None):
    """(record, form, template, signoff, department, decision, current version row) once the
    row may be signed, read from `catalog`."""
    actor = ws.actor
    record = ws.record_row(number)
    form, template = ws.forms.frozen(record["form_revision_id"])
    flow = form.workflow
    signoff = flow.signoff(record["status"])
    if signoff is None:
        raise WorkflowError(f"{number}: nothing to sign in state "
                            f"{flow.label(record['status'])}")
    department = department or actor.department
    if department != actor.department:
        raise WorkflowError(f"{number}: {actor.id} belongs to department "
                            f"{actor.department or 'none'} and cannot sign for {department}")
    current = catalog.version(record["id"], record["current_version"])
    try:
        decision = form.field(signoff.table).column(signoff.decision).parse(decision)
    except Invalid as exc:
        raise WorkflowError(f"{number}: decision: {exc}", param="decision") from None
    if decision is None:
        raise WorkflowError(f"{number}: give a decision", param="decision")
    workflow_rules.sign(form, signoff, current["data"], actor, department, decision, comment,
                        clock.today().isoformat())  # refuses a row signed already
    return record, form, template, signoff, department, decision, current


def sign(ws: Workspace, number: str, decision: str, comment: str | None = None,
         department: str | None = None, pdf: bool = True, password: str | None = None,
         expected_sha256: str | None = None) -> RecordView:
    """Sign the record's sign-off row of the actor's department (or `department`, which must
    be the actor's own): a new version, with the electronic signature (审核 reviewed) of the
    version signed, which must still be `expected_sha256` when given; the row's signer cell
    shows name, meaning and local time. Needs the actor's `password` (not in a demo). An
    objection moves the record as the workflow says. Raises WorkflowError, Forbidden,
    NotAuthenticated, Conflict (a race with an amendment)."""
    comment = free_text(comment, "comment")
    meaning = meaning_of("review")
    check_sign(ws, number, decision, comment, department)
    check_signer(ws, password, meaning, f"{number} sign")
    actor = ws.actor
    with ws.write() as tx:  # files put in it go if it fails
        record, form, template, signoff, department, decision, current = _checked_sign(
            ws, tx, number, decision, comment, department)
        today = clock.today()
        signed = signature(ws, meaning, {number: current_version(ws, number,
                                                                 expected_sha256)})
        data, objected = workflow_rules.sign(
            form, signoff, current["data"], actor, department, decision, comment,
            today.isoformat(), manifestation(signed))
        data = validate_data(form, data, today.isoformat())
        state = signoff.on_objection if objected and signoff.on_objection \
            else record["status"]
        version = record["current_version"] + 1
        stored = store_version(ws, form, template, record, version, state, data, comment,
                               today, "record.signed",
                               {"signoff": signoff.id, "department": department,
                                "decision": decision, "comment": comment,
                                "from": record["status"], "to": state, "signature": signed})
    after_change(ws, stored, pdf, "sign.after_commit")
    return record_view(ws, number, stored=stored)
