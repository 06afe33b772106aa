"""verify: the workspace's facts against its history — whether it is a demonstration
workspace, and the effective date of every event.

A normal workspace goes by the clock (issue 15): its events carry the date of their own UTC
time in the workspace's time zone, and none says demo. The demo fact set at init is recorded
in the chained `workspace.created` event, so a catalog whose fact was flipped (to waive every
proof for a while) or an event back-dated with QREC_TODAY is named here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_SLACK = dt.timedelta(minutes=1)  # the date and the time are read a moment apart


def check_facts(catalog, events: list[dict], zone: str, fault) -> None:
    """`events` with detail decoded, in chain order; `zone` the workspace's time zone."""
    created = next((e for e in events if e["action"] == "workspace.created"), None)
    if created is None:
        return  # a workspace made before identity: nothing was recorded to check against
    recorded = bool(created["detail"].get("demo"))
    if (catalog.meta_value("demo") == "1") != recorded:
        fault("event", f"the workspace's demo fact is {catalog.meta_value('demo')!r}, but "
              f"event {created['id']} made it {'a demonstration' if recorded else 'normal'} "
              "(changed outside qrecords)", event=created["id"])
    if recorded:
        return  # a demonstration moves its dates with QREC_TODAY, and says so
    tz = ZoneInfo(zone)
    for event in events:
        if event["detail"].get("demo"):
            fault("event", f"event {event['id']} ({event['action']}) says demo in a normal "
                  "workspace (made while its demo fact was changed)", event=event["id"])
        try:
            at = dt.datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
            at.astimezone(tz)
        except (ValueError, TypeError, AttributeError, OverflowError):
            fault("event", f"event {event['id']} ({event['action']}) has a time that is none: "
                  f"{event['at']!r} (not an ISO 8601 UTC time; written outside qrecords)",
                  event=event["id"])
            continue
        dates = {(at - slack).astimezone(tz).date().isoformat() for slack in (dt.timedelta(),
                                                                             _SLACK)}
        if event["effective_date"] not in dates:
            fault("event", f"event {event['id']} ({event['action']}) is dated "
                  f"{event['effective_date']} but was made at {event['at']} (back-dated: a "
                  "normal workspace goes by the clock)", event=event["id"])
