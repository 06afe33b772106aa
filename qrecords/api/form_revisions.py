"""A form's life: its revisions as the catalog froze them (`qrec forms history`) and its
retirement 停用 (`qrec forms retire`).

A revision is frozen by its first record (or controlled issue) with a chained `form.frozen`
event (api/versions.py); retiring is a chained `form.retired` event naming the revision then
current, by the document controller, with the reason. A retired revision takes no new
records, imports or controlled issues; the records made with it keep their workflow, their
retention, their search and their documents.

There is no un-retire: a retired form comes back only as a new revision. When its schema
declares a revision label other than the one retired, that revision is in use, and its
freezing (by its first record) is the chained event that shows it was issued again.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

from ..errors import Conflict, QrecError
from ..workspace import Workspace
from .verify_forms import FROZEN
from .versions import free_text

RETIRED = "form.retired"


class Retirement(TypedDict):
    form: str
    revision: str  # the revision retired
    on: str  # effective date, YYYY-MM-DD
    at: str  # UTC, ISO 8601
    by: str  # user id
    by_name: str
    reason: str


class Retired(Retirement):
    to_recall: list[dict]  # controlled copies of the form still out (controlled.IssuedCopy)


class RevisionEvent(TypedDict):
    what: str  # "frozen" or "retired"
    revision: str
    on: str  # effective date, YYYY-MM-DD
    at: str  # UTC, ISO 8601
    by: str  # user id: who made the first record (frozen) or retired it
    by_name: str
    reason: str | None  # why: the reason of a retirement; None for a freezing
    sha256: str | None  # the revision's SHA-256 (schema text, NUL, template) as frozen
    schema_sha256: str | None  # of the frozen schema text (UTF-8)
    template_sha256: str | None  # of the frozen template's bytes


class FormHistory(TypedDict):
    form: str
    title: str
    current_revision: str  # as schemas/FORM.yaml declares it now
    current_frozen: bool  # False until a record or issue of it freezes it
    retired: Retirement | None  # the current revision's retirement, if retired
    events: list[RevisionEvent]  # oldest first


def retirements(ws: Workspace) -> dict[tuple[str, str], Retirement]:
    """Every retirement, by (form id, revision). One catalog read."""
    names = {}
    found = {}
    for event in ws.catalog.events_by_action([RETIRED]):
        detail = event["detail"]
        found[(detail["form"], detail["revision"])] = {
            "form": detail["form"], "revision": detail["revision"],
            "on": event["effective_date"], "at": event["at"], "by": event["actor"],
            "by_name": names.setdefault(event["actor"], _name(ws, event["actor"])),
            "reason": detail.get("reason") or ""}
    return found


def retirement(ws: Workspace, form_id: str, revision: str) -> Retirement | None:
    """The retirement of this revision of a form, or None when it is in use."""
    return retirements(ws).get((form_id, revision))


def forms_in_use(ws: Workspace) -> list:
    """The workspace's current forms (Form) whose revision is not retired, by id: what a
    new record may be made of."""
    retired = retirements(ws)
    return [form for form in ws.forms.all_current().values()
            if (form.id, form.revision) not in retired]


def refuse_retired(ws: Workspace, form, what: str) -> None:
    """Raise Conflict (one line: when, by whom, why) when `form`'s revision (a Form) is
    retired; `what` is the refused action ("new record", "import", "controlled issue")."""
    retired = retirement(ws, form.id, form.revision)
    if retired:
        raise Conflict(f"表单已停用 form {form.id} ({form.form_number} rev {form.revision}) "
                       f"was retired on {retired['on']} by {retired['by_name']} "
                       f"({retired['by']}): {retired['reason']}; no {what} of it (its "
                       "records stay readable; a new revision puts the form in use again)",
                       param="form")


def retire(ws: Workspace, form_id: str, reason: str) -> Retired:
    """Retire the current revision of `form_id` (the document controller): one chained
    `form.retired` event with the reason. Returns the retirement and the form's controlled
    copies still out, now to recall 回收. Raises Forbidden, NotFound (param "form"),
    QrecError (param "reason") without a reason, Conflict when it is retired already."""
    from .controlled import to_recall

    ws.require_role("document_controller", "retiring a form")
    reason = free_text(reason, "reason")
    if not reason:
        raise QrecError("停用须填写原因 retiring a form needs a reason", param="reason")
    form = ws.forms.current(form_id)
    with ws.write():
        already = retirement(ws, form.id, form.revision)
        if already:
            raise Conflict(f"表单已停用 form {form.id} rev {form.revision} was retired "
                           f"already on {already['on']} by {already['by_name']} "
                           f"({already['by']})",
                           param="form")
        ws.log(RETIRED, None, None, {"form": form.id, "revision": form.revision,
                                     "form_number": form.form_number, "reason": reason})
    return {**retirement(ws, form.id, form.revision), "to_recall": to_recall(ws, form.id)}


def history(ws: Workspace, form_id: str) -> FormHistory:
    """Every revision of `form_id` the catalog froze (when, by whom, the SHA-256 of the
    revision, its schema text and its template) and every retirement (when, by whom, why),
    oldest first, with the revision schemas/FORM.yaml declares now. Raises NotFound (param
    "form") for a form the workspace does not have."""
    form = ws.forms.current(form_id)
    events: list[RevisionEvent] = []
    frozen = set()
    names: dict[str, str] = {}
    for event in ws.catalog.events_by_action([FROZEN, RETIRED]):
        detail = event["detail"]
        if detail.get("form") != form_id:
            continue
        entry: RevisionEvent = {
            "what": "frozen" if event["action"] == FROZEN else "retired",
            "revision": detail["revision"], "on": event["effective_date"], "at": event["at"],
            "by": event["actor"], "by_name": names.setdefault(event["actor"],
                                                              _name(ws, event["actor"])),
            "reason": detail.get("reason"), "sha256": None, "schema_sha256": None,
            "template_sha256": None}
        if event["action"] == FROZEN:
            frozen.add(detail["revision"])
            row = ws.catalog.form_revision_by_id(detail["revision_id"])
            entry.update(sha256=row["sha256"],
                         schema_sha256=hashlib.sha256(row["schema_text"].encode()).hexdigest(),
                         template_sha256=hashlib.sha256(row["template"]).hexdigest())
        events.append(entry)
    return {"form": form.id, "title": str(form.title), "current_revision": form.revision,
            "current_frozen": form.revision in frozen,
            "retired": retirement(ws, form.id, form.revision), "events": events}


def _name(ws: Workspace, user_id: str) -> str:
    row = ws.catalog.user(user_id)
    return row["name"] if row else user_id
