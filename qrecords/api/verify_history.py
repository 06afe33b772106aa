"""verify: every version, file row and record row against the immutable history.

- a version's data against its SHA-256 and the event that wrote it, and every other column
  of the version row against that event; the record's form revision against its first
  event (api/anchors.py);
- every file row against the event that wrote it (a version's DOCX, `file.pdf_made`), and
  every file an event names against a row (issue 14, line 1);
- each record row's derived columns recomputed from its versions and hold events
  (domain/derived.py), every difference named (line 2);
- events naming a record that has neither rows nor a tombstone (line 4);
- the sensitive-values table (what a privacy user's search looks up) against the values each
  version's data holds in its form's sensitive fields: a row edited, added or removed is
  named by record, version and field, never by the value.
"""

from __future__ import annotations

import hashlib
import json

from ..catalog.base import canonical_json
from ..domain import access, derived
from ..domain.changes import VERSION_ACTIONS
from . import anchors


def check_history(ws, events: list[dict], tombstones: dict, fault) -> dict:
    """`events` with detail decoded. Returns the files the catalog's rows expect:
    key -> {sha256, size, record, version, event}."""
    records = {row["id"]: row for row in ws.catalog.rows("records")}
    numbers = {row["number"]: row for row in records.values()}
    by_record: dict[str, list[dict]] = {}
    written: dict[tuple, dict] = {}  # (number, version, kind) -> the event that wrote it
    for event in events:
        number = event["record_number"]
        if number is None:
            continue
        by_record.setdefault(number, []).append(event)
        kind = _version_file_kind(event)
        if kind:
            written[(number, event["version"], kind)] = event
    for number in by_record:
        if number not in numbers and number not in tombstones:
            first = by_record[number][0]
            fault("record", f"{number}: {len(by_record[number])} events name it (the first "
                  f"id {first['id']}) but it has neither rows nor a tombstone (deleted "
                  "outside a disposal)", record=number, event=first["id"])
    versions: dict[int, list[dict]] = {}
    for row in ws.catalog.rows("versions"):
        record = records.get(row["record_id"])
        if record is None:
            fault("version", f"version {row['version']} belongs to no record",
                  version=row["version"])
            continue
        row["data"] = json.loads(row["data"])
        versions.setdefault(row["record_id"], []).append(row)
    expected = _check_file_rows(ws.catalog.rows("files"), records, written, tombstones, fault)
    for record_id, record in records.items():
        number = record["number"]
        history = by_record.get(number, [])
        revision_id, problems = anchors.revision_problems(ws.catalog, record, history)
        for problem in problems:
            fault("record", f"{problem} (the row was edited)", record=number)
        form = _frozen(ws, revision_id)
        before = None
        for row in sorted(versions.get(record_id, []), key=lambda v: v["version"]):
            _check_version(number, row, before, form, written, fault)
            before = row
        if form is not None:
            _check_derived(record, form, versions.get(record_id, []), history, fault)
    _check_sensitive(ws, records, versions, fault)
    return expected


def _frozen(ws, revision_id: int):
    from ..errors import QrecError

    try:
        return ws.forms.frozen(revision_id)[0]
    except QrecError:
        return None  # named by revision_problems or check_forms


def _version_file_kind(event: dict) -> str | None:
    """The kind of version file ("docx", "pdf") the event wrote, if it wrote one: a version's
    own event its DOCX; `file.pdf_made` of a version (not of a letter: those name their file
    under `written`) its PDF."""
    if event["action"] in VERSION_ACTIONS:
        return "docx"
    if event["action"] == "file.pdf_made" and "written" not in event["detail"] \
            and event["version"]:
        return "pdf"
    return None


def _check_version(number: str, row: dict, before: dict | None, form, written: dict,
                   fault) -> None:
    version = row["version"]
    digest = hashlib.sha256(canonical_json(row["data"]).encode()).hexdigest()
    if digest != row["data_sha256"]:
        fault("version", f"{number} v{version}: its data does not match its SHA-256 "
              "(edited)", record=number, version=version)
    event = written.get((number, version, "docx"))
    if event is None or event["action"] not in VERSION_ACTIONS:
        fault("version", f"{number} v{version}: no event records it", record=number,
              version=version)
        return
    if event["detail"].get("data_sha256") != row["data_sha256"]:
        fault("version", f"{number} v{version}: its event (id {event['id']}) names other "
              "data", record=number, version=version, event=event["id"])
    initial = form.workflow.initial if form is not None else None
    for difference in anchors.version_differences(row, event, before, initial):
        fault("version", f"{number} v{version}: {difference} (the row was edited)",
              record=number, version=version, event=event["id"])


def _check_file_rows(file_rows: list[dict], records: dict, written: dict, tombstones: dict,
                     fault) -> dict:
    expected, rows = {}, set()
    for row in file_rows:
        number = records.get(row["record_id"], {"number": None})["number"]
        version, kind = row["version"], row["kind"]
        rows.add((number, version, kind))
        event = written.get((number, version, kind))
        expected[row["path"]] = {"sha256": row["sha256"], "size": row["size"],
                                 "record": number, "version": version,
                                 "event": event and event["id"]}
        if event is None:
            fault("file", f"records/{row['path']}: no event records its {kind.upper()} "
                  f"({number} v{version})", record=number, version=version, file=row["path"])
        elif event["detail"]["files"][kind] != row["sha256"]:
            fault("file", f"records/{row['path']}: its catalog row and the event that wrote "
                  f"it (id {event['id']}) name different SHA-256 (the row was edited)",
                  record=number, version=version, file=row["path"], event=event["id"])
    for (number, version, kind), event in written.items():
        if (number, version, kind) not in rows and number not in tombstones:
            fault("file", f"{number} v{version}: event {event['id']} wrote its "
                  f"{kind.upper()}, which has no catalog row (removed)", record=number,
                  version=version, event=event["id"])
    return expected


def _check_derived(record: dict, form, versions: list[dict], events: list[dict],
                   fault) -> None:
    """The record row's derived columns against its history, with `form` the revision its
    history names."""
    number = record["number"]
    found = sorted(v["version"] for v in versions)
    if found != list(range(1, record["current_version"] + 1)):
        fault("record", f"{number}: versions {found} but the record says 1 to "
              f"{record['current_version']}", record=number)
    for column, have, want in derived.differences(record, derived.derive(form, versions,
                                                                         events)):
        fault("record", f"{number}: {column} is {have!r} in its row but {want!r} by its "
              "history (the row was edited)", record=number)


def _check_sensitive(ws, records: dict, versions: dict[int, list[dict]], fault) -> None:
    """The catalog's sensitive-values rows against those each version derives to
    (domain/access.sensitive_values with its record's frozen form)."""
    have: dict[tuple[int, int], dict[str, str]] = {}
    for row in ws.catalog.sensitive_rows():
        have.setdefault((row["record_id"], row["version"]), {})[row["field"]] = row["folded"]
    for record_id, rows in versions.items():
        form, _ = ws.forms.frozen(records[record_id]["form_revision_id"])
        for row in rows:
            want = access.sensitive_values(form, row["data"])
            got = have.pop((record_id, row["version"]), {})
            for field in sorted(set(want) | set(got)):
                if want.get(field) != got.get(field):
                    why = "missing" if field not in got else "not in the version's data" \
                        if field not in want else "differs from the version's data"
                    _sensitive_fault(fault, records[record_id]["number"], row["version"],
                                     field, why)
    for (record_id, version), fields in have.items():  # rows of no version
        number = records.get(record_id, {"number": f"record id {record_id}"})["number"]
        for field in sorted(fields):
            _sensitive_fault(fault, number, version, field, "belongs to no version")


def _sensitive_fault(fault, number: str, version: int, field: str, why: str) -> None:
    fault("sensitive", f"{number} v{version}: its sensitive value of '{field}' in the "
          f"search table {why} (the table was edited)", record=number, version=version)
