"""verify: every number counter against the highest number issued in its period.

A counter set back (an UPDATE outside qrecords, a restored backup of the counters only)
would make the next `qrec new` hand out a number a record has already; named here, with the
number that shows it.
"""

from __future__ import annotations

from ..domain.ledger import fitting_number
from ..errors import QrecError


def check_counters(ws, tombstones: dict, fault) -> None:
    """Each (form, period) counter at least the highest serial issued in that period, by the
    records' rows and tombstones read with their frozen form revision's number_pattern
    (numbers the pattern does not make, e.g. imported ones, are not counted)."""
    catalog = ws.catalog
    issued: dict[tuple[str, str], tuple[int, str]] = {}  # (form, period) -> (serial, number)

    def count(number: str, form_id: str, revision_id: int | None) -> None:
        if revision_id is None:
            return
        try:
            form, _ = ws.forms.frozen(revision_id)
        except QrecError:
            return  # verify_forms names a broken revision
        fits = fitting_number(form.number_pattern, number)
        if fits and fits[1] > issued.get((form_id, fits[0]), (0, ""))[0]:
            issued[(form_id, fits[0])] = (fits[1], number)

    for row in catalog.rows("records"):
        count(row["number"], row["form_id"], row["form_revision_id"])
    for number, tombstone in tombstones.items():
        revision = catalog.form_revision(tombstone["form_id"], tombstone["form_revision"])
        count(number, tombstone["form_id"], revision and revision["id"])
    counters = catalog.counters()
    for (form_id, period), (serial, number) in sorted(issued.items()):
        have = counters.get((form_id, period), 0)
        if have < serial:
            fault("record", f"the number counter of {form_id} for {period} is at {have}, "
                  f"but {number} was issued (set back outside qrecords: the next `qrec new` "
                  "would give a number already used)", record=number)
