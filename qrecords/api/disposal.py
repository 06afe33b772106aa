"""Retention in action: what is kept and what is due, legal holds, and destruction.

A closed record leaves qrecords only by a disposition (api/disposition.py): destroyed here
(`dispose`), or transferred to an archive (api/transfer.py). Either is authorised by a
document controller, previewed with --dry-run, refused for anything open or held (and
destruction for anything not yet due), and leaves a tombstone per record and a list.
"""

from __future__ import annotations

from typing import Callable, TypedDict

from .. import clock
from ..domain import names, retention
from ..domain.access import CONTROLLER
from ..errors import ValidationError
from ..workspace import Workspace
from . import disposition
from .disposition import Disposition, finish_pending  # noqa: F401  (finish_pending: verbs
# that finish interrupted disposals import it from here)
from .signatures import check_signer, current_version, meaning_of, signature


class RetentionStatus(TypedDict):
    form: str
    form_title: str
    policy: str  # e.g. "3y from closure, then destroy"
    open: int
    retained: int
    due: int
    on_hold: int
    destroyed: int
    transferred: int
    disposed: int  # destroyed and transferred


class DueRecord(TypedDict):
    number: str
    form: str
    title: str
    status: str
    closed_on: str | None  # its first version not open (a void one too)
    voided_on: str | None  # None unless void
    retention_from: str | None
    retention_until: str | None
    why: str  # the rule, e.g. "3 years after closure on 2026-01-15"
    action: str  # destroy or transfer
    on_hold: bool


class HoldChange(TypedDict):
    number: str
    hold: bool
    reason: str


Disposal = Disposition  # what `dispose` returns (api/disposition.py)


def status(ws: Workspace, form: str | None = None) -> list[RetentionStatus]:
    """Per form: its policy and how many records are open, retained, due, on hold, destroyed
    and transferred. Due counts closed records past their period that are not on hold; on
    hold counts every held record, whatever its state; disposed is destroyed and
    transferred. [{form, form_title, policy, open, retained, due, on_hold, destroyed,
    transferred, disposed}]; only `form`'s row when given (id or title, domain/names.py)."""
    wanted = names.form_id(ws.forms.all_current(), form) if form is not None else None
    counts = ws.catalog.retention_counts(clock.today().isoformat())
    gone: dict[str, dict[str, int]] = {}  # form -> action -> tombstones
    for tombstone in ws.catalog.tombstones():
        by_action = gone.setdefault(tombstone["form_id"], {})
        by_action[tombstone["action"]] = by_action.get(tombstone["action"], 0) + 1
    forms = ws.forms.all_current()
    rows = []
    for form_id in sorted(set(forms) | set(counts)):
        if wanted is not None and form_id != wanted:
            continue
        form = forms.get(form_id)
        found = counts.get(form_id, {})
        rows.append({"form": form_id, "form_title": str(form.title) if form else form_id,
                     "policy": retention.policy_text(form.retention) if form else "",
                     **{k: found.get(k, 0) for k in
                        ("open", "retained", "due", "on_hold", "disposed")},
                     "destroyed": gone.get(form_id, {}).get("destroy", 0),
                     "transferred": gone.get(form_id, {}).get("transfer", 0)})
    return rows


def due(ws: Workspace, form: str | None = None) -> list[DueRecord]:
    """Closed (or void) records whose retention period has ended, earliest first, held ones
    marked, each with the action its policy says (destroy or transfer): [{number, form,
    title, status, closed_on, voided_on, retention_from, retention_until, why, action,
    on_hold}]; only `form`'s when given (id or title, domain/names.py)."""
    wanted = names.form_id(ws.forms.all_current(), form) if form is not None else None
    rows = []
    for row in ws.catalog.due_records(clock.today().isoformat()):
        if wanted is not None and row["form_id"] != wanted:
            continue
        form, _ = ws.forms.frozen(row["form_revision_id"])
        void = form.workflow.state(row["status"]).void
        rows.append({"number": row["number"], "form": row["form_id"], "title": row["title"],
                     "status": row["status"], "closed_on": row["closed_on"],
                     "voided_on": row["retention_from"] if void else None,
                     "retention_from": row["retention_from"],
                     "retention_until": row["retention_until"],
                     "why": retention.explain(form.retention, row["retention_from"], void),
                     "action": form.retention.action, "on_hold": row["on_hold"]})
    return rows


def hold(ws: Workspace, numbers: list[str], reason: str, place: bool,
         password: str | None = None) -> list[HoldChange]:
    """Place (or release) a legal hold on records (document controller, signing with their
    `password`, not in a demo): all of them or, on any problem, none. [{number, hold,
    reason}]. Raises Forbidden, ValidationError (already held, or not held), NotFound,
    NotAuthenticated."""
    ws.require_role(CONTROLLER, "placing a hold" if place else "releasing a hold")
    reason = disposition.reason_given(reason)
    meaning = meaning_of("hold" if place else "release")
    _hold_targets(ws, numbers, place)  # before the password: a refusal costs no attempt
    check_signer(ws, password, meaning, f"{'hold' if place else 'release'} {' '.join(numbers)}")
    done = []
    with ws.catalog.write():
        for record in _hold_targets(ws, numbers, place):  # again, under the write lock
            ws.catalog.set_hold(record["id"], place)
            signed = signature(ws, meaning, {record["number"]: current_version(
                ws, record["number"], None)})
            ws.log("hold.placed" if place else "hold.released", record["number"], None,
                   {"reason": reason, "signature": signed})
            done.append({"number": record["number"], "hold": place, "reason": reason})
    return done


def _hold_targets(ws: Workspace, numbers: list[str], place: bool) -> list[dict]:
    """The record rows of `numbers` (each once) whose hold can be placed (`place`) or
    released. Raises NotFound, ValidationError (already held, or not held)."""
    problems, records = [], []
    for number in dict.fromkeys(numbers):
        record = ws.record_row(number)
        if bool(record["on_hold"]) == place:
            problems.append(f"{number} is {'already' if place else 'not'} on hold")
        records.append(record)
    if problems:
        raise ValidationError(problems, "the hold")
    return records


def dispose(ws: Workspace, numbers: list[str], all_due: bool, reason: str,
            dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
            password: str | None = None) -> Disposal:
    """Destroy the given records, or every due record not on hold whose policy says destroy
    (`all_due`), as a document controller (DOMAIN.md, Retention: never before the period
    ends, never while held; a record whose policy says transfer goes by `qrec transfer`).
    Returns {action: "destroy", list_number, dry_run, to: None, records: [...], skipped:
    [...], docx, pdf, package: None} (disposition.Disposition); a dry run lists exactly what
    the real run would destroy, and changes nothing. Raises Forbidden, ValidationError
    naming every record that may not go (nothing goes then); a real run is signed (批准销毁)
    with the controller's `password` (not in a demo): NotAuthenticated."""
    return disposition.run(ws, disposition.DESTROY, numbers, all_due, reason, dry_run,
                           progress, password)


