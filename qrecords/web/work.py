"""Pages for doing the work: fill in a new record, amend one, take a workflow step, sign a
department's row (with the password again, the meaning shown), my tasks and the overdue list.

A form that fails validation comes back with every value as typed and each problem beside its
field: nothing typed is lost.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from .. import clock
from ..api import deadlines, records, signatures, steps, tasks
from ..api.form_revisions import forms_in_use
from ..domain.entry import entry_fields, typed_fields
from ..domain.workflow_rules import check_amender
from ..errors import (Conflict, Disposed, Forbidden, NotAuthenticated, NotFound, QrecError,
                      ValidationError, WorkflowError)
from .auth import current_ws
from .fields import (defaults, posted_data, problems_by_field, raw_text, refusal_text,
                     typed_values)
from .records import record_page


def register(app) -> None:
    app.add_url_rule("/new", "choose_form", choose_form)
    app.add_url_rule("/new/<form_id>", "new", new, methods=["GET", "POST"])
    app.add_url_rule("/records/<number>/amend", "amend", amend, methods=["GET", "POST"])
    app.add_url_rule("/records/<number>/step", "step", step, methods=["POST"])
    app.add_url_rule("/records/<number>/sign", "sign", sign, methods=["POST"])
    app.add_url_rule("/tasks", "my_tasks", my_tasks)
    app.add_url_rule("/overdue", "overdue", overdue)
    app.add_url_rule("/overdue/remind", "remind", remind, methods=["POST"])


def choose_form():
    ws = current_ws()
    return render_template("choose_form.html", ws=ws, forms=forms_in_use(ws))


def new(form_id: str):
    ws = current_ws()
    form = records.form_for_new(ws, form_id)
    values, problems = defaults(form, clock.today().isoformat()), {}
    if request.method == "POST":
        values = posted_data(form, request.form)
        try:
            made = records.new_record(ws, form.id, values)
            return redirect(url_for("record", number=made["number"], made=1))
        except ValidationError as exc:
            problems = problems_by_field(exc.problems)
    # The fields `qrec new` asks: those a later step takes are filled in at that step.
    return render_template("fill.html", ws=ws, form=form, fields=entry_fields(form),
                           values=values, problems=problems, raw=_text, amending=None,
                           masked=set()), 422 if problems else 200


def amend(number: str):
    ws = current_ws()
    shown = records.show(ws, number)
    form = ws.form_of(number)
    check_amender(form.workflow, ws.actor, number)  # the form too is refused (403, logged)
    masked = {f.id for f in form.fields if f.sensitive} if not ws.sees_personal_data() \
        else set()
    current = {f.id: _as_text(f, shown["data"].get(f.id)) for f in typed_fields(form)
               if f.id not in masked}
    values, problems, reason, status = current, {}, "", 200
    if request.method == "POST":
        posted = posted_data(form, request.form)
        reason = request.form.get("reason", "")
        # Only what was changed: a masked field counts only when something was typed in it.
        changes = {fid: value for fid, value in posted.items()
                   if (fid in masked and value not in ("", [])) or
                   (fid not in masked and value != current.get(fid))}
        values = {**current, **posted}
        try:
            records.amend(ws, number, changes, reason)
            return redirect(url_for("record", number=number))
        except ValidationError as exc:
            problems, status = problems_by_field(exc.problems), exc.http_status
        except QrecError as exc:  # a reason, a change the workflow refuses, no change
            if isinstance(exc, (Forbidden, NotFound, Disposed)):
                raise
            problems, status = {exc.param or "": [refusal_text(exc)]}, exc.http_status
    return render_template("fill.html", ws=ws, form=form, fields=typed_fields(form),
                           values=values, problems=problems, raw=_text, amending=shown,
                           reason=reason, masked=masked), status


def step(number: str):
    ws = current_ws()
    fields = {k[len("set-"):]: v for k, v in request.form.items() if k.startswith("set-")
              and v.strip()}
    return _done_or_refused(number, lambda: steps.transition(
        ws, number, request.form.get("action", ""), fields,
        comment=request.form.get("comment") or None,
        password=request.form.get("password") or None,
        expected_sha256=request.form.get("signed_sha256") or None))


def sign(number: str):
    ws = current_ws()
    return _done_or_refused(number, lambda: steps.sign(
        ws, number, request.form.get("decision", ""),
        comment=request.form.get("comment") or None,
        password=request.form.get("password") or None,
        expected_sha256=request.form.get("signed_sha256") or None), form="sign")


def _done_or_refused(number: str, act, form: str = "step"):
    """Do `act`, then back to the record. Refused for what was typed (a missing comment, a
    wrong password, a field's value, a race), the record page again with the problem at the
    top and the values typed kept (never the password). A refusal by role stays a 403."""
    try:
        act()
    except (WorkflowError, ValidationError, Conflict, NotAuthenticated) as exc:
        if isinstance(exc, NotAuthenticated) and exc.param != "password":
            raise  # the session ended: to the login
        return record_page(number, error=refusal_text(exc),
                           typed={**typed_values(request.form), "form": form},
                           status=exc.http_status)
    return redirect(url_for("record", number=number))


def my_tasks():
    ws = current_ws()
    return render_template("tasks.html", ws=ws, tasks=tasks.my_tasks(ws),
                           meaning_of=signatures.meaning_of)


def overdue():
    ws = current_ws()
    return render_template("overdue.html", ws=ws, cases=deadlines.overdue(ws), made=None)


def remind():
    """A reminder 催办单 for every overdue case (one per case and day), as `qrec remind`."""
    ws = current_ws()
    made = deadlines.remind(ws)
    return render_template("overdue.html", ws=ws, cases=deadlines.overdue(ws), made=made)


def _text(field, value) -> str:
    """What an input shows: the text as typed, or a stored value as text."""
    return value if isinstance(value, str) else raw_text(field, value)


def _as_text(field, value):
    """A current value as the amend form holds it (table rows as rows of texts)."""
    if field.type == "table":
        return [{c.id: raw_text(c, row.get(c.id)) for c in field.columns} for row in value or []]
    return raw_text(field, value)

