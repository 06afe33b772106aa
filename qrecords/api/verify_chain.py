"""verify: the audit log's hash chain, inside the catalog (events re-hashed, linked, none
missing, the newest the one the catalog's chain head names).

A check inside one file cannot see a chain recomputed from scratch or an older copy of the
catalog put back: verify_witness.py compares the chain with heads kept elsewhere."""

from __future__ import annotations

from ..catalog.chain import GENESIS, event_hash


def check_chain(events: list[dict], head: str | None, fault) -> None:
    """`events` as stored (detail as text), oldest first; `head` the catalog's 'id:hash'
    chain head or None. Calls fault(kind, problem, record=, version=, event=) per fault."""
    prev_id, prev_hash = 0, GENESIS
    for event in events:
        where = f"event {event['id']} ({event['action']}"
        where += f" {event['record_number']})" if event["record_number"] else ")"
        if event["id"] != prev_id + 1:
            gone = f"event {prev_id + 1} is" if event["id"] == prev_id + 2 else \
                f"events {prev_id + 1} to {event['id'] - 1} are"
            fault("event", f"{gone} missing (deleted) 审计事件缺失", event=prev_id + 1)
        if event["prev_hash"] != prev_hash:
            fault("event", f"{where}: does not follow the event before it (one was removed, "
                  "inserted or altered)", record=event["record_number"], event=event["id"])
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            fault("event", f"{where}: its content does not match its hash (edited)",
                  record=event["record_number"], version=event["version"], event=event["id"])
        prev_id, prev_hash = event["id"], event["hash"]
    if head is None:
        if events:
            fault("event", f"the catalog's chain head is missing (removed from its meta "
                  f"table): the newest of the {len(events)} events cannot be proved to be "
                  "the last one written", event=prev_id)
        return
    if head != f"{prev_id}:{prev_hash}":
        fault("event", f"the log ends at event {prev_id} but the catalog's chain head is "
              f"event {head.split(':')[0]} (the newest events were removed)", event=prev_id)
