"""A frozen form revision's retention policy, as the database's disposal function reads it.

`qrec_dispose` (postgres_schema.py) derives a record's closure and retention in SQL from its
immutable history, never from the record row the application may UPDATE. It cannot read the
YAML schema, so each form revision row carries, written once when the revision is frozen,
the facts it needs as JSON (`sql_policy`). The row is immutable like the schema beside it.
"""

from __future__ import annotations

import json

from ..domain.form_schema import parse_form
from ..errors import QrecError


def sql_policy(schema_text: str) -> str | None:
    """The JSON text {"years", "months", "days": int, "from": "closure" | "creation" |
    "field:<id>", "closing": [state ids that close a record, void ones included], "void":
    [void state ids]} of the form `schema_text` (YAML) defines; None when it is no valid
    form (the disposal function then refuses its records). Raises nothing."""
    try:
        form = parse_form(schema_text, "form_revisions.schema_text")
    except (QrecError, ValueError, TypeError, AttributeError):
        return None
    policy, states = form.retention, form.workflow.states
    return json.dumps({"years": policy.years, "months": policy.months, "days": policy.days,
                       "from": policy.runs_from,
                       "closing": sorted(s.id for s in states if s.closes or s.void),
                       "void": sorted(s.id for s in states if s.void)}, sort_keys=True)
