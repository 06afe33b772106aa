"""What waits for the acting user: records whose sign-off row of their department is still
empty, and open records held by their department (the workflow state's holder), with the
steps they may take now. The portal's "my tasks" page; the same rules as `qrec do`."""

from __future__ import annotations

from typing import TypedDict

from ..domain import workflow_rules
from ..workspace import Workspace
from .steps import StepOption, actions


class Task(TypedDict):
    number: str
    form: str
    form_title: str
    title: str
    status: str
    status_label: str
    why: str  # "sign" (your department's row is empty) or "held" (your department holds it)
    due_date: str | None
    steps: list[StepOption]  # the steps the actor may take now (problem None)


def my_tasks(ws: Workspace) -> list[Task]:
    """The acting user's tasks, the earliest due first (undated last), then by number."""
    department = ws.actor.department
    tasks: list[Task] = []
    for form_id, current in ws.forms.all_current().items():
        flow = current.workflow
        open_states = [s.id for s in flow.states if flow.is_open(s.id)]
        for row in ws.catalog.current_versions(form_id, open_states):
            form, _ = ws.forms.frozen(row["form_revision_id"])
            flow = form.workflow
            signoff = flow.signoff(row["status"])
            if signoff and workflow_rules.may_sign(form, flow, signoff, ws.actor,
                                                   row["data"]):
                why = "sign"
            elif workflow_rules.holder(flow, row["status"], row["data"]) == department:
                why = "held"
            else:
                continue
            due = workflow_rules.due_date(flow, row["data"])
            tasks.append({
                "number": row["number"], "form": form.id, "form_title": str(form.title),
                "title": form.title_of(row["data"]), "status": row["status"],
                "status_label": flow.label(row["status"]), "why": why,
                "due_date": due.isoformat() if due else None,
                "steps": [s for s in actions(ws, row["number"]) if s["problem"] is None]})
    return sorted(tasks, key=lambda t: (t["due_date"] is None, t["due_date"] or "",
                                        t["number"]))
