"""The hash chain of the audit log: each event's hash covers its own fields and the hash of
the event before it, so editing, deleting or inserting an event anywhere breaks every hash
after it. The catalog's meta row `chain_head` holds the last event's id and hash, so removing
the newest events is seen too."""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64  # the "previous hash" of the first event
FIELDS = ("id", "at", "effective_date", "actor", "action", "record_number", "version",
          "detail")  # detail as stored: canonical JSON text


def event_hash(event: dict, prev_hash: str) -> str:
    body = json.dumps([event[name] for name in FIELDS] + [prev_hash], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()
