"""Retention periods: from which date a record's period runs and the day it ends.

Pure date arithmetic on a form's `retention:` policy; the Workspace stores the results with
every version, and qrecords.api.disposal acts on them.

The rule for a day that does not exist: a period of years or months that lands on a day the
month lacks (29 February in a common year, 31 April) ends on the first day of the next month,
so a record is never due early. Closed on 2028-02-29 with 3 years: due 2031-03-01.
"""

from __future__ import annotations

import datetime as dt

_UNITS = {"years": ("year", "years"), "months": ("month", "months"), "days": ("day", "days")}


def period_end(start: dt.date, policy) -> dt.date:
    """The first day a record whose period runs from `start` may be disposed of."""
    if policy.days:
        return start + dt.timedelta(days=policy.days)
    months = start.month - 1 + policy.years * 12 + policy.months
    year, month = start.year + months // 12, months % 12 + 1
    try:
        return dt.date(year, month, start.day)
    except ValueError:  # no such day in that month: the first of the next
        return dt.date(year + month // 12, month % 12 + 1, 1)


def runs_from(policy, closed_on: str | None, created_on: str, data: dict,
              void: bool = False) -> str | None:
    """The date the period runs from, or None while its event has not happened. A void
    record's runs from the day it was voided, its `closed_on`, whatever the policy's event
    (DOMAIN.md, Rules for every record: "its retention runs from the void date")."""
    if void or policy.runs_from == "closure":
        return closed_on
    if policy.runs_from == "creation":
        return created_on
    return data.get(policy.runs_from[len("field:"):])  # "field:<date field>"


def until(policy, closed_on: str | None, created_on: str, data: dict,
          void: bool = False) -> tuple[str | None, str | None]:
    """(runs from, retention until) as ISO dates; (None, None) while not started. `void`: the
    record is void, and `closed_on` the day it was voided."""
    start = runs_from(policy, closed_on, created_on, data, void)
    if start is None:
        return None, None
    return start, period_end(dt.date.fromisoformat(start), policy).isoformat()


def earliest_end(policy, created_on: str, data: dict) -> str:
    """The earliest day (ISO) a record created on `created_on` (ISO) could be disposed of:
    its period run from creation (closure and voiding come no earlier), or from its date
    field when that is earlier. What an object is locked until from the moment it is
    stored; its retention date, once known, is never earlier."""
    start = created_on
    if policy.runs_from.startswith("field:"):
        value = data.get(policy.runs_from[len("field:"):])
        if isinstance(value, str) and len(value) == 10 and value < start:
            start = value
    return period_end(dt.date.fromisoformat(start), policy).isoformat()


_UNITS_ZH = {"years": "年", "months": "个月", "days": "天"}
_EVENTS_ZH = {"closure": "结案", "creation": "建立"}
_ACTIONS_ZH = {"destroy": "销毁", "transfer": "移交"}


def _amount(policy) -> tuple[int, str]:
    """(amount, unit attribute) of a policy's period: (3, "years")."""
    return next((getattr(policy, attr), attr) for attr in _UNITS if getattr(policy, attr))


def _event_zh(event: str) -> str:
    return _EVENTS_ZH.get(event) or f"{event.removeprefix('field:')} 日期"


def explain(policy, start: str, void: bool = False) -> str:
    """'3 years after closure on 2026-01-15' ('3 years after voiding on …' for a void
    record), as a refusal says why a record is kept."""
    amount, attr = _amount(policy)
    event = "voiding" if void else {"closure": "closure", "creation": "creation"}.get(
        policy.runs_from, policy.runs_from[len("field:"):])
    return f"{amount} {_UNITS[attr][amount != 1]} after {event} on {start}"


def policy_text(policy) -> str:
    """'结案后保存 3 年，期满销毁 3y from closure, then destroy': a form's retention period as
    written in its schema (DOMAIN.md, retention)."""
    amount, attr = _amount(policy)
    return (f"{_event_zh(policy.runs_from)}后保存 {amount} {_UNITS_ZH[attr]}，期满"
            f"{_ACTIONS_ZH.get(policy.action, policy.action)} {policy.text} from "
            f"{policy.runs_from}, then {policy.action}")


def closed_and_voided(closed_on: str | None, retention_from: str | None,
                      void: bool) -> tuple[str | None, str | None]:
    """(closed on, voided on) as ISO dates, for what lists a record's end (registers,
    disposition lists): a record's derived `closed_on` is its first version that is not
    open, a void one too, and a void record's period runs from the day it was voided
    (`retention_from`). So a void record shows as closed only when it closed before it was
    voided; one closed and voided on the same day shows the voiding only. Not void: (closed_on,
    None)."""
    if not void:
        return closed_on, None
    return (closed_on if closed_on and retention_from and closed_on < retention_from
            else None), retention_from
