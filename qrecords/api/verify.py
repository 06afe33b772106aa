"""`qrec verify`: prove that nothing was altered or lost outside qrecords' own rules.

Checks, each fault naming the record, version, file or event concerned:
- the audit log's hash chain (records/chain.py): every event re-hashed, linked to the one
  before it, no id missing, the newest event the one the catalog's chain head names;
- every version: its data against its SHA-256, its event, its files' rows;
- every file the catalog or an event names: present, with its size and SHA-256;
- every tombstone: the record's rows gone, its files gone, its disposal event there;
- nothing in records/ the catalog does not know of (debris of an interrupted command);
- the search index against the catalog.

`repair` does only what the catalog says was in flight: it finishes interrupted disposals and
moves unknown files to debris/<time>/; it never touches a file the catalog knows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable, TypedDict

from .. import clock
from ..catalog.base import canonical_json
from ..catalog.chain import GENESIS, event_hash
from ..domain.access import CONTROLLER
from ..domain.changes import VERSION_ACTIONS
from ..files import FileMissing, FileStore
from ..workspace import Workspace
from .search import check_index


class Fault(TypedDict):
    kind: str  # event, version, record, file, tombstone, debris, index
    record: str | None
    version: int | None
    file: str | None  # a file store key
    event: int | None
    problem: str  # one line naming what is wrong and where


class Verified(TypedDict):
    ok: bool
    counts: dict  # {records, files, events, tombstones}
    faults: list[Fault]


def verify(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> Verified:
    """{"ok", "counts": {records, files, events, tombstones}, "faults": [{"kind", "record",
    "version", "file", "event", "problem"}]}; `progress(done, total)` as files are hashed.
    Every fault is named, none raised: verify is what an auditor runs on a damaged archive."""
    faults: list[dict] = []

    def fault(kind: str, problem: str, record=None, version=None, file=None, event=None):
        faults.append({"kind": kind, "record": record, "version": version, "file": file,
                       "event": event, "problem": problem})

    events = [dict(row) for row in ws.catalog.raw_events()]
    _check_chain(events, ws.catalog.chain_head(), fault)
    for event in events:
        event["detail"] = json.loads(event["detail"])
    tombstones = {t["number"]: t for t in ws.catalog.tombstones()}
    expected = _check_records(ws, events, fault)  # path -> {sha256, size, record, version}
    for event in events:
        if event["record_number"] in tombstones:
            continue  # its files were destroyed; the tombstone lists them
        for path, digest in event["detail"].get("written", {}).items():
            expected.setdefault(path, {"sha256": digest, "size": None,
                                       "record": event["record_number"], "version": None,
                                       "event": event["id"]})
    _check_tombstones(ws, tombstones, events, fault)
    _check_files(ws.files, expected, fault, progress)
    for path in _unknown_files(ws.files, expected, tombstones):
        fault("debris", f"records/{path}: not in the catalog (debris of an interrupted "
              "command, or put there by hand; `qrec verify --repair` moves it to debris/)",
              file=path)
    report = check_index(ws)
    for item in report["differences"]:
        fault("index", item["problem"], record=item["number"], version=item["version"])
    counts = {"records": sum(1 for _ in ws.catalog.rows("records")), "files": len(expected),
              "events": len(events), "tombstones": len(tombstones)}
    return {"ok": not faults, "counts": counts, "faults": faults}


def repair(ws: Workspace) -> list[str]:
    """Finish interrupted disposals; move files the catalog does not know to debris/<time>/.
    Returns what was done, one line per file. Touches no file the catalog knows: it runs as
    the document controller, under the catalog's write lock, so no command is between
    putting a file and committing its row. Raises Forbidden."""
    from .disposal import finish_pending

    ws.require_role(CONTROLLER, "repairing the workspace")
    finish_pending(ws)
    done = []
    stamp = clock.utc_now().replace(":", "")
    with ws.catalog.write():
        known = {row["path"] for row in ws.catalog.rows("files")}
        for row in ws.catalog.raw_events():
            known.update(json.loads(row["detail"]).get("written", {}))
        tombstones = {t["number"]: t for t in ws.catalog.tombstones()}
        for key in _unknown_files(ws.files, known, tombstones):
            done.append(f"moved records/{key} to {ws.files.quarantine(key, stamp)}")
    return done


def summary(result: dict) -> str:
    counts = result["counts"]
    head = (f"{counts['records']} records, {counts['files']} files, {counts['events']} events, "
            f"{counts['tombstones']} tombstones")
    if result["ok"]:
        return f"verified: {head}; hash chain intact, index matches 校验通过"
    return f"{len(result['faults'])} faults in {head} 校验未通过"


# -- the checks ----------------------------------------------------------------------------


def _check_chain(events: list[dict], head: str | None, fault) -> None:
    prev_id, prev_hash = 0, GENESIS
    for event in events:
        where = f"event {event['id']} ({event['action']}"
        where += f" {event['record_number']})" if event["record_number"] else ")"
        if event["id"] != prev_id + 1:
            fault("event", f"events {prev_id + 1} to {event['id'] - 1} are missing (deleted)",
                  event=prev_id + 1)
        if event["prev_hash"] != prev_hash:
            fault("event", f"{where}: does not follow the event before it (one was removed, "
                  "inserted or altered)", record=event["record_number"], event=event["id"])
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            fault("event", f"{where}: its content does not match its hash (edited)",
                  record=event["record_number"], version=event["version"], event=event["id"])
        prev_id, prev_hash = event["id"], event["hash"]
    if head is not None and head != f"{prev_id}:{prev_hash}":
        fault("event", f"the log ends at event {prev_id} but the catalog's chain head is "
              f"event {head.split(':')[0]} (the newest events were removed)", event=prev_id)


def _check_records(ws, events: list[dict], fault) -> dict:
    """Versions against their data hash, events and file rows. Returns the files the
    catalog expects: path -> {sha256, size, record, version, event}."""
    version_events = {(e["record_number"], e["version"]): e for e in events
                      if e["action"] in VERSION_ACTIONS}
    records = {row["id"]: dict(row) for row in ws.catalog.rows("records")}
    files: dict[tuple[int, int], dict] = {}
    expected = {}
    for row in ws.catalog.rows("files"):
        files.setdefault((row["record_id"], row["version"]), {})[row["kind"]] = dict(row)
        record = records.get(row["record_id"], {"number": None})
        expected[row["path"]] = {"sha256": row["sha256"], "size": row["size"],
                                 "record": record["number"], "version": row["version"],
                                 "event": None}
    seen: dict[int, list[int]] = {}
    for row in ws.catalog.rows("versions"):
        record = records.get(row["record_id"])
        if record is None:
            fault("version", f"version {row['version']} belongs to no record",
                  version=row["version"])
            continue
        number, version = record["number"], row["version"]
        seen.setdefault(row["record_id"], []).append(version)
        data = json.loads(row["data"])
        digest = hashlib.sha256(canonical_json(data).encode()).hexdigest()
        if digest != row["data_sha256"]:
            fault("version", f"{number} v{version}: its data does not match its SHA-256 "
                  "(edited)", record=number, version=version)
        event = version_events.get((number, version))
        if event is None:
            fault("version", f"{number} v{version}: no event records it", record=number,
                  version=version)
            continue
        if event["detail"].get("data_sha256") != row["data_sha256"]:
            fault("version", f"{number} v{version}: its event (id {event['id']}) names other "
                  "data", record=number, version=version, event=event["id"])
        docx = files.get((row["record_id"], version), {}).get("docx")
        if docx is None:
            fault("version", f"{number} v{version}: no DOCX in the catalog", record=number,
                  version=version)
        elif event["detail"].get("files", {}).get("docx") != docx["sha256"]:
            fault("version", f"{number} v{version}: the DOCX row and its event (id "
                  f"{event['id']}) differ", record=number, version=version, event=event["id"],
                  file=docx["path"])
    for record_id, record in records.items():
        versions = sorted(seen.get(record_id, []))
        if versions != list(range(1, record["current_version"] + 1)):
            fault("record", f"{record['number']}: versions {versions} but the record says "
                  f"1 to {record['current_version']}", record=record["number"])
    return expected


def _check_tombstones(ws, tombstones: dict, events: list[dict], fault) -> None:
    disposed = {e["record_number"]: e for e in events if e["action"] == "record.disposed"}
    for number, tombstone in tombstones.items():
        if ws.catalog.record(number) is not None:
            fault("tombstone", f"{number} is disposed of, but its record is still in the "
                  "catalog", record=number)
        event = disposed.get(number)
        if event is None or event["detail"].get("files") != tombstone["files"]:
            fault("tombstone", f"{number}: no disposal event matches its tombstone",
                  record=number, event=event and event["id"])
        for path in tombstone["files"]:
            if ws.files.exists(path):
                fault("tombstone", f"{number} was disposed of but records/{path} is still "
                      "there (`qrec verify --repair` finishes the disposal)", record=number,
                      file=path)


def _check_files(files: FileStore, expected: dict, fault, progress) -> None:
    for done, (path, want) in enumerate(sorted(expected.items()), start=1):
        where = {"record": want["record"], "version": want["version"], "file": path,
                 "event": want["event"]}
        try:
            content = files.read(path)
        except FileMissing:
            fault("file", f"records/{path} is missing", **where)
            continue
        if (want["size"] is not None and len(content) != want["size"]) or \
                hashlib.sha256(content).hexdigest() != want["sha256"]:
            fault("file", f"records/{path} does not match its SHA-256 (altered)", **where)
        if progress:
            progress(done, len(expected))


def _unknown_files(files: FileStore, expected, tombstones: dict) -> list[str]:
    """Keys in the file store that are neither expected (keys the catalog knows) nor listed
    by a tombstone: debris."""
    destroyed = {key for t in tombstones.values() for key in t["files"]}
    return [key for key in files.keys() if key not in expected and key not in destroyed]

