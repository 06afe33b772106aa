"""What a workflow allows and what a step does to a record: pure checks and data changes.

The verbs (api/steps.py, api/records.py) ask these whether a step, sign-off or amendment is
allowed for a user, and what the record's data and state become; they store the result.
"""

from __future__ import annotations

import datetime as dt
import decimal

from ..errors import Forbidden, WorkflowError
from .workflow import AmendRule, Signoff, Transition, Workflow


def check_transition(form, workflow: Workflow, t: Transition, state: str, data: dict, user,
                     limits: dict, number: str) -> None:
    """Raise WorkflowError naming what the step needs, if anything is missing."""
    where = f"{number}: {t.id}"
    if state not in t.sources:
        raise WorkflowError(f"{where} 当前状态不可执行 is not allowed in state "
                            f"{workflow.label(state)}; "
                            f"allowed now: {workflow.allowed_text(state)}")
    if t.roles and not set(t.roles) & set(user.roles):
        raise Forbidden(f"{where} 权限不足 needs the role {' or '.join(t.roles)}; {user.id} has "
                        f"{', '.join(user.roles) or 'no role'}")
    missing = [fid for fid in t.requires if not _filled(data, fid)]
    if missing:
        raise WorkflowError(f"{where} 缺少字段 needs {', '.join(missing)} filled first (give them "
                            "with the step)")
    for fid, value in t.when.items():
        allowed = value if isinstance(value, list) else [value]
        if data.get(fid) not in allowed:
            shown = " or ".join(form.field(fid).display(v) for v in allowed)
            raise WorkflowError(f"{where} 条件不符 is only for records whose {fid} is {shown}")
    if t.signoffs_complete:
        pending = unsigned(form, workflow, t.signoffs_complete, data)
        if pending:
            raise WorkflowError(f"{where} 会签未完成 waits for the sign-off of "
                                f"{', '.join(pending)}")
    if t.levels:
        check_authority(t, data, user, limits, where)


def refuse_owned(workflow: Workflow, given: dict, number: str) -> None:
    """Refuse values typed in for fields only the workflow writes (who approved, sign-off
    rows, the follow-up link): they are filled by taking the step, never by hand."""
    owned = sorted(k for k, v in given.items() if k in workflow.owned_fields()
                   and v not in (None, "", []))
    if owned:
        raise WorkflowError(f"由流程填写，不可手填 {number}: {', '.join(owned)} cannot be "
                            f"given: {_writer(workflow, owned[0])}")


def _writer(workflow: Workflow, fid: str) -> str:
    step = next((t for t in workflow.transitions if fid in t.sets), None)
    if step:
        return f"the step {step.id} fills {fid}"
    if any(s.table == fid for s in workflow.signoffs):
        return f"each department signs its own row of {fid}"
    return f"{fid} is set when a record is opened as the follow-up of another"


def check_inputs(workflow: Workflow, t: Transition, given: dict, number: str,
                 fields) -> None:
    """A step takes only its own inputs; any other change is an amendment, with a reason.
    Names that are no field at all are left to validation, which says so."""
    extra = sorted(k for k in given if k not in workflow.inputs(t) and k in fields)
    if extra:
        takes = ", ".join(workflow.inputs(t)) or "no fields"
        raise WorkflowError(f"{number}: {t.id} takes {takes}; change {', '.join(extra)} with "
                            "an amendment (with a reason)")


def may_amend(workflow: Workflow, user) -> bool:
    """Whether `user`'s roles let them amend records of this workflow (check_amender)."""
    return not workflow.amend_roles or bool(set(workflow.amend_roles) & set(user.roles))


def may_sign(form, workflow: Workflow, signoff: Signoff, user, data: dict) -> bool:
    """Whether `user` may sign their department's row of `signoff` now: the row is still
    empty and their roles allow signing (sign)."""
    roles_allow = not signoff.roles or bool(set(signoff.roles) & set(user.roles))
    return roles_allow and user.department in unsigned(form, workflow, signoff.id, data)


def check_amender(workflow: Workflow, user, number: str) -> None:
    if not may_amend(workflow, user):
        raise Forbidden(f"{number}: 无权修改 amending needs the role "
                        f"{' or '.join(workflow.amend_roles)}; {user.id} has "
                        f"{', '.join(user.roles) or 'no role'}")


def _filled(data: dict, name: str) -> bool:
    """A field has a value; "table.column": the table has rows and each has the column."""
    if "." not in name:
        return data.get(name) not in (None, "", [])
    table, column = name.split(".", 1)
    rows = data.get(table) or []
    return bool(rows) and all(row.get(column) not in (None, "") for row in rows)


def check_authority(t: Transition, data: dict, user, limits: dict, where: str) -> None:
    """The first level whose limit covers the amount decides; any level above it may too."""
    if data.get(t.authority_field) in (None, ""):
        raise WorkflowError(f"{where} 缺少字段 needs {t.authority_field} filled first (who may "
                            "decide depends on it; give 0 when no money is involved)")
    amount = decimal.Decimal(str(data[t.authority_field]))
    first = next((i for i, level in enumerate(t.levels)
                  if level.up_to is None or amount <= _limit(level.up_to, limits)),
                 len(t.levels) - 1)
    allowed = list(dict.fromkeys(r for level in t.levels[first:] for r in level.roles))
    if set(allowed) & set(user.roles):
        return
    above = f" is above {_limit(t.levels[first - 1].up_to, limits):,}" if first else ""
    raise Forbidden(f"{where}: 超出审批权限 {t.authority_field} {amount:,}{above}, so it needs "
                    "the role "
                    f"{' or '.join(allowed)}; {user.id} has "
                    f"{', '.join(user.roles) or 'no role'}")


def _limit(value, limits: dict):
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("limits."):
        name = value[len("limits."):]
        if name not in limits:
            raise WorkflowError(f"qrecords.yaml: limits.{name} is not set (the workflow needs it)")
        value = limits[name]
    return decimal.Decimal(str(value))


# -- effects -------------------------------------------------------------------------------


def apply_sets(t: Transition, data: dict, user, today: str,
               signed_as: str | None = None) -> dict:
    """The transition's `set:` values. They always win over what the record or --set holds:
    who approved, decided or inspected is the user who took the step, not a typed name; for
    a step that is a signature, `signed_as` (name, meaning, time: "黄军 核决 14:05")."""
    out = dict(data)
    for fid, value in t.sets.items():
        out[fid] = {"today": today, "user": signed_as or user.name}.get(value, value) \
            if isinstance(value, str) else value
    return out


def departments(form, signoff: Signoff) -> list[str]:
    """Who signs: every choice of the sign-off table's key column."""
    return [c.id for c in form.field(signoff.table).column(signoff.key).choices]


def unsigned(form, workflow: Workflow, signoff_id: str, data: dict) -> list[str]:
    signoff = workflow.signoff_named(signoff_id)
    signed = {row.get(signoff.key) for row in data.get(signoff.table) or []
              if row.get(signoff.decision) not in (None, "")}
    return [d for d in departments(form, signoff) if d not in signed]


def sign(form, signoff: Signoff, data: dict, user, department: str, decision: str,
         comment: str | None, today: str, signed_as: str | None = None) -> tuple[dict, bool]:
    """The data with one department's row signed (the signer cell holds `signed_as`, e.g.
    "陈刚 审核 14:05", else the user's name); True when the decision is an objection.
    A row is signed once per round: an amendment that re-opens the review clears it."""
    if department not in departments(form, signoff):
        raise WorkflowError(f"department {department or '(none)'} does not sign "
                            f"{signoff.table}; departments: "
                            f"{', '.join(departments(form, signoff))}")
    if signoff.roles and not set(signoff.roles) & set(user.roles):
        raise Forbidden(f"权限不足 signing {signoff.table} needs the role "
                        f"{' or '.join(signoff.roles)}; {user.id} has "
                        f"{', '.join(user.roles) or 'no role'}")
    if decision in signoff.comment_for and not comment:
        raise WorkflowError(f"须说明理由 the decision {decision} needs a comment saying why "
                            "(the conditions, or what cannot be done)", param="comment")
    rows = [dict(r) for r in data.get(signoff.table) or []]
    row = next((r for r in rows if r.get(signoff.key) == department), None)
    if row is None:
        row = {signoff.key: department}
        rows.append(row)
    elif row.get(signoff.decision) not in (None, ""):
        raise WorkflowError(f"已签署 {department} has already signed ({row[signoff.decision]}, "
                            f"{row.get(signoff.signer)}, {row.get(signoff.date)}); an "
                            "amendment re-opens the review")
    row.update({signoff.decision: decision, signoff.signer: signed_as or user.name,
                signoff.date: today})
    if comment:
        row[signoff.comment] = comment
    else:
        row.pop(signoff.comment, None)
    return {**data, signoff.table: rows}, decision in signoff.objections


def after_amend(workflow: Workflow, state: str, before: dict, after: dict,
                still_covers) -> tuple[str, dict]:
    """(state, data) after an amendment: the first rule for the state whose `changed` fields
    changed decides. `still_covers(transition, data)` says whether whoever took that step
    may still take it for the amended data (a repeat order's approval stands only then)."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    for rule in workflow.amendments:
        if state not in rule.states or (rule.changed and not changed & set(rule.changed)):
            continue
        if rule.unless_yes and after.get(rule.unless_yes) is True and \
                changed <= set(rule.unless_only) and (
                    rule.unless_within is None or
                    still_covers(workflow.transition(rule.unless_within), after)):
            return state, after
        if rule.reset:
            after = _reset(workflow, rule, after)
        return rule.target, {**after, **{fid: None for fid in rule.clear}}
    return state, after


def _reset(workflow: Workflow, rule: AmendRule, data: dict) -> dict:
    signoff = workflow.signoff_named(rule.reset)
    rows = []
    for row in data.get(signoff.table) or []:
        if not rule.objections_only or row.get(signoff.decision) in signoff.objections:
            row = {**row, signoff.decision: None, signoff.comment: None, signoff.signer: None,
                   signoff.date: None}
        rows.append({k: v for k, v in row.items() if v is not None})
    return {**data, signoff.table: rows}


def due_date(workflow: Workflow, data: dict) -> dt.date | None:
    deadline = workflow.deadline
    if deadline is None or not data.get(deadline.start):
        return None
    key = data.get(deadline.by_field) if deadline.by_field else "*"
    days = deadline.days.get(key, deadline.days.get("*"))
    if days is None:
        return None
    return dt.date.fromisoformat(data[deadline.start]) + dt.timedelta(days=int(days))


def closing(workflow: Workflow, data: dict, day: dt.date) -> dict:
    """What closing a record on `day` records (its event's detail, which the monthly
    statistics read): {closed}, and against a deadline {days_taken, due, late}."""
    found = {"closed": day.isoformat()}
    due = due_date(workflow, data)
    if due is not None:
        start = dt.date.fromisoformat(data[workflow.deadline.start])
        found.update(days_taken=(day - start).days, due=due.isoformat(), late=day > due)
    return found


def closed_too_early(form, data: dict, closed_on: str) -> str | None:
    """Why a record of `form` with `data` cannot close (or be final) on `closed_on`
    (YYYY-MM-DD): a date it runs from (the form's date_field, the deadline's start) is
    later. Returns the bilingual reason, or None when the closing date is not before them.
    The one rule for new, steps, amend and import: nothing closes before it began."""
    deadline = form.workflow.deadline
    starts = [form.date_field, deadline.start if deadline is not None else None]
    for fid in dict.fromkeys(f for f in starts if f):
        begun = data.get(fid)
        if isinstance(begun, str) and begun > closed_on:
            field = form.field(fid)
            return (f"结案日期 {closed_on} 早于{field.label.zh} {begun} — closed on {closed_on}, "
                    f"before {fid} {begun}: a record cannot close before it began")
    return None


def holder(workflow: Workflow, state: str, data: dict) -> str | None:
    held = workflow.state(state).holder
    if held and held.startswith("field:"):
        return data.get(held[len("field:"):])
    return held


# -- reading the YAML ----------------------------------------------------------------------


def follow_up_data(form, workflow: Workflow, number: str, followed: dict, state: str,
                   data: dict) -> dict:
    """The data of a record that follows `number` (whose current data is `followed`):
    copied fields, then what the user gave, then the link. Refused unless the followed record
    is closed (not void) and has the values the workflow asks for."""
    follow = workflow.follow_up
    if follow is None:
        raise WorkflowError(f"{form.id} records cannot follow another record")
    if workflow.state(state).void:
        raise WorkflowError(f"{number} is {workflow.label(state)}: a void record is not "
                            "followed up")
    if workflow.is_open(state):
        raise WorkflowError(f"{number} is still open ({workflow.label(state)}): a follow-up "
                            "opens only once it is closed")
    for fid, value in follow.when.items():
        if followed.get(fid) != value:
            raise WorkflowError(f"{number}: a follow-up opens only when {fid} is "
                                f"{form.field(fid).display(value)}")
    copied = {fid: followed[fid] for fid in follow.copy if followed.get(fid) is not None}
    return {**copied, **data, follow.field: number}
