"""A record's derived columns, recomputed from its immutable history.

The catalog keeps on each record row columns that follow from its versions and events (its
status, current version, title, closure, retention dates and legal hold) so that listings are
one query. Those columns are mutable; the history is not. Whatever acts on retention
(disposal) or proves the archive (verify) derives them again here from the versions and
the hold events, and never trusts the row (DOMAIN.md, Retention; issue 14, line 2).
"""

from __future__ import annotations

from typing import Iterable, TypedDict

from . import retention

HOLD_ACTIONS = ("hold.placed", "hold.released")
DERIVED_COLUMNS = ("status", "current_version", "title", "closed_on", "retention_from",
                   "retention_until", "on_hold")


class DerivedRow(TypedDict):
    status: str | None
    current_version: int
    title: str
    closed_on: str | None  # ISO date: the first version in a closing or void state
    retention_from: str | None  # ISO date
    retention_until: str | None  # ISO date: the first day it may be disposed of
    on_hold: bool


def derive(form, versions: list[dict], events: Iterable[dict]) -> DerivedRow:
    """The derived columns of a record made with `form` (its frozen revision) from its
    versions (dicts with version, status, data, effective_date; any order) and its events
    (dicts with id, action and detail; hold.placed/hold.released count, in id order, and
    the closing date a record.imported event names).
    A record without versions derives to status None and version 0."""
    ordered = sorted(versions, key=lambda v: v["version"])
    on_hold = False
    for event in sorted(events, key=lambda e: e["id"]):
        if event["action"] in HOLD_ACTIONS:
            on_hold = event["action"] == "hold.placed"
    if not ordered:
        return {"status": None, "current_version": 0, "title": "", "closed_on": None,
                "retention_from": None, "retention_until": None, "on_hold": on_hold}
    # A record brought in from an old ledger closed on the day the ledger says (its
    # record.imported event keeps it), not on the day it was imported.
    imported = next((e["detail"]["closed"] for e in events
                     if e["action"] == "record.imported" and "closed" in e.get("detail", {})),
                    None)
    closed_on = imported or next((v["effective_date"] for v in ordered
                                  if not form.workflow.is_open(v["status"])), None)
    current = ordered[-1]
    void = form.workflow.state(current["status"]).void
    # A void record's period runs from the day it was voided, even when it was final (or
    # closed, imported so) before: its first void version, or the void date its
    # record.imported event names when it was imported void.
    first_void = next((v for v in ordered if form.workflow.state(v["status"]).void),
                      None) if void else None
    voided_on = None if first_void is None else imported \
        if imported and first_void["version"] == 1 else first_void["effective_date"]
    start, until = retention.until(form.retention, voided_on or closed_on,
                                   ordered[0]["effective_date"], current["data"], void=void)
    return {"status": current["status"], "current_version": current["version"],
            "title": form.title_of(current["data"]), "closed_on": closed_on,
            "retention_from": start, "retention_until": until, "on_hold": on_hold}


def differences(row: dict, derived: DerivedRow) -> list[tuple[str, object, object]]:
    """[(column, value in the row, value derived from history)] where they differ."""
    found = []
    for column in DERIVED_COLUMNS:
        have = bool(row[column]) if column == "on_hold" else row[column]
        if have != derived[column]:
            found.append((column, row[column], derived[column]))
    return found
