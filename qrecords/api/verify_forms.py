"""verify: the frozen form revisions against the `form.frozen` events that froze them.

A frozen revision (schema text and template) is what every record made with it renders with
and what its retention is computed from; its SHA-256 goes into the chained `form.frozen`
event when it is frozen (api/versions.py), so an edited schema or template is named here
(issue 14, line 3)."""

from __future__ import annotations

import hashlib

FROZEN = "form.frozen"


def revision_sha256(schema_text: str, template: bytes) -> str:
    """The SHA-256 a frozen revision is known by: schema text, a NUL, the template bytes."""
    return hashlib.sha256(schema_text.encode() + b"\0" + template).hexdigest()


def check_forms(catalog, events: list[dict], fault) -> None:
    """Every frozen revision in `catalog` against its row's hash and its `form.frozen` event
    (`events` with detail decoded)."""
    frozen = {e["detail"].get("revision_id"): e for e in events if e["action"] == FROZEN}
    for revision_id in catalog.form_revision_ids():
        row = catalog.form_revision_by_id(revision_id)
        name = f"form {row['form_id']} rev {row['revision']}"
        digest = revision_sha256(row["schema_text"], row["template"])
        event = frozen.get(revision_id)
        if event is None:
            fault("form", f"{name}: no {FROZEN} event records its schema and template")
        elif event["detail"].get("sha256") != digest:
            fault("form", f"{name}: its frozen schema or template is not what event "
                  f"{event['id']} froze (edited)", event=event["id"])
        elif row["sha256"] != digest:
            fault("form", f"{name}: its catalog row's SHA-256 was edited", event=event["id"])
