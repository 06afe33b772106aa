"""What an older catalog lacks, derived from what it holds, when it is brought up to this
schema version (SCHEMA_VERSION in base.py).

Version 5 added the sensitive-values table: the rows every stored version would have written
(domain/access.sensitive_values), computed here from the versions' data and the sensitive
fields of each record's frozen form revision.
"""

from __future__ import annotations

import json
from typing import Iterable

from ..domain.access import sensitive_values
from ..domain.form_schema import parse_form

UPGRADABLE_FROM = 4  # the oldest schema version this qrec brings up to date in place


def sensitive_rows(revisions: Iterable[dict],
                   versions: Iterable[dict]) -> list[tuple[int, int, str, str]]:
    """(record_id, version, field id, folded value) of every sensitive value. `revisions`
    are form revision rows {id, form_id, revision, schema_text}; `versions` are rows
    {record_id, version, form_revision_id (the record's), data (JSON text)}. Raises
    FormError when a frozen schema does not parse (the catalog is damaged)."""
    forms = {row["id"]: parse_form(row["schema_text"], f"catalog copy of {row['form_id']} "
                                   f"rev {row['revision']}") for row in revisions}
    found = []
    for row in versions:
        values = sensitive_values(forms[row["form_revision_id"]], json.loads(row["data"]))
        found += [(row["record_id"], row["version"], fid, folded)
                  for fid, folded in values.items()]
    return found
