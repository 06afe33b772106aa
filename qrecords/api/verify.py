"""`qrec verify`: prove that nothing was altered or lost outside qrecords' own rules.

The checks live in small modules, each fault naming the record, version, file or event:
- verify_chain.py: the audit log's hash chain and the catalog's chain head;
- verify_witness.py: the chain against heads kept outside the catalog (the witness log of
  `qrec checkpoint`, audit packs, printed heads): recomputed chains and rollbacks;
- verify_forms.py: frozen form revisions against the events that froze them;
- verify_users.py: the users table (roles, bindings, password hashes) against user events,
  each event's authority against the users then, sessions against the logins that made them;
- verify_facts.py: the demo fact against the workspace's making; effective dates in a normal
  workspace against the clock;
- verify_history.py: versions, file rows and each record's derived columns against the
  immutable history; events of records that vanished without a tombstone;
- verify_counters.py: every number counter at least the highest number issued in its period;
- verify_files.py: every file present with its SHA-256, the tombstones, debris;
- the search index against the catalog (search.check_index).

`repair` does only what the catalog says was in flight: it finishes interrupted disposals and
moves unknown files to debris/<time>/, and rebuilds an index that is ahead of the catalog
(which verify alone reports as a possible rollback and leaves as it is); it never touches a
file the catalog knows, nor one under the number of a record the catalog knows by its events
or tombstone but has no rows of (named as a fault, "objects of a destroyed record remain",
for a person to decide).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Iterable, TypedDict

from .. import clock
from ..domain.access import CONTROLLER
from ..errors import QrecError
from ..textfmt import counted
from ..workspace import Workspace
from .search import check_index, rebuild_index
from .verify_chain import check_chain
from .verify_counters import check_counters
from .verify_files import (check_files, check_tombstones, gone_record_of, gone_records,
                           uncover_files, unknown_files)
from .verify_forms import check_forms
from .verify_history import check_history
from .verify_facts import check_facts
from .verify_users import check_users
from .verify_witness import HEAD, check_checkpoints, check_witnesses


NOT_A_HEAD = re.compile(r"\d+:\S*")  # typed as a head, but not one (HEAD: 64 hex digits)


class Fault(TypedDict):
    kind: str  # catalog, event, witness, form, user, version, record, file, tombstone, debris,
    # index
    record: str | None
    version: int | None
    file: str | None  # a file store key
    event: int | None
    problem: str  # one line naming what is wrong and where


class Verified(TypedDict):
    ok: bool
    counts: dict  # {records, files, events, tombstones, witnesses}
    chain_head: str | None  # "<event id>:<sha256>" of the newest event
    demo: bool  # a demonstration or training workspace (`qrec init --demo`): not records
    faults: list[Fault]


def verify(ws: Workspace, progress: Callable[[int, int], None] | None = None,
           witnesses: Iterable[str] = ()) -> Verified:
    """{"ok", "counts": {records, files, events, tombstones, witnesses}, "chain_head",
    "faults": [{"kind", "record", "version", "file", "event", "problem"}]};
    `progress(done, total)` as files are hashed. `witnesses`: files or `id:hash` heads to
    check the chain against, besides the workspace's witness log when it exists. Every fault
    is named, none raised: verify is what an auditor runs on a damaged archive. Raises
    QrecError (param "witness") for a witness typed as `id:...` that is no chain head."""
    for given in witnesses:
        typed = given.strip()
        if NOT_A_HEAD.fullmatch(typed) and not HEAD.fullmatch(typed) and \
                not Path(given).exists():
            raise QrecError(f"{given}: not a chain head (EVENT:SHA256, an event id and the 64 "
                            "hex digits of its hash) nor a file 不是链头", param="witness")
    faults: list[dict] = []

    def fault(kind: str, problem: str, record=None, version=None, file=None, event=None):
        faults.append({"kind": kind, "record": record, "version": version, "file": file,
                       "event": event, "problem": problem})

    for problem in ws.catalog.guard_problems():  # what keeps qrecords' own rows immutable
        fault("catalog", f"catalog: {problem} 目录保护被篡改")
    events = ws.catalog.raw_events()
    check_chain(events, ws.catalog.chain_head(), fault)
    sources = list(witnesses)
    log = ws.settings.witness_log
    if log is not None and log.exists() and str(log) not in sources:
        sources.insert(0, str(log))
    witnessed = check_witnesses(events, sources, fault)
    for event in events:
        event["detail"] = json.loads(event["detail"])
    check_checkpoints(events, log, fault)
    check_forms(ws.catalog, events, fault)
    check_users(ws.catalog, events, fault)
    check_facts(ws.catalog, events, ws.catalog.meta_value("time_zone") or
                ws.settings.time_zone, fault)
    tombstones = {t["number"]: t for t in ws.catalog.tombstones()}
    expected = check_history(ws, events, tombstones, fault)
    check_counters(ws, tombstones, fault)
    for event in events:
        if event["record_number"] in tombstones:
            continue  # its files were destroyed; the tombstone lists them
        for path, digest in event["detail"].get("written", {}).items():
            expected.setdefault(path, {"sha256": digest, "size": None,
                                       "record": event["record_number"], "version": None,
                                       "event": event["id"]})
    check_tombstones(ws, tombstones, events, fault)
    check_files(ws.files, expected, fault, progress)
    gone = gone_records(ws.catalog, events, tombstones)
    for path in unknown_files(ws.files, expected, tombstones):
        number = gone_record_of(path, gone)
        if number:
            fault("debris", f"records/{path}: objects of a destroyed record remain: {number} "
                  "has no rows, but the catalog knows it; `qrec verify --repair` leaves them, "
                  "a person decides", record=number, file=path)
            continue
        fault("debris", f"records/{path}: not in the catalog (debris of an interrupted "
              "command, or put there by hand; `qrec verify --repair` moves it to debris/)",
              file=path)
    ahead = index_ahead(ws)
    if ahead is not None:  # the one in-workspace trace of a rollback: kept, not rebuilt
        applied, latest = ahead
        fault("index", f"the search index had applied event {applied}, but the catalog's "
              f"last such event is {latest}: possible rollback (an older catalog put back); "
              "`qrec index rebuild` or `qrec verify --repair` rebuilds the index once that is "
              "explained 索引领先于目录：可能被回滚", event=applied)
    else:
        ws.try_sync_index()
        report = check_index(ws)
        for problem in report["damaged"]:
            fault("index", problem)
        for item in report["differences"]:
            fault("index", f"{item['number']} v{item['version']}: 索引有误 {item['problem']}",
                  record=item["number"], version=item["version"])
    counts = {"records": sum(1 for _ in ws.catalog.rows("records")), "files": len(expected),
              "events": len(events), "tombstones": len(tombstones), "witnesses": witnessed}
    head = f"{events[-1]['id']}:{events[-1]['hash']}" if events else None
    return {"ok": not faults, "counts": counts, "chain_head": head, "demo": ws.demo,
            "faults": faults}


def index_ahead(ws: Workspace) -> tuple[int, int] | None:
    """(event the index applied, the catalog's latest indexed event) when the index is ahead
    of the catalog (an older catalog was put back), else None."""
    state = ws.index.state()
    latest = ws.catalog.latest_change_id()
    if state is not None and state["applied"] > latest:
        return state["applied"], latest
    return None


def repair(ws: Workspace) -> list[str]:
    """Finish interrupted disposals; make files the catalog knows that a delete marker or a
    newer version hides current again (a store that keeps versions); move files the catalog
    does not know to debris/<time>/; remove stray disposal_gate rows; rebuild a search index
    that is ahead of the catalog; with a store that locks objects, lock every record's
    objects as the record stands.
    Returns what was done, one line per file. Touches no file the catalog knows: it runs as
    the document controller, under the catalog's write lock, so no command is between
    putting a file and committing its row. Raises Forbidden."""
    from .disposal import finish_pending

    ws.require_role(CONTROLLER, "repairing the workspace")
    finish_pending(ws)
    done = []
    stamp = clock.utc_now().replace(":", "")
    with ws.catalog.write():
        known = {row["path"]: row["sha256"] for row in ws.catalog.rows("files")}
        events = ws.catalog.raw_events()
        for row in events:
            for path, digest in json.loads(row["detail"]).get("written", {}).items():
                known.setdefault(path, digest)
        gate = ws.catalog.clear_disposal_gate()
        if gate:
            done.append(f"removed {counted(gate, 'stray disposal_gate row')}: "
                        "delete protection is on again 已恢复删除保护")
        tombstones = {t["number"]: t for t in ws.catalog.tombstones()}
        gone = gone_records(ws.catalog, events, tombstones)
        destroyed = {key for t in tombstones.values() for key in t["files"]}
        done += uncover_files(ws.files, {path: digest for path, digest in known.items()
                                         if path not in destroyed})
        for key in unknown_files(ws.files, known, tombstones):
            if gone_record_of(key, gone):  # never removed: a person decides
                done.append(f"left records/{key}: objects of a destroyed record remain: "
                            f"{gone_record_of(key, gone)}")
                continue
            done.append(f"moved records/{key} to {ws.files.quarantine(key, stamp)}")
    if index_ahead(ws) is not None:
        count = rebuild_index(ws)
        done.append(f"rebuilt the search index, which was ahead of the catalog, from the "
                    f"catalog ({count} records) 已重建索引")
    if ws.files.locked:  # objects whose lock a crash left behind their record
        numbers = ws.catalog.record_numbers()
        ws.protect(numbers)
        done.append(f"locked the objects of {len(numbers)} records as their records stand")
    return done


def summary(result: dict) -> str:
    counts = result["counts"]
    head = ", ".join(counted(counts[key], key[:-1]) for key in
                     ("records", "files", "events", "tombstones"))
    if counts.get("witnesses"):
        head += f", {counted(counts['witnesses'], 'witnessed head')}"
    demo = ("; 演示工作区 a DEMONSTRATION workspace: its documents are not records"
            if result.get("demo") else "")
    if result["ok"]:
        return f"verified: {head}; hash chain intact, index matches 校验通过{demo}"
    return f"{counted(len(result['faults']), 'fault')} in {head} 校验未通过{demo}"
