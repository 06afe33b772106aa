"""`qrec checkpoint`: write the audit log's chain head down outside the catalog.

The head (`<event id>:<SHA-256 of that event>`) with the event count and the time is printed
and appended to the workspace's witness log (options.witness_log in qrecords.yaml; by
default witness.log in the workspace, which the document controller can move to another
disk or a share). `qrec verify` then proves the chain still extends every head so kept:
nothing inside the catalog can show that (issue 14, line 5; README, Verifying). Each
checkpoint is also an event in the chain (`chain.checkpointed`, naming the head and the log):
a witness log deleted or out of reach while the catalog holds such events is a fault.
"""

from __future__ import annotations

import os
from typing import TypedDict

from .. import clock
from ..errors import IntegrityError, WorkspaceError
from ..workspace import Workspace
from .verify_chain import check_chain


class Checkpoint(TypedDict):
    chain_head: str | None  # "<event id>:<sha256>", None for a workspace without events
    events: int
    at: str  # UTC, ISO 8601
    witness_log: str | None  # where the line was appended (None: not appended)
    line: str


def head_line(head: str | None, events: int, at: str) -> str:
    """The one line a witness keeps: `<time>  chain head <id>:<sha256>  events <n>`."""
    return f"{at}  chain head {head or 'none'}  events {events}"


def current_head(ws: Workspace) -> tuple[str | None, int]:
    """(chain head, event count) as the catalog holds them now (read, not checked)."""
    head = ws.catalog.chain_head()
    return head, int(head.split(":")[0]) if head else 0


CHECKPOINTED = "chain.checkpointed"  # the event that says a head was written down


def checkpoint(ws: Workspace, append: bool = True) -> Checkpoint:
    """Check the chain, append its head to the witness log (unless `append` is false), and
    record that in the chain: a `chain.checkpointed` event naming the head and the witness
    log, so that verify knows the log must exist and hold it. Returns the head written down
    (the event before the checkpoint's own). Raises IntegrityError when the chain in the
    catalog is already broken (a witness must not bless it), WorkspaceError naming the
    witness log when it cannot be written (then no event is written either)."""
    log = ws.settings.witness_log if append else None
    with ws.catalog.write():
        events = ws.catalog.raw_events()
        problems: list[str] = []
        check_chain(events, ws.catalog.chain_head(),
                    lambda kind, problem, **_: problems.append(problem))
        if problems:
            raise IntegrityError(f"{ws.settings.catalog.removeprefix('sqlite:')}: the audit "
                                 f"log's chain is broken ({problems[0]}); run `qrec verify`, "
                                 "no checkpoint was written")
        head = f"{events[-1]['id']}:{events[-1]['hash']}" if events else None
        at = clock.utc_now()
        line = head_line(head, len(events), at)
        if log is not None:
            _append(log, line)
            ws.log(CHECKPOINTED, None, None, {"head": head, "witness_log": str(log)})
    return {"chain_head": head, "events": len(events), "at": at,
            "witness_log": str(log) if log else None, "line": line}


def _append(log, line: str) -> None:
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise WorkspaceError(f"{log}: cannot append the checkpoint to the witness log "
                             f"({exc.strerror or exc})") from None
