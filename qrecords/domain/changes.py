"""What changed between two versions of a record, and what a version's step was, in words."""

from __future__ import annotations

from .fields import MASK
from .forms import Form

# The events that make a version (every other event only refers to one).
VERSION_ACTIONS = ("record.created", "record.amended", "record.transition", "record.signed",
                   "record.imported", "record.voided")


def changes(form: Form, before: dict, after: dict) -> list[dict]:
    """[{field, label, from, to}]: field-level changes; for tables, one entry per changed cell
    or added/removed row. Masked values (MASK) are compared and shown as they are."""
    found = []
    for field in form.fields:
        old, new = before.get(field.id), after.get(field.id)
        if old == new:
            continue
        if field.type != "table":
            found.append({"field": field.id, "label": str(field.label),
                          "from": field.display(old) if old != MASK else MASK,
                          "to": field.display(new) if new != MASK else MASK})
            continue
        old, new = old or [], new or []
        for index in range(max(len(old), len(new))):
            place = f"{field.id}[{index + 1}]"
            if index >= len(old):
                found.append({"field": field.id, "label": f"{field.label} {place}",
                              "from": None, "to": field.row_text(new[index])})
            elif index >= len(new):
                found.append({"field": field.id, "label": f"{field.label} {place}",
                              "from": field.row_text(old[index]), "to": None})
            else:
                for column in field.columns:
                    a, b = old[index].get(column.id), new[index].get(column.id)
                    if a != b:
                        found.append({"field": field.id,
                                      "label": f"{place}.{column.id} {column.label}",
                                      "from": column.display(a), "to": column.display(b)})
    return found


def what_happened(form: Form, event: dict) -> str:
    """A version's step in words: 新建 created, 修改 amended, the workflow step, a sign-off."""
    detail = event["detail"]
    if event["action"] == "record.transition":
        step = form.workflow.transition(detail["transition"])
        return str(step.label) if step else detail["transition"]
    if event["action"] == "record.signed":
        signoff = form.workflow.signoff_named(detail["signoff"])
        column = form.field(signoff.table).column(signoff.decision) if signoff else None
        decision = column.display(detail["decision"]) if column else detail["decision"]
        return f"会签 Sign-off {detail['department']}: {decision}"
    if event["action"] == "record.imported":
        return f"导入 Imported from {detail.get('source')} row {detail.get('row')}"
    return {"record.created": "新建 Created", "record.amended": "修改 Amended",
            "record.voided": "作废 Voided"}.get(event["action"], "")
