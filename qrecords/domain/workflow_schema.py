"""A form schema's `workflow:` mapping parsed into a Workflow, every mistake reported at once."""

from __future__ import annotations

from ..errors import suggest
from .fields import Label
from .workflow import (DEFAULT, VOID, AmendRule, Deadline, Document, FollowUp, Level, Signoff,
                       State, Transition, Workflow, final_when_made, with_void)


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
    (form_schema._SchemaChecker), so every mistake is reported at once."""
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
    for state in states:
        if state.id == VOID.id and not state.void:
            bad(f"workflow.states '{state.id}'", "the id 'void' is the built-in 作废 state of "
                "every workflow: give it `void: true` or another id")
    if not transitions:  # nothing can move a record: it is final when made
        states = final_when_made(states)
    flow = Workflow(with_void(states), transitions, signoffs, amendments,
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
    if not (isinstance(spec.get("zh"), str) and isinstance(spec.get("en", ""), str)):
        bad(place, "needs a zh label (and optionally an en one)")
        return Label(str(spec.get("id")), str(spec.get("id")))
    return Label(spec["zh"], spec.get("en", ""))


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
