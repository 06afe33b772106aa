"""Workflows declared in a form's YAML: states, transitions, sign-offs, amendment rules and a
deadline. The engine here is pure (no storage): the Workspace asks it whether a step is allowed,
what the record's data and state become, and stores the result as a new version.

Nothing here knows a form: contract review, customer property and complaint are all data.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

from .errors import QrecError, suggest
from .fields import Label


class WorkflowError(QrecError):
    """A step that is not allowed now, or not for this user; the message says what would be."""


@dataclass(frozen=True)
class State:
    id: str
    label: Label
    holder: str | None = None  # department holding the case: an id, or "field:<field id>"
    released: bool = False     # approved or closed: no draft watermark
    void: bool = False
    closes: bool = False       # reaching it closes the record (retention runs from then)


@dataclass(frozen=True)
class Level:
    up_to: object | None  # a number, "limits.<name>" of qrecords.yaml, or None: no limit
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """A document a step produces (a nonconformity notice to the customer): the listed
    fields of the record, as the step left them."""
    id: str
    label: Label
    to: str                     # whom it is addressed to, as printed
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    id: str
    label: Label
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()      # fields that must have a value first
    inputs: tuple[str, ...] = ()        # other fields the step may be given (--set)
    when: dict = field(default_factory=dict)    # field -> value the record must have
    signoffs_complete: str | None = None
    authority_field: str | None = None  # with levels: who may decide depends on this amount
    levels: tuple[Level, ...] = ()
    sets: dict = field(default_factory=dict)    # field -> "today" | "user" | a value
    comment_required: bool = False
    produce: Document | None = None


@dataclass(frozen=True)
class Signoff:
    id: str
    state: str
    table: str       # rows keyed by department, one per department that signs
    key: str         # the key column: a department id
    decision: str    # column ids written by a sign-off
    comment: str
    signer: str
    date: str
    objections: tuple[str, ...]
    on_objection: str | None
    roles: tuple[str, ...] = ()          # roles that may sign (any, when empty)
    comment_for: tuple[str, ...] = ()    # decisions that need a comment


@dataclass(frozen=True)
class AmendRule:
    states: tuple[str, ...]
    target: str
    reset: str | None = None            # a sign-off whose rows are cleared
    objections_only: bool = False       # clear only the rows that objected
    unless_yes: str | None = None       # ... unless this yes/no field is yes
    unless_only: tuple[str, ...] = ()   # ... and only these fields changed
    unless_within: str | None = None    # ... and that step's authority still covers the record
    changed: tuple[str, ...] = ()       # the rule applies only when one of these changed
    clear: tuple[str, ...] = ()         # fields emptied (the outcome of a step taken again)


@dataclass(frozen=True)
class Deadline:
    start: str                  # a date field
    by_field: str | None        # days depend on this field's value ...
    days: dict                  # ... value -> days (or {"*": days})


@dataclass(frozen=True)
class FollowUp:
    field: str                  # the new record's field naming the record it follows
    copy: tuple[str, ...]       # fields taken over from the followed record
    when: dict                  # field values the followed record must have


@dataclass(frozen=True)
class Workflow:
    states: tuple[State, ...]
    transitions: tuple[Transition, ...] = ()
    signoffs: tuple[Signoff, ...] = ()
    amendments: tuple[AmendRule, ...] = ()
    deadline: Deadline | None = None
    follow_up: FollowUp | None = None
    amend_roles: tuple[str, ...] = ()   # who may amend (anyone, when empty)

    @property
    def initial(self) -> str:
        return self.states[0].id

    def state(self, state_id: str) -> State:
        found = next((s for s in self.states if s.id == state_id), None)
        return found or State(state_id, Label(state_id, state_id))

    def label(self, state_id: str) -> str:
        return str(self.state(state_id).label)

    def transition(self, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.id == action), None)

    def signoff(self, state_id: str) -> Signoff | None:
        """The sign-off taken in a state."""
        return next((s for s in self.signoffs if s.state == state_id), None)

    def signoff_named(self, signoff_id: str) -> Signoff | None:
        return next((s for s in self.signoffs if s.id == signoff_id), None)

    def allowed(self, state_id: str) -> list[Transition]:
        return [t for t in self.transitions if state_id in t.sources]

    def is_open(self, state_id: str) -> bool:
        state = self.state(state_id)
        return not (state.closes or state.void)

    def owned_fields(self) -> set[str]:
        """Fields only the workflow writes: what steps set (who, when), the sign-off tables
        and the follow-up link. They are never typed in with new, amend or --set."""
        owned = {fid for t in self.transitions for fid in t.sets}
        owned |= {s.table for s in self.signoffs}
        if self.follow_up:
            owned.add(self.follow_up.field)
        return owned

    def inputs(self, t: Transition) -> list[str]:
        """The fields a step may be given with --set: its inputs and required fields."""
        fields = [name.split(".", 1)[0] for name in (*t.requires, *t.inputs)]
        return [f for f in dict.fromkeys(fields) if f not in self.owned_fields()]

    def roles(self) -> set[str]:
        """Every role a step or sign-off names."""
        named = {r for t in self.transitions for r in t.roles} | set(self.amend_roles)
        named |= {r for t in self.transitions for level in t.levels for r in level.roles}
        return named | {r for s in self.signoffs for r in s.roles}

    def limit_names(self) -> set[str]:
        """The limits.<name> of qrecords.yaml the authority levels use."""
        return {level.up_to[len("limits."):] for t in self.transitions for level in t.levels
                if isinstance(level.up_to, str)}

    def amend_exit(self, state_id: str) -> AmendRule | None:
        """The amendment rule that moves a record out of this state, if one does."""
        return next((r for r in self.amendments if state_id in r.states and not r.changed
                     and r.target != state_id), None)

    def allowed_text(self, state_id: str) -> str:
        """The steps possible in a state, for a refusal; a state left only by an amendment
        says so."""
        steps = ", ".join(t.id for t in self.allowed(state_id))
        if steps:
            return steps
        rule = self.amend_exit(state_id)
        if rule:
            return (f"none; amend the record (qrec amend) to send it to "
                    f"{self.label(rule.target)}")
        return "none (it is final)"


DEFAULT = Workflow(states=(State("draft", Label("草稿", "Draft")),))


# -- checks --------------------------------------------------------------------------------


def check_transition(form, workflow: Workflow, t: Transition, state: str, data: dict, user,
                     limits: dict, number: str) -> None:
    """Raise WorkflowError naming what the step needs, if anything is missing."""
    where = f"{number}: {t.id}"
    if state not in t.sources:
        raise WorkflowError(f"{where} is not allowed in state {workflow.label(state)}; "
                            f"allowed now: {workflow.allowed_text(state)}")
    if t.roles and not set(t.roles) & set(user.roles):
        raise WorkflowError(f"{where} needs the role {' or '.join(t.roles)}; {user.id} has "
                            f"{', '.join(user.roles) or 'no role'}")
    missing = [fid for fid in t.requires if not _filled(data, fid)]
    if missing:
        raise WorkflowError(f"{where} needs {', '.join(missing)} filled first (give them "
                            "with --set)")
    for fid, value in t.when.items():
        allowed = value if isinstance(value, list) else [value]
        if data.get(fid) not in allowed:
            shown = " or ".join(form.field(fid).display(v) for v in allowed)
            raise WorkflowError(f"{where} is only for records whose {fid} is {shown}")
    if t.signoffs_complete:
        pending = unsigned(form, workflow, t.signoffs_complete, data)
        if pending:
            raise WorkflowError(f"{where} waits for the sign-off of {', '.join(pending)}")
    if t.levels:
        check_authority(t, data, user, limits, where)


def refuse_owned(workflow: Workflow, given: dict, number: str) -> None:
    """Refuse values typed in for fields only the workflow writes (who approved, sign-off
    rows, the follow-up link): they are filled by taking the step, never by hand."""
    owned = sorted(k for k, v in given.items() if k in workflow.owned_fields()
                   and v not in (None, "", []))
    if owned:
        raise WorkflowError(f"{number}: {', '.join(owned)} cannot be given: "
                            f"{_writer(workflow, owned[0])}")


def _writer(workflow: Workflow, fid: str) -> str:
    step = next((t for t in workflow.transitions if fid in t.sets), None)
    if step:
        return f"the step {step.id} fills {fid} (qrec do NUMBER {step.id})"
    if any(s.table == fid for s in workflow.signoffs):
        return f"each department signs its own row of {fid} (qrec sign NUMBER DECISION)"
    return f"{fid} is set by `qrec new --follows NUMBER`"


def check_inputs(workflow: Workflow, t: Transition, given: dict, number: str,
                 fields) -> None:
    """A step takes only its own inputs; any other change is an amendment, with a reason.
    Names that are no field at all are left to validation, which says so."""
    extra = sorted(k for k in given if k not in workflow.inputs(t) and k in fields)
    if extra:
        takes = ", ".join(workflow.inputs(t)) or "no fields"
        raise WorkflowError(f"{number}: {t.id} takes {takes}; change {', '.join(extra)} with "
                            "qrec amend (with a reason)")


def check_amender(workflow: Workflow, user, number: str) -> None:
    if workflow.amend_roles and not set(workflow.amend_roles) & set(user.roles):
        raise WorkflowError(f"{number}: amending needs the role "
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
        raise WorkflowError(f"{where} needs {t.authority_field} filled first (who may decide "
                            "depends on it; give 0 when no money is involved)")
    amount = decimal.Decimal(str(data[t.authority_field]))
    first = next((i for i, level in enumerate(t.levels)
                  if level.up_to is None or amount <= _limit(level.up_to, limits)),
                 len(t.levels) - 1)
    allowed = list(dict.fromkeys(r for level in t.levels[first:] for r in level.roles))
    if set(allowed) & set(user.roles):
        return
    above = f" is above {_limit(t.levels[first - 1].up_to, limits):,}" if first else ""
    raise WorkflowError(f"{where}: {t.authority_field} {amount:,}{above}, so it needs the role "
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


def apply_sets(t: Transition, data: dict, user, today: str) -> dict:
    """The transition's `set:` values. They always win over what the record or --set holds:
    who approved, decided or inspected is the user who took the step, not a typed name."""
    out = dict(data)
    for fid, value in t.sets.items():
        out[fid] = {"today": today, "user": user.name}.get(value, value) \
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
         comment: str | None, today: str) -> tuple[dict, bool]:
    """The data with one department's row signed; True when the decision is an objection.
    A row is signed once per round: an amendment that re-opens the review clears it."""
    if department not in departments(form, signoff):
        raise WorkflowError(f"department {department or '(none)'} does not sign "
                            f"{signoff.table}; departments: "
                            f"{', '.join(departments(form, signoff))}")
    if signoff.roles and not set(signoff.roles) & set(user.roles):
        raise WorkflowError(f"signing {signoff.table} needs the role "
                            f"{' or '.join(signoff.roles)}; {user.id} has "
                            f"{', '.join(user.roles) or 'no role'}")
    if decision in signoff.comment_for and not comment:
        raise WorkflowError(f"the decision {decision} needs a --comment saying why (the "
                            "conditions, or what cannot be done)")
    rows = [dict(r) for r in data.get(signoff.table) or []]
    row = next((r for r in rows if r.get(signoff.key) == department), None)
    if row is None:
        row = {signoff.key: department}
        rows.append(row)
    elif row.get(signoff.decision) not in (None, ""):
        raise WorkflowError(f"{department} has already signed ({row[signoff.decision]}, "
                            f"{row.get(signoff.signer)}, {row.get(signoff.date)}); an "
                            "amendment re-opens the review")
    row.update({signoff.decision: decision, signoff.signer: user.name, signoff.date: today})
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


def holder(workflow: Workflow, state: str, data: dict) -> str | None:
    held = workflow.state(state).holder
    if held and held.startswith("field:"):
        return data.get(held[len("field:"):])
    return held


# -- reading the YAML ----------------------------------------------------------------------

_KEYS = {
    "workflow": {"states", "transitions", "signoffs", "amendments", "deadline", "follow_up",
                 "amend_roles"},
    "state": {"id", "zh", "en", "holder", "released", "void", "closes"},
    "transition": {"id", "zh", "en", "from", "to", "roles", "requires", "inputs", "when",
                   "signoffs_complete", "authority", "set", "comment_required", "produce"},
    "authority": {"field", "levels"},
    "level": {"up_to", "roles"},
    "produce": {"id", "zh", "en", "to", "fields"},
    "signoff": {"id", "state", "table", "key", "decision", "comment", "signer", "date",
                "objections", "on_objection", "roles", "comment_for"},
    "amendment": {"state", "to", "reset_signoffs", "objections_only", "unless", "changed",
                  "clear"},
    "unless": {"flag", "only", "within"},
    "deadline": {"from", "days"},
    "days": {"field", "values"},
    "follow_up": {"field", "copy", "when"},
}


def parse_workflow(value, fields: dict, bad) -> Workflow:
    """The Workflow of a schema's `workflow:` mapping; `bad(place, what)` collects problems
    (forms._SchemaChecker), so every mistake is reported at once."""
    if value is None:
        return DEFAULT
    if not isinstance(value, dict):
        bad("workflow", "must be a mapping with states, transitions, ...")
        return DEFAULT
    _unknown(value, "workflow", "workflow", bad)
    states = tuple(_state(spec, i, fields, bad) for i, spec in
                   enumerate(_list(value.get("states"), "workflow.states", bad), 1))
    states = tuple(s for s in states if s)
    if not states:
        bad("workflow.states", "needs at least one state (the first is where records start)")
        return DEFAULT
    known = {s.id for s in states}
    signoffs = tuple(s for s in (_signoff(spec, i, fields, known, bad) for i, spec in
                     enumerate(_list(value.get("signoffs", []), "workflow.signoffs", bad), 1))
                     if s)
    transitions = tuple(t for t in (_transition(spec, i, fields, known, signoffs, bad)
                                    for i, spec in enumerate(_list(
                                        value.get("transitions", []), "workflow.transitions",
                                        bad), 1)) if t)
    amendments = tuple(a for a in (_amendment(spec, i, fields, known, signoffs, transitions,
                                              bad)
                                   for i, spec in enumerate(_list(
                                       value.get("amendments", []), "workflow.amendments",
                                       bad), 1)) if a)
    for kind, items in (("states", states), ("transitions", transitions),
                        ("signoffs", signoffs)):
        ids = [item.id for item in items]
        for twice in sorted({i for i in ids if ids.count(i) > 1}):
            bad(f"workflow.{kind}", f"id '{twice}' is used twice")
    flow = Workflow(states, transitions, signoffs, amendments,
                    _deadline(value.get("deadline"), fields, bad),
                    _follow_up(value.get("follow_up"), fields, bad),
                    tuple(map(str, _list(value.get("amend_roles") or [],
                                         "workflow.amend_roles", bad))))
    _check_inputs(flow, fields, bad)
    return flow


def _check_inputs(flow: Workflow, fields: dict, bad) -> None:
    """Fields the workflow writes are neither required at creation nor typed in; a step
    whose authority depends on an amount does not take that amount."""
    owned = flow.owned_fields()
    for fid in sorted(owned):
        if fid in fields and fields[fid].required:
            bad(f"field '{fid}'", "is written by the workflow, so it cannot be required")
    for t in flow.transitions:
        for fid in t.inputs:
            if fid in owned:
                bad(f"workflow.transitions '{t.id}'.inputs",
                    f"'{fid}' is written by the workflow, not given")
        if t.authority_field in flow.inputs(t):
            bad(f"workflow.transitions '{t.id}'",
                f"the deciding user must not give {t.authority_field}, which says who decides")
    if flow.follow_up:
        for fid in flow.follow_up.copy:
            if fid in owned:
                bad("workflow.follow_up.copy", f"'{fid}' is written by the workflow")


def _follow_up(spec, fields, bad) -> FollowUp | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or "field" not in spec:
        bad("workflow.follow_up", "needs field (and copy, when)")
        return None
    _unknown(spec, "follow_up", "workflow.follow_up", bad)
    _ids(spec["field"], "workflow.follow_up.field", fields, bad)
    copy = _ids(spec.get("copy") or [], "workflow.follow_up.copy", fields, bad)
    when = spec.get("when") or {}
    _ids(list(when), "workflow.follow_up.when", fields, bad)
    return FollowUp(str(spec["field"]), copy, dict(when))


def follow_up_data(form, workflow: Workflow, number: str, followed: dict, state: str,
                   data: dict) -> dict:
    """The data of a record that follows `number` (whose current data is `followed`):
    copied fields, then what the user gave, then the link. Refused unless the followed record
    is closed and has the values the workflow asks for."""
    follow = workflow.follow_up
    if follow is None:
        raise WorkflowError(f"{form.id} records cannot follow another record")
    if workflow.is_open(state):
        raise WorkflowError(f"{number} is still open ({workflow.label(state)}): a follow-up "
                            "opens only once it is closed")
    for fid, value in follow.when.items():
        if followed.get(fid) != value:
            raise WorkflowError(f"{number}: a follow-up opens only when {fid} is "
                                f"{form.field(fid).display(value)}")
    copied = {fid: followed[fid] for fid in follow.copy if followed.get(fid) is not None}
    return {**copied, **data, follow.field: number}


def _list(value, place, bad) -> list:
    if not isinstance(value, list):
        bad(place, "must be a list")
        return []
    return value


def _unknown(spec: dict, kind: str, place: str, bad) -> None:
    for key in spec:
        if key not in _KEYS[kind]:
            bad(place, f"unknown key '{key}'{suggest(str(key), _KEYS[kind])}")


def _mapping(spec, kind: str, place: str, bad) -> dict:
    """A nested mapping checked for unknown keys; {} (reported) when it is not one."""
    if not isinstance(spec, dict):
        bad(place, f"must be a mapping with {', '.join(sorted(_KEYS[kind]))}")
        return {}
    _unknown(spec, kind, place, bad)
    return spec


def _amount(value, place, bad):
    """An authority limit: a number >= 0 or 'limits.<name>' of qrecords.yaml."""
    if isinstance(value, str) and value.startswith("limits.") and len(value) > 7:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    bad(place, f"'{value}' is not an amount (a number, or limits.<name> of qrecords.yaml)")
    return None


def _ids(value, place, allowed, bad) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if str(item) not in allowed:
            bad(place, f"'{item}' is not one of: {', '.join(sorted(map(str, allowed)))}")
    return tuple(str(i) for i in items)


def _label(spec, place, bad) -> Label:
    if not (isinstance(spec.get("zh"), str) and isinstance(spec.get("en"), str)):
        bad(place, "needs zh and en labels")
        return Label(str(spec.get("id")), str(spec.get("id")))
    return Label(spec["zh"], spec["en"])


def _state(spec, index, fields, bad) -> State | None:
    place = f"workflow.states #{index}"
    if not isinstance(spec, dict) or not spec.get("id"):
        bad(place, "must be a mapping with id, zh, en")
        return None
    _unknown(spec, "state", place, bad)
    held = spec.get("holder")
    if isinstance(held, str) and held.startswith("field:") and held[6:] not in fields:
        bad(place, f"holder '{held}' names no field")
    return State(str(spec["id"]), _label(spec, place, bad), held, bool(spec.get("released")),
                 bool(spec.get("void")), bool(spec.get("closes")))


def _transition(spec, index, fields, states, signoffs, bad) -> Transition | None:
    place = f"workflow.transitions #{index}"
    if not isinstance(spec, dict) or not spec.get("id") or "to" not in spec:
        bad(place, "must be a mapping with id, zh, en, from, to")
        return None
    place = f"workflow.transitions '{spec['id']}'"
    _unknown(spec, "transition", place, bad)
    levels, authority_field = (), None
    if "authority" in spec:
        authority = _mapping(spec["authority"], "authority", f"{place}.authority", bad)
        authority_field = str(authority.get("field"))
        _ids(authority_field, f"{place}.authority.field", fields, bad)
        levels = tuple(_level(lv, f"{place}.authority.levels #{i}", bad) for i, lv in
                       enumerate(_list(authority.get("levels") or [],
                                       f"{place}.authority.levels", bad), 1))
        if not levels or levels[-1].up_to is not None:
            bad(f"{place}.authority", "needs levels, the last without up_to")
    when = spec.get("when") or {}
    sets = spec.get("set") or {}
    _ids(list(when), f"{place}.when", fields, bad)
    _ids(list(sets), f"{place}.set", fields, bad)
    complete = spec.get("signoffs_complete")
    if complete is not None:
        _ids(complete, f"{place}.signoffs_complete", {s.id for s in signoffs}, bad)
    return Transition(
        id=str(spec["id"]), label=_label(spec, place, bad),
        sources=_ids(spec.get("from", []), f"{place}.from", states, bad),
        target=_ids(spec["to"], f"{place}.to", states, bad)[0],
        roles=tuple(map(str, spec.get("roles") or [])),
        requires=_ids(spec.get("requires", []), f"{place}.requires",
                      set(fields) | {f"{f.id}.{c.id}" for f in fields.values()
                                     if f.type == "table" for c in f.columns}, bad),
        inputs=_ids(spec.get("inputs", []), f"{place}.inputs", fields, bad),
        when=dict(when), signoffs_complete=complete, authority_field=authority_field,
        levels=levels, sets=dict(sets), comment_required=bool(spec.get("comment_required")),
        produce=_produce(spec.get("produce"), f"{place}.produce", fields, bad))


def _level(spec, place, bad) -> Level:
    spec = _mapping(spec, "level", place, bad)
    up_to = _amount(spec["up_to"], f"{place}.up_to", bad) if "up_to" in spec else None
    roles = _list(spec.get("roles"), f"{place}.roles", bad)
    if not roles:
        bad(f"{place}.roles", "name at least one role")
    return Level(up_to, tuple(map(str, roles)))


def _produce(spec, place, fields, bad) -> Document | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec.get("id") or not spec.get("fields"):
        bad(place, "needs id, zh, en, to and fields")
        return None
    _unknown(spec, "produce", place, bad)
    return Document(str(spec["id"]), _label(spec, place, bad), str(spec.get("to", "")),
                    _ids(spec["fields"], f"{place}.fields", fields, bad))


def _signoff(spec, index, fields, states, bad) -> Signoff | None:
    place = f"workflow.signoffs #{index}"
    needed = ("id", "state", "table", "key", "decision", "comment", "signer", "date")
    if not isinstance(spec, dict) or any(k not in spec for k in needed):
        bad(place, f"needs {', '.join(needed)}")
        return None
    _unknown(spec, "signoff", place, bad)
    table = fields.get(spec["table"])
    if table is None or table.type != "table":
        bad(place, f"table '{spec['table']}' is not a table field")
    else:
        columns = {c.id for c in table.columns}
        for key in needed[3:]:
            _ids(spec[key], f"{place}.{key}", columns, bad)
    _ids(spec["state"], f"{place}.state", states, bad)
    on_objection = spec.get("on_objection")
    if on_objection is not None:
        _ids(on_objection, f"{place}.on_objection", states, bad)
    decisions = set()
    if table is not None and table.type == "table" and table.column(str(spec["decision"])):
        decisions = {c.id for c in table.column(str(spec["decision"])).choices}
    objections = _list(spec.get("objections") or [], f"{place}.objections", bad)
    comment_for = _list(spec.get("comment_for") or [], f"{place}.comment_for", bad)
    if decisions:
        _ids(objections, f"{place}.objections", decisions, bad)
        _ids(comment_for, f"{place}.comment_for", decisions, bad)
    return Signoff(str(spec["id"]), str(spec["state"]), str(spec["table"]), str(spec["key"]),
                   str(spec["decision"]), str(spec["comment"]), str(spec["signer"]),
                   str(spec["date"]), tuple(map(str, objections)), on_objection,
                   tuple(map(str, _list(spec.get("roles") or [], f"{place}.roles", bad))),
                   tuple(map(str, comment_for)))


def _amendment(spec, index, fields, states, signoffs, transitions, bad) -> AmendRule | None:
    place = f"workflow.amendments #{index}"
    if not isinstance(spec, dict) or "state" not in spec or "to" not in spec:
        bad(place, "needs state and to")
        return None
    _unknown(spec, "amendment", place, bad)
    reset = spec.get("reset_signoffs")
    if reset is not None:
        _ids(reset, f"{place}.reset_signoffs", {s.id for s in signoffs}, bad)
    unless = _mapping(spec.get("unless") or {}, "unless", f"{place}.unless", bad)
    if unless:
        _ids(unless.get("flag"), f"{place}.unless.flag", fields, bad)
        if unless.get("flag") in fields and fields[unless["flag"]].type != "yesno":
            bad(f"{place}.unless.flag", f"'{unless['flag']}' is not a yes/no field")
        _ids(unless.get("only") or [], f"{place}.unless.only", fields, bad)
    within = unless.get("within")
    if within is not None:
        _ids(within, f"{place}.unless.within", {t.id for t in transitions if t.levels}, bad)
    return AmendRule(_ids(spec["state"], f"{place}.state", states, bad),
                     _ids(spec["to"], f"{place}.to", states, bad)[0], reset,
                     bool(spec.get("objections_only")),
                     unless.get("flag"), tuple(unless.get("only") or []),
                     None if within is None else str(within),
                     _ids(spec.get("changed") or [], f"{place}.changed", fields, bad),
                     _ids(spec.get("clear") or [], f"{place}.clear", fields, bad))


def _deadline(spec, fields, bad) -> Deadline | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or "from" not in spec or "days" not in spec:
        bad("workflow.deadline", "needs from (a date field) and days")
        return None
    _unknown(spec, "deadline", "workflow.deadline", bad)
    _ids(spec["from"], "workflow.deadline.from", fields, bad)
    if spec["from"] in fields and fields[spec["from"]].type != "date":
        bad("workflow.deadline.from", f"'{spec['from']}' is not a date field")
    days = spec["days"]
    if _is_days(days):
        return Deadline(str(spec["from"]), None, {"*": days})
    if not isinstance(days, dict) or "field" not in days or not isinstance(
            days.get("values"), dict):
        bad("workflow.deadline.days", "a number, or {field: F, values: {value: days}}")
        return None
    _unknown(days, "days", "workflow.deadline.days", bad)
    _ids(days["field"], "workflow.deadline.days.field", fields, bad)
    for key, value in days["values"].items():
        if not _is_days(value):
            bad(f"workflow.deadline.days.values.{key}",
                f"'{value}' is not a whole number of days (1 to 3650)")
    return Deadline(str(spec["from"]), str(days["field"]), dict(days["values"]))


def _is_days(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3650
