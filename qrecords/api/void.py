"""Voiding 作废: a record issued by mistake is voided by the document controller, with a
reason, never deleted (DOMAIN.md, Rules for every record).

A void is a new version, like every change: the record's data unchanged, in its workflow's
void state (the built-in 作废 state every workflow has, domain/workflow.py, so records of a
form revision that declared no void step are voided the same way), stored with its chained
`record.voided` event and the document controller's electronic signature (作废 voided).
The version's DOCX and PDF carry the 作废 VOID mark; the record keeps its number, leaves the
overdue lists and the complaint statistics, and its retention runs from the void date
(domain/retention.py). `qrec verify` derives all of it from the history.
"""

from __future__ import annotations

from .. import clock
from ..domain.access import CONTROLLER
from ..errors import QrecError, ValidationError
from ..workspace import Workspace
from .signatures import check_signer, current_version, meaning_of, signature
from .versions import RecordView, after_change, free_text, record_view, store_version

VOIDED = "record.voided"


def _planned(ws: Workspace, numbers: list[str]) -> list[tuple]:
    """[(record, form, template)] of the records to void; ValidationError naming every one
    that cannot be (nothing is voided then), NotFound, Disposed."""
    planned, problems = [], []
    for number in dict.fromkeys(numbers):
        record = ws.record_row(number)
        form, template = ws.forms.frozen(record["form_revision_id"])
        problem = _why_not(form.workflow, record["status"], number)
        if problem:
            problems.append(problem)
        planned.append((record, form, template))
    if problems:
        raise ValidationError(problems, "the void (nothing was voided)", zh="未作废")
    return planned


def void(ws: Workspace, numbers: list[str], reason: str, password: str | None = None,
         pdf: bool = True) -> list[RecordView]:
    """Void the records `numbers` (document controller), all of them or, on any problem,
    none: each gets version N+1 in its workflow's void state, signed (作废 voided) with the
    controller's `password` (not in a demo). A record may be voided from any open state, and
    a record of a form whose records are final when made (no workflow steps) also from
    that final state: it has no other. Returns the records as they now are ([RecordView]).
    Raises Forbidden (the role), QrecError (param "reason": none given, or a control
    character), ValidationError naming every record that cannot be voided (closed, already
    void), NotFound, Disposed, NotAuthenticated."""
    ws.require_role(CONTROLLER, "voiding a record")
    reason = free_text(reason, "reason")
    if reason is None:
        raise QrecError("须填写作废原因 give the reason the record is void: it is kept in its "
                        "history", param="reason")
    meaning = meaning_of("void")
    _planned(ws, numbers)  # what cannot be voided costs no password attempt
    check_signer(ws, password, meaning, f"void {' '.join(numbers)}")
    stored_all = []
    with ws.write() as tx:  # all or none; files put in it go if it fails
        planned = _planned(ws, numbers)  # again, under the write lock
        today = clock.today()
        for record, form, template in planned:
            number, flow = record["number"], form.workflow
            signed = signature(ws, meaning, {number: current_version(ws, number, None)})
            current = tx.version(record["id"], record["current_version"])
            stored_all.append(store_version(
                ws, form, template, record, record["current_version"] + 1,
                flow.void_state.id, current["data"], reason, today, VOIDED,
                {"from": record["status"], "to": flow.void_state.id, "signature": signed}))
    for stored in stored_all:
        # A void is the built-in step of every workflow: its crash point is a step's.
        after_change(ws, stored, pdf, "transition.after_commit")
    return [record_view(ws, stored["record"]["number"], stored=stored)
            for stored in stored_all]


def _why_not(flow, status: str, number: str) -> str | None:
    """Why a record in `status` cannot be voided, or None when it can."""
    state = flow.state(status)
    if state.void:
        return f"已作废 {number} is already void ({state.label})"
    if flow.is_open(status) or (flow.final_when_made and status == flow.initial):
        return None
    return (f"已结案记录不可作废 {number} is {state.label}: only an open record is voided (a "
            "closed one stays as it was closed)")
