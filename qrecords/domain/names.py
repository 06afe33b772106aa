"""What a person types for a form, a state or a department in a filter: its id, its Chinese
or English label, or both as shown (`已结案`, `closed`, `Closed`, `已结案 Closed`; a form by
its title `客户投诉处理单`). One resolver for every verb that filters (search, register,
overdue, retention, audit packs, controlled copies).
"""

from __future__ import annotations

from typing import Iterable

from ..errors import NotFound, suggest
from ..labels import Label
from .forms import Form


def resolve(given: str, known: dict[str, Label], what: str, param: str) -> str:
    """The id in `known` (id -> Label, in the order to list them) that `given` names: the id,
    its Chinese label, its English label or both (English in any case, spaces around
    ignored). Raises NotFound (param `param`) in one line, Chinese first, listing the
    allowed ones as `id (中文)`."""
    text = " ".join(str(given).split())
    lowered = text.lower()
    for key, label in known.items():
        if text in (key, label.zh) or lowered in (key.lower(), label.en.lower(),
                                                  str(label).lower()):
            return key
    names = list(known) + [label.zh for label in known.values()]
    allowed = ", ".join(f"{key} ({label.zh})" for key, label in known.items())
    raise NotFound(f"无此{WHAT_ZH.get(what, what)} no {what} '{text}'{suggest(text, names)}; "
                   f"one of: {allowed}", param=param)


# What `resolve` looks up, in Chinese, for its refusal: 无此状态 no status '已关'; one of: ...
WHAT_ZH = {"form": "表单", "status": "状态", "department": "部门", "column": "列"}


def form_id(forms: dict[str, Form], given: str, param: str = "form") -> str:
    """The id of the form `given` names (id or title): see resolve."""
    return resolve(given, {fid: form.title for fid, form in forms.items()}, "form", param)


def status_id(forms: Iterable[Form], given: str, param: str = "status") -> str:
    """The id of the workflow state `given` names, among the states of `forms` (one form's,
    when a command filters by form too; the first form's label wins when two forms label one
    id differently): see resolve."""
    states: dict[str, Label] = {}
    for form in forms:
        for state in form.workflow.states:
            states.setdefault(state.id, state.label)
    return resolve(given, states, "status", param)


def department_id(departments: dict[str, Label], given: str, param: str = "department") -> str:
    """The id of the department (qrecords.yaml's `departments`) `given` names: see
    resolve."""
    return resolve(given, departments, "department", param)
