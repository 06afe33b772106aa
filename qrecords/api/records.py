"""Record verbs: new, amend, show, history, diff.

Each takes the unit of work (`ws`, whose actor acts) and returns a typed result; each change
is one catalog transaction (number, version, DOCX, event) whose PDF and index update follow
the commit; a new record's DOCX is rendered before that transaction, its number stamped in. DOMAIN.md, "Rules for every record": a record is never edited in place.
"""

from __future__ import annotations

from typing import TypedDict

from .. import clock
from ..domain import access, workflow_rules
from ..domain.changes import VERSION_ACTIONS, changes, what_happened
from ..domain.fields import MASK
from ..domain.forms import Form, validate_data
from ..domain.numbering import format_number, period_of
from ..errors import (Conflict, Disposed, IntegrityError, NotFound, QrecError,
                      ValidationError, WorkflowError)
from ..workspace import Workspace
from .form_revisions import refuse_retired
from .versions import (RecordView, after_change, free_text, freeze_revision, record_view,
                       render_draft, store_version, visible_data)


class TombstoneView(TypedDict):
    number: str
    disposed: dict  # the tombstone: number, form, dates, hashes, who authorised it and why


class HistoryEntry(TypedDict):
    version: int
    created_at: str
    effective_date: str
    author: str       # the user id
    author_name: str  # the user's display name (the id of a user the catalog no longer has)
    status: str
    status_label: str
    what: str
    reason: str | None
    changed: list[str]
    signature: dict | None  # the electronic signature (signatures.Signature) or None


# {number, from, to, changes: [{field, label, from, to}]} ("from" is no Python name)
Diff = TypedDict("Diff", {"number": str, "from": int, "to": int, "changes": list[dict]})


def form_for_new(ws: Workspace, form_id: str) -> Form:
    """The form a new record of `form_id` is made with (its current revision), checked to
    be in use: for a face that asks for the fields before new_record. Raises NotFound,
    FormError, Conflict (a retired form)."""
    form = ws.forms.current(form_id)
    refuse_retired(ws, form, "new record")
    return form


def new_record(ws: Workspace, form_id: str, data: dict, follows: str | None = None,
               pdf: bool = True) -> RecordView:
    """Validate, render, number and store version 1 of a new record of `form_id`: rendered
    first, then numbered and stored in one short transaction (the number stamped into the
    rendered DOCX): a failure anywhere leaves no record, no number used and no file. `follows`
    opens a follow-up of that record (DOMAIN.md, complaint workflow). The PDF follows (made
    from the committed DOCX; `render` makes it later if it fails). Raises NotFound,
    ValidationError (every problem), WorkflowError, FormError, Conflict (a retired form)."""
    form = ws.forms.current(form_id)
    template = ws.forms.template(form)
    today = clock.today()
    clean = _checked(ws, form, data, follows, today.isoformat())
    period = period_of(form.number_pattern, today)
    state = form.workflow.initial
    # Rendered before the write lock, with a stand-in for the number the lock hands out:
    # the other writers wait only for the number, the stamp, the store and the rows.
    draft = render_draft(ws, form, template, 1, state, clean, today)
    taken = None  # a number the counter gave that a record has already
    try:
        with ws.write() as tx:  # files put in it go if it fails
            refuse_retired(ws, form, "new record")  # under the write lock: retire comes first
            revision_id = freeze_revision(ws, form, template)
            number = format_number(period, tx.next_seq(form.id, period))
            now = draft["at"] if draft is not None else clock.utc_now()
            try:
                record_id = tx.add_record(number, form.id, revision_id, now, ws.actor.id,
                                          state)
            except IntegrityError:
                taken = number
                raise
            record = {"id": record_id, "number": number, "form_id": form.id,
                      "form_revision_id": revision_id, "created_at": now,
                      "created_by": ws.actor.id, "closed_on": None, "on_hold": 0}
            stored = store_version(ws, form, template, record, 1, state, clean, None, today,
                                   "record.created", draft=draft)
    except IntegrityError:
        if taken is None:
            raise
        raise Conflict(_number_taken(ws, form.id, taken)) from None
    after_change(ws, stored, pdf, "new.after_commit")
    # Copied values of a follow-up were not typed by the actor: shown (masked, logged) and
    # hashed as any read.
    return record_view(ws, number, own_input=follows is None, stored=stored)


class Preview(TypedDict):
    """What `new` would store, shown before it is stored: no number is used for it."""
    dry_run: bool            # always True: nothing was stored
    number: None             # a number is given only when the record is stored
    form: str
    form_title: str
    form_number: str
    form_revision: str
    status: str
    status_label: str
    title: str
    effective_date: str      # YYYY-MM-DD
    author: str
    data: dict               # the clean data, every field (None where empty)
    due_date: str | None


def preview_record(ws: Workspace, form_id: str, data: dict,
                   follows: str | None = None) -> Preview:
    """Check `data` for a new record of `form_id` exactly as new_record does, and return what
    it would store; nothing is written, no number is used, nothing is logged. Raises
    NotFound, ValidationError (every problem), WorkflowError, FormError."""
    form = ws.forms.current(form_id)
    ws.forms.template(form)  # a form whose template is missing cannot be filled either
    today = clock.today().isoformat()
    clean = _checked(ws, form, data, follows, today)
    flow = form.workflow
    due = workflow_rules.due_date(flow, clean)
    return {"dry_run": True, "number": None, "form": form.id, "form_title": str(form.title),
            "form_number": form.form_number, "form_revision": form.revision,
            "status": flow.initial, "status_label": flow.label(flow.initial),
            "title": form.title_of(clean), "effective_date": today, "author": ws.actor.id,
            "data": clean, "due_date": due.isoformat() if due else None}


def closed_not_amended(form: Form, number: str, status: str) -> str:
    """The one line refusing to amend record `number`, closed (in `status`) with `form`:
    what to do instead, as this form's workflow has it (a follow-up record, or a new one)."""
    instead = (f"what happens next is a new record that follows it: qrec new {form.id} "
               f"--follows {number}" if form.workflow.follow_up is not None else
               "what happens next is a new record")
    return (f"已结案记录不可修改 {number} is {form.workflow.label(status)}: a closed record is "
            f"not amended ({instead})")


def _checked(ws: Workspace, form: Form, data: dict, follows: str | None,
             today: str) -> dict:
    """The clean data of a new record: owned fields refused, a follow-up's copied values
    added, every field validated."""
    if isinstance(data, dict):
        workflow_rules.refuse_owned(form.workflow, data, f"new {form.id}")
    if follows is not None:
        data = _follow_up(ws, form, follows, data)
    return validate_data(form, data, today)


def _number_taken(ws: Workspace, form_id: str, number: str) -> str:
    """Why the counter gave a number a record has already (read after the rollback): the
    form's own record (or tombstone) means its counter was set back; another form's means
    the two number patterns collide."""
    holder = ws.catalog.record(number) or ws.catalog.tombstone(number)
    if holder is not None and holder["form_id"] == form_id:
        return (f"编号计数器落后于已发编号 the number counter of {form_id} is behind the numbers "
                f"issued: it gave {number}, which a {form_id} record has already (set back "
                "outside qrecords; run `qrec verify`)")
    return (f"number {number} is already used by another record: the number_pattern of "
            f"{form_id} must not produce numbers of another form or an earlier pattern")


def _follow_up(ws: Workspace, form: Form, follows: str, data: dict) -> dict:
    """The data of a new record following `follows`; one follow-up per record."""
    old = ws.record_row(follows)
    if old["form_id"] != form.id:
        raise WorkflowError(f"{follows} is a {old['form_id']} record, not {form.id}")
    current = ws.catalog.version(old["id"], old["current_version"])["data"]
    data = workflow_rules.follow_up_data(form, form.workflow, follows, current, old["status"],
                                         data)
    already = ws.catalog.followers(form.id, form.workflow.follow_up.field, follows)
    if already:
        raise WorkflowError(f"{follows} is already followed up by "
                            f"{', '.join(already)}; amend or follow that one")
    return data


def amend(ws: Workspace, number: str, changes_: dict, reason: str,
          pdf: bool = True) -> RecordView:
    """Make version N+1 with the changed fields; the record's own form revision is used,
    whatever the workspace's schema and template say now. The workflow's amendment rules
    decide the new state (DOMAIN.md change rules). Raises QrecError (param "reason") without
    a reason, Conflict when nothing changes, WorkflowError, Forbidden, ValidationError."""
    if not reason or not reason.strip():
        raise QrecError("修改须填写原因 an amendment needs a reason", param="reason")
    reason = free_text(reason, "reason")
    with ws.write() as tx:  # files put in it go if it fails
        record = ws.record_row(number)
        form, template = ws.forms.frozen(record["form_revision_id"])
        if form.workflow.state(record["status"]).void:
            raise WorkflowError(f"作废记录不可修改 {number} is "
                                f"{form.workflow.label(record['status'])}: a void record is "
                                "not amended (make a new record)")
        if not form.workflow.is_open(record["status"]):
            raise WorkflowError(closed_not_amended(form, number, record["status"]))
        workflow_rules.refuse_owned(form.workflow, changes_, number)
        workflow_rules.check_amender(form.workflow, ws.actor, number)
        current = tx.version(record["id"], record["current_version"])
        hidden = sorted(k for k, v in changes_.items()
                        if v == MASK and form.field(k) is not None and form.field(k).sensitive)
        if hidden:
            raise ValidationError([f"{k}: '{MASK}' is how the value is hidden from users "
                                   "without the privacy role; leave the field out to keep "
                                   "it" for k in hidden])
        merged = {**current["data"], **changes_}
        for field in form.fields:  # computed values are computed again from the new data
            if field.computed is not None and field.id not in changes_ and not (
                    field.computed.typed_when_empty
                    and not set(field.computed.inputs()) & set(changes_)):
                merged[field.id] = None
        today = clock.today()
        clean = validate_data(form, merged, today.isoformat())
        # A user who may not see a sensitive value must not learn it by guessing: whatever
        # they give for one is stored as a new version, equal or not (issue 14, line 7).
        blind = [] if ws.sees_personal_data() else sorted(
            k for k in changes_ if form.field(k) is not None and form.field(k).sensitive)
        if clean == current["data"] and not blind:
            raise Conflict(f"{number}: nothing changed; version "
                           f"{record['current_version']} stays current")
        state, clean = workflow_rules.after_amend(
            form.workflow, record["status"], current["data"], clean,
            lambda step, data: _still_covers(ws, number, step, data))
        version = record["current_version"] + 1
        moved = {"from": record["status"], "to": state} if state != record["status"] else {}
        if blind:
            moved["sensitive_given"] = blind
        stored = store_version(ws, form, template, record, version, state, clean, reason,
                               today, "record.amended", moved)
    after_change(ws, stored, pdf, "amend.after_commit")
    # Not own input: the record holds values this actor may not have typed (or may see).
    return record_view(ws, number, stored=stored)


def _still_covers(ws: Workspace, number: str, step, data: dict) -> bool:
    """Whether the user who last took `step` on the record may take it for `data`."""
    taken = [e for e in ws.catalog.events(number) if e["action"] == "record.transition"
             and e["detail"].get("transition") == step.id]
    if not taken:
        return False
    try:
        workflow_rules.check_authority(step, data, ws.user(taken[-1]["actor"]),
                                       ws.settings.limits, number)
    except QrecError:
        return False
    return True


def show(ws: Workspace, number: str, version: int | None = None) -> RecordView | TombstoneView:
    """A record as the JSON contract of DESIGN.md describes it. Sensitive values are masked
    for users without the `privacy` role; reading them is logged. A disposed record is its
    tombstone: {"number", "disposed": tombstone} (an earlier version of it: Disposed)."""
    try:
        return record_view(ws, number, version)
    except Disposed as gone:
        if version is not None:
            raise
        return {"number": number, "disposed": gone.tombstone}


def history(ws: Workspace, number: str) -> list[HistoryEntry]:
    """Every version, oldest first, with who (user id and display name), when, why, which
    fields changed and the electronic signature that made it (signatures.Signature, or
    None)."""
    record = ws.record_row(number)
    form, _ = ws.forms.frozen(record["form_revision_id"])
    steps = {e["version"]: e for e in ws.catalog.events(number)
             if e["action"] in VERSION_ACTIONS}
    story, previous = [], None
    sees = ws.sees_personal_data()
    names: dict[str, str] = {}
    for row in ws.catalog.versions(record["id"]):
        changed = [c["field"] for c in changes(form, previous, row["data"])] \
            if previous is not None else []
        event = steps.get(row["version"], {"action": "", "detail": {}})
        if not sees:  # given blind counts as changed, so history tells no guess apart
            changed += event["detail"].get("sensitive_given", [])
        story.append({"version": row["version"], "created_at": row["created_at"],
                      "effective_date": row["effective_date"], "author": row["author"],
                      "author_name": names.setdefault(row["author"],
                                                      _name_of(ws, row["author"])),
                      "status": row["status"],
                      "status_label": form.workflow.label(row["status"]),
                      "what": what_happened(form, event), "reason": row["reason"],
                      "changed": sorted(set(changed)),
                      "signature": event["detail"].get("signature")})
        previous = row["data"]
    return story


def _name_of(ws: Workspace, user_id: str) -> str:
    try:
        return ws.user(user_id).name
    except NotFound:
        return user_id


def diff(ws: Workspace, number: str, a: int | None = None, b: int | None = None) -> Diff:
    """Field by field (table cells included) from version a to b; by default the current
    version against the one before it. Sensitive values are masked as in `show`."""
    record = ws.record_row(number)
    b = b or record["current_version"]
    a = a or max(b - 1, 1)
    form, _ = ws.forms.frozen(record["form_revision_id"])
    rows = {side: ws.version_row(record, side) for side in (a, b)}
    data = {side: visible_data(ws, form, row["data"], number, side)
            for side, row in rows.items()}
    found = changes(form, data[a], data[b])
    # A value masked on both sides still changed: named, its values hidden (history names it
    # too), never "no changes".
    hidden = [{"field": f.id, "label": str(f.label), "from": MASK, "to": MASK}
              for f in form.fields if data[a].get(f.id) == MASK == data[b].get(f.id)
              and rows[a]["data"].get(f.id) != rows[b]["data"].get(f.id)]
    if hidden:
        order = {f.id: n for n, f in enumerate(form.fields)}
        found = sorted(found + hidden, key=lambda change: order[change["field"]])
    return {"number": number, "from": a, "to": b, "changes": found}
