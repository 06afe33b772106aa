"""`qrec checkpoint`: write the audit log's chain head down outside the catalog.

The head (`<event id>:<SHA-256 of that event>`) with the event count and the time is printed
and appended to the workspace's witness log (options.witness_log in qrecords.yaml; by
default witness.log in the workspace, which the document controller can move to another
disk or a share). `qrec verify` then proves the chain still extends every head so kept:
nothing inside the catalog can show that (issue 14, line 5; README, Verifying).
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


def checkpoint(ws: Workspace, append: bool = True) -> Checkpoint:
    """Check the chain, then append its head to the witness log (unless `append` is false).
    Raises IntegrityError when the chain in the catalog is already broken (a witness must not
    bless it), WorkspaceError naming the witness log when it cannot be written."""
    events = ws.catalog.raw_events()
    problems: list[str] = []
    check_chain(events, ws.catalog.chain_head(), lambda kind, problem, **_: problems.append(
        problem))
    if problems:
        raise IntegrityError(f"{ws.settings.catalog.removeprefix('sqlite:')}: the audit log's chain is broken "
                             f"({problems[0]}); run `qrec verify`, no checkpoint was written")
    head = f"{events[-1]['id']}:{events[-1]['hash']}" if events else None
    at = clock.utc_now()
    line = head_line(head, len(events), at)
    log = ws.settings.witness_log if append else None
    if log is not None:
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise WorkspaceError(f"{log}: cannot append the checkpoint to the witness log "
                                 f"({exc.strerror or exc})") from None
    return {"chain_head": head, "events": len(events), "at": at,
            "witness_log": str(log) if log else None, "line": line}
