"""verify: does the chain extend every head kept outside the catalog?

A witness is a chain head `<event id>:<sha256>` written down elsewhere: a line of the witness
log (`qrec checkpoint`), CHAIN_HEAD.txt in an audit pack, the line printed on a disposition
list or a monthly report, or the head typed in from paper. The current chain extends a
witness when its event with that id has that hash: each hash covers every event before it,
so an edited, deleted or re-hashed older event, or an older catalog put back (a rollback),
makes some witness fail (issue 14, line 5).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Iterator

from ..textfmt import counted

HEAD = re.compile(r"\b(\d+):([0-9a-f]{64})\b")
_IN_ZIP = ("CHAIN_HEAD.txt", "word/document.xml")  # an audit pack; a DOCX list or report


def heads_in(source: str) -> Iterator[tuple[str, int, str]]:
    """(where, event id, hash) of every chain head in `source`: a file (text, an audit pack
    zip, a DOCX) or a head typed as `id:hash`. Raises OSError for a file that cannot be
    read, ValueError for a source that holds no head."""
    found = 0
    for where, text in _texts(source):
        for match in HEAD.finditer(text):
            found += 1
            yield where, int(match.group(1)), match.group(2)
    if not found:
        raise ValueError(f"{source}: no chain head (<event id>:<SHA-256>) in it")


def _texts(source: str) -> Iterator[tuple[str, str]]:
    if HEAD.fullmatch(source.strip()):
        yield "the head given", source.strip()
        return
    path = Path(source)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as pack:
            for name in _IN_ZIP:
                if name in pack.namelist():
                    yield f"{source} ({name})", pack.read(name).decode("utf-8", "replace")
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        yield f"{source}, line {number}", line


def check_witnesses(events: list[dict], sources: list[str], fault) -> int:
    """Check the chain (`events` as stored, oldest first) against every head in `sources`;
    per source, the first head the chain does not extend is a fault. Returns how many heads
    were checked."""
    hashes = {event["id"]: event["hash"] for event in events}
    last = max(hashes, default=0)
    checked = 0
    for source in sources:
        try:
            heads = list(heads_in(source))
        except (OSError, ValueError) as exc:
            fault("witness", f"witness {source}: cannot be read ({exc})")
            continue
        for where, event_id, digest in heads:
            checked += 1
            if event_id not in hashes and event_id > last:
                fault("witness", f"{where}: the witness saw event {event_id} ({digest[:12]}…) "
                      f"but the audit log in the catalog ends at event {last}: events were "
                      "removed or an older catalog was put back (a rollback) 审计日志被截断或回滚",
                      event=event_id)
                break
            if hashes.get(event_id) != digest:
                fault("witness", f"{where}: the witness saw event {event_id} as "
                      f"{digest[:12]}…, the audit log in the catalog has "
                      f"{(hashes.get(event_id) or 'no such event')[:12]}: the chain up to it "
                      "was rewritten (events edited, removed or re-hashed) 审计日志被改写",
                      event=event_id)
                break
    return checked


def check_checkpoints(events: list[dict], log, fault) -> None:
    """Every `chain.checkpointed` event (`events` with detail decoded) names a head its
    witness log must hold: a log that is missing, unreadable or lacks one is a fault (a
    deleted log, or a share not mounted, would otherwise let a truncation pass). `log`: the
    workspace's witness log (a Path, or None when none is set)."""
    from .checkpoint import CHECKPOINTED

    made = [e for e in events if e["action"] == CHECKPOINTED and e["detail"].get("head")]
    if not made:
        return
    newest = made[-1]
    where = log if log is not None else newest["detail"].get("witness_log")
    try:
        kept = {f"{event_id}:{digest}" for _, event_id, digest in heads_in(str(where))} \
            if where is not None else set()
    except (OSError, ValueError) as exc:
        reason = "it is missing" if isinstance(exc, FileNotFoundError) else \
            f"it cannot be read ({getattr(exc, 'strerror', None) or exc})"
        fault("witness", f"witness log {where}: {counted(len(made), 'checkpoint')} in the "
              f"audit log (the newest, event "
              f"{newest['id']}, wrote down head {newest['detail']['head'].split(':')[0]}), but "
              f"{reason}: the chain cannot be checked against what was written down "
              "见证日志缺失或不可读", event=newest["id"])
        return
    for event in made:
        if event["detail"]["head"] not in kept:
            head_id = event["detail"]["head"].split(":")[0]
            fault("witness", f"witness log {where}: checkpoint event {event['id']} of the "
                  f"audit log wrote down head {head_id}, which the witness log does not hold "
                  "(the witness log was replaced or edited) 见证日志缺少校验点",
                  event=event["id"])
