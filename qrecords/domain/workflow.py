"""Workflows declared in a form's YAML: states, transitions, sign-offs, amendment rules and a
deadline, as data. The rules (workflow_rules.py) are pure (no storage): the verbs ask them whether a step is allowed,
what the record's data and state become, and stores the result as a new version.

Nothing here knows a form: contract review, customer property and complaint are all data.

Two states need no schema (DOMAIN.md, Rules for every record):
- every workflow has the terminal state 作废 void (`VOID`, unless its schema declares a state
  with `void: true`), so that a record of any form and any revision, made before or after,
  can be voided by the document controller (api/void.py) without editing a frozen schema;
- a form without a workflow (`DEFAULT`), or whose workflow has no transitions, has nothing
  to wait for: its records are final (closed, no draft mark) when made.
"""

from __future__ import annotations

from typing import NamedTuple

from .fields import Label


class State(NamedTuple):
    id: str
    label: Label
    holder: str | None = None  # department holding the case: an id, or "field:<field id>"
    released: bool = False     # approved or closed: no draft watermark
    void: bool = False
    closes: bool = False       # reaching it closes the record (retention runs from then)


class Level(NamedTuple):
    up_to: object | None  # a number, "limits.<name>" of qrecords.yaml, or None: no limit
    roles: tuple[str, ...]


class Document(NamedTuple):
    """A document a step produces (a nonconformity notice to the customer): the listed
    fields of the record, as the step left them."""
    id: str
    label: Label
    to: str                     # whom it is addressed to, as printed
    fields: tuple[str, ...]


class Transition(NamedTuple):
    id: str
    label: Label
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()      # fields that must have a value first
    inputs: tuple[str, ...] = ()        # other fields the step may be given (--set)
    when: dict = {}                     # field -> value the record must have (*)
    signoffs_complete: str | None = None
    authority_field: str | None = None  # with levels: who may decide depends on this amount
    levels: tuple[Level, ...] = ()
    sets: dict = {}                     # field -> "today" | "user" | a value (*)
    comment_required: bool = False
    produce: Document | None = None
    # (*) A NamedTuple's default is one object shared by every instance: nothing writes into
    # `when` or `sets` (the schema parser gives each step its own).


class Signoff(NamedTuple):
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


class AmendRule(NamedTuple):
    states: tuple[str, ...]
    target: str
    reset: str | None = None            # a sign-off whose rows are cleared
    objections_only: bool = False       # clear only the rows that objected
    unless_yes: str | None = None       # ... unless this yes/no field is yes
    unless_only: tuple[str, ...] = ()   # ... and only these fields changed
    unless_within: str | None = None    # ... and that step's authority still covers the record
    changed: tuple[str, ...] = ()       # the rule applies only when one of these changed
    clear: tuple[str, ...] = ()         # fields emptied (the outcome of a step taken again)


class Deadline(NamedTuple):
    start: str                  # a date field
    by_field: str | None        # days depend on this field's value ...
    days: dict                  # ... value -> days (or {"*": days})


class FollowUp(NamedTuple):
    field: str                  # the new record's field naming the record it follows
    copy: tuple[str, ...]       # fields taken over from the followed record
    when: dict                  # field values the followed record must have


class Workflow(NamedTuple):
    states: tuple[State, ...]  # with the built-in void state (with_void)
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

    @property
    def final_when_made(self) -> bool:
        """Records start closed: a form without a workflow, or without transitions."""
        return self.state(self.initial).closes

    @property
    def void_state(self) -> State:
        """The state a voided record is in: the schema's own void state, else VOID."""
        return next(s for s in self.states if s.void)

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
            return (f"none; amend the record to send it to "
                    f"{self.label(rule.target)}")
        return "none (it is final)"


VOID = State("void", Label("作废", "Void"), void=True)
FINAL = State("final", Label("已定稿", "Final"), released=True, closes=True)


def with_void(states: tuple[State, ...]) -> tuple[State, ...]:
    """`states` and the built-in void state, unless the schema has its own (or uses its id):
    what every Workflow is made with."""
    if any(s.void or s.id == VOID.id for s in states):
        return states
    return (*states, VOID)


def final_when_made(states: tuple[State, ...]) -> tuple[State, ...]:
    """The states of a workflow without transitions: its first state, where every record
    stays, is final (closed and released) — a record that nothing can move is not a draft."""
    first = states[0]
    return (State(first.id, first.label, first.holder, True, first.void, not first.void),
            *states[1:])


# A form without a workflow: records are final when made. Records made before this rule
# were left in "draft"; the document controller finalises them (a chained step, like any).
DEFAULT = Workflow(
    states=with_void((FINAL, State("draft", Label("草稿", "Draft")))),
    transitions=(Transition("finalise", Label("定稿", "Finalise"), ("draft",), FINAL.id,
                            roles=("document_controller",)),))
