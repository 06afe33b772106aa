"""A record's mutable rows against the chained events that wrote them (issue 14, review).

The immutability triggers of the catalog stop qrecords itself, not someone who drops them.
What disposal and verify trust about a record must therefore be in the hash chain:
- every version row (status, effective_date, author, reason, created_at) against the event
  that wrote it: since this change the event carries them under `version_row`; an older
  event is checked for what it already said (the author is its actor, created_at its time,
  the reason its reason, the status its `to` or the workflow's initial state, the effective
  date its own but for an import);
- the record's form revision (its id and revision_sha256) against its record.created or
  record.imported event (`form_revision`); for an older record, only that the revision is
  of the record's form.

verify_history.py names every difference; disposition.py refuses a record with any.
"""

from __future__ import annotations

VERSION_COLUMNS = ("status", "effective_date", "author", "reason", "created_at")
FIRST_ACTIONS = ("record.created", "record.imported")


def version_anchor(status: str, effective_date: str, author: str, reason: str | None,
                   created_at: str) -> dict:
    """What a version's event carries of its row: {status, effective_date (ISO date),
    author (user id), reason (or None), created_at (ISO UTC time)}."""
    return {"status": status, "effective_date": effective_date, "author": author,
            "reason": reason, "created_at": created_at}


def version_differences(row: dict, event: dict, before: dict | None,
                        initial: str | None) -> list[str]:
    """["status is 'closed' in its row but 'received' by its event (id 7)", ...]: every
    column of the version row `row` that differs from its event (`event` with detail
    decoded). `before`: the version row before it (or None), for an older amend's status;
    `initial`: the workflow's initial state, for an older record.created."""
    detail = event["detail"]
    anchored = detail.get("version_row")
    if anchored is not None:
        want = dict(anchored)
    else:  # written before version_row: what the event said anyway
        want = {"author": event["actor"], "created_at": event["at"],
                "reason": detail.get("reason")}
        if event["action"] != "record.imported":
            want["effective_date"] = event["effective_date"]
        if "to" in detail:
            want["status"] = detail["to"]
        elif event["action"] == "record.created" and initial is not None:
            want["status"] = initial
        elif event["action"] == "record.amended" and before is not None:
            want["status"] = before["status"]
    return [f"{column} is {row[column]!r} in its row but {value!r} by its event "
            f"(id {event['id']})" for column in VERSION_COLUMNS
            if column in want and row[column] != (value := want[column])]


def revision_problems(catalog, record: dict, events: list[dict]) -> tuple[int, list[str]]:
    """(the form revision id the record's history names, problems): the record row's
    form_revision_id against its first event (`events`: the record's, detail decoded, in id
    order). Without a `form_revision` in that event (an older record), the row's revision,
    checked to be of the record's form."""
    number = record["number"]
    first = next((e for e in events if e["action"] in FIRST_ACTIONS), None)
    named = first and first["detail"].get("form_revision")
    have = record["form_revision_id"]
    if named:
        problems = []
        if have != named["id"]:
            problems.append(f"{number}: form_revision_id is {have} in its row but "
                            f"{named['id']} by its event (id {first['id']})")
        frozen = _revision(catalog, named["id"])
        if frozen is None or frozen["sha256"] != named["sha256"]:
            problems.append(f"{number}: form revision {named['id']} does not match the "
                            f"revision_sha256 its event (id {first['id']}) names")
        return named["id"], problems
    frozen = _revision(catalog, have)
    if frozen is None or frozen["form_id"] != record["form_id"]:
        return have, [f"{number}: form_revision_id {have} is not a revision of form "
                      f"{record['form_id']}"]
    return have, []


def _revision(catalog, revision_id: int) -> dict | None:
    from ..errors import IntegrityError

    try:
        return catalog.form_revision_by_id(revision_id)
    except IntegrityError:
        return None


def record_problems(ws, record: dict, versions: list[dict],
                    events: list[dict]) -> tuple[int, list[str]]:
    """(the revision id by history, every difference of the record's form revision and
    version rows from their events), for disposal under the write lock. `versions`: the
    record's version rows; `events`: its events, detail decoded."""
    revision_id, problems = revision_problems(ws.catalog, record, events)
    written = {e["version"]: e for e in events if e["action"] in _version_actions()}
    form = None
    before = None
    for row in sorted(versions, key=lambda v: v["version"]):
        event = written.get(row["version"])
        if event is None:
            problems.append(f"{record['number']} v{row['version']}: no event records it")
        else:
            if form is None and "version_row" not in event["detail"]:
                form, _ = ws.forms.frozen(revision_id)
            initial = form.workflow.initial if form is not None else None
            problems += [f"{record['number']} v{row['version']}: {d}"
                         for d in version_differences(row, event, before, initial)]
        before = row
    return revision_id, problems


def _version_actions() -> tuple[str, ...]:
    from ..domain.changes import VERSION_ACTIONS

    return VERSION_ACTIONS
