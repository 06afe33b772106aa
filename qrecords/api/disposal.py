"""Retention in action: what is kept and what is due, legal holds, and disposal.

Disposal is the only way a record leaves qrecords. It is authorised by a document controller,
previewed with --dry-run, refused for anything open, held or not yet due, and leaves behind a
tombstone per record (what was destroyed, with the SHA-256 of every file, who authorised it,
when and why), a `record.disposed` event, and a disposition list 记录销毁清单 (DOCX and PDF)
that is itself kept. A `transfer` policy copies the record out (transfers/<list>/) first.

Order of work, so a crash loses nothing that matters: files a disposal writes (the list, the
transfer copies) are written inside the catalog transaction that deletes the rows; the record
files are removed after it commits. Whatever a crash left on disk is removed by the next
disposal (`finish_pending`).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Callable, TypedDict

from .. import clock
from ..domain import derived, retention
from ..domain.access import CONTROLLER
from ..domain.numbering import format_number, period_of
from ..errors import QrecError, ValidationError
from ..faults import fault_point
from ..files.local import write_immutable
from ..workspace import Workspace
from .signatures import check_signer, current_version, meaning_of, signature
from .keys import pdf_key
from .pdfs import log_letter_pdf
from .versions import free_text

class RetentionStatus(TypedDict):
    form: str
    form_title: str
    policy: str  # e.g. "3y from closure, then destroy"
    open: int
    retained: int
    due: int
    on_hold: int
    disposed: int


class DueRecord(TypedDict):
    number: str
    form: str
    title: str
    status: str
    closed_on: str | None
    retention_from: str | None
    retention_until: str | None
    why: str  # the rule, e.g. "3 years after closure on 2026-01-15"
    action: str  # destroy or transfer
    on_hold: bool


class HoldChange(TypedDict):
    number: str
    hold: bool
    reason: str


class Disposal(TypedDict):
    list_number: str | None  # None for a dry run or when nothing was due
    dry_run: bool
    records: list[dict]  # per record: number, form, dates, action, why, files {key: sha256}
    skipped: list[dict]  # {number, why}: held records --due left alone
    docx: str | None  # where the disposition list is
    pdf: str | None


LIST_PATTERN = "DL-{yyyy}-{seq:03}"
LIST_TITLE = "记录销毁清单 Record disposition list"


def status(ws: Workspace) -> list[RetentionStatus]:
    """Per form: its policy and how many records are open, retained, due, on hold, disposed.
    Due counts closed records past their period that are not on hold; on hold counts every
    held record, whatever its state. [{form, form_title, policy, open, retained, due,
    on_hold, disposed}]"""
    counts = ws.catalog.retention_counts(clock.today().isoformat())
    forms = ws.forms.all_current()
    rows = []
    for form_id in sorted(set(forms) | set(counts)):
        form = forms.get(form_id)
        found = counts.get(form_id, {})
        rows.append({"form": form_id, "form_title": str(form.title) if form else form_id,
                     "policy": _policy_text(form.retention) if form else "",
                     **{k: found.get(k, 0) for k in
                        ("open", "retained", "due", "on_hold", "disposed")}})
    return rows


def due(ws: Workspace) -> list[DueRecord]:
    """Closed records whose retention period has ended, earliest first, held ones marked:
    [{number, form, title, status, closed_on, retention_from, retention_until, why, action,
    on_hold}]."""
    rows = []
    for row in ws.catalog.due_records(clock.today().isoformat()):
        form, _ = ws.forms.frozen(row["form_revision_id"])
        rows.append({"number": row["number"], "form": row["form_id"], "title": row["title"],
                     "status": row["status"], "closed_on": row["closed_on"],
                     "retention_from": row["retention_from"],
                     "retention_until": row["retention_until"],
                     "why": retention.explain(form.retention, row["retention_from"],
                                              form.workflow.state(row["status"]).void),
                     "action": form.retention.action, "on_hold": row["on_hold"]})
    return rows


def hold(ws: Workspace, numbers: list[str], reason: str, place: bool,
         password: str | None = None) -> list[HoldChange]:
    """Place (or release) a legal hold on records (document controller, signing with their
    `password`, not in a demo): all of them or, on any problem, none. [{number, hold,
    reason}]. Raises Forbidden, ValidationError (already held, or not held), NotFound,
    NotAuthenticated."""
    ws.require_role(CONTROLLER, "placing a hold" if place else "releasing a hold")
    reason = _reason(reason)
    meaning = meaning_of("hold" if place else "release")
    check_signer(ws, password, meaning, f"{'hold' if place else 'release'} {' '.join(numbers)}")
    done = []
    with ws.catalog.write():
        problems = []
        records = []
        for number in dict.fromkeys(numbers):
            record = ws.record_row(number)
            if bool(record["on_hold"]) == place:
                problems.append(f"{number} is {'already' if place else 'not'} on hold")
            records.append(record)
        if problems:
            raise ValidationError(problems, "the hold")
        for record in records:
            ws.catalog.set_hold(record["id"], place)
            signed = signature(ws, meaning, {record["number"]: current_version(
                ws, record["number"], None)})
            ws.log("hold.placed" if place else "hold.released", record["number"], None,
                   {"reason": reason, "signature": signed})
            done.append({"number": record["number"], "hold": place, "reason": reason})
    return done


def dispose(ws: Workspace, numbers: list[str], all_due: bool, reason: str,
            dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
            password: str | None = None) -> Disposal:
    """Dispose of the given records, or of every due record not on hold (`all_due`), as a
    document controller (DOMAIN.md, Retention: never before the period ends, never while
    held). Returns {list_number, dry_run, records: [...], skipped: [...], docx, pdf}; a dry
    run lists exactly what the real run would dispose of, and changes nothing. Raises
    Forbidden, ValidationError naming every record that may not go (nothing goes then);
    a real run is signed (批准销毁) with the controller's `password` (not in a demo):
    NotAuthenticated."""
    actor = ws.require_role(CONTROLLER, "disposal")
    reason = _reason(reason)
    meaning = meaning_of("dispose")
    if not dry_run:
        check_signer(ws, password, meaning, "dispose")
    finish_pending(ws)
    today = clock.today()
    result = {"list_number": None, "dry_run": dry_run, "records": [], "skipped": [],
              "docx": None, "pdf": None}
    if dry_run:
        plan, result["skipped"] = _plan(ws, numbers, all_due, today.isoformat())
        result["records"] = [_public(item) for item in plan]
        return result
    written: list[str | Path] = []  # store keys, and transfer copies
    try:
        with ws.catalog.write() as tx:  # checked again under the write lock
            plan, result["skipped"] = _plan(ws, numbers, all_due, today.isoformat())
            if not plan:
                return result
            period = period_of(LIST_PATTERN, today)
            list_number = format_number(period, tx.next_seq("disposal_list", period))
            signed = signature(ws, meaning, {item["number"]: current_version(
                ws, item["number"], None) for item in plan})
            now = clock.utc_now()
            for done, item in enumerate(plan, start=1):
                _destroy_in_catalog(ws, item, list_number, actor, reason, now, today, written)
                if progress:
                    progress(done, len(plan))
            result["records"] = [_public(item) for item in plan]
            docx, digest = _write_list(ws, list_number, result["records"], reason,
                                       today.isoformat())
            written.append(docx)
            fault_point("dispose.after_list_written")
            tx.add_event(now, today.isoformat(), actor.id, "disposal.listed", None, None,
                         ws.authority({"list": list_number, "signature": signed,
                                       "records": [i["number"] for i in plan],
                                       "reason": reason, "written": {docx: digest}}, actor))
    except BaseException:
        for item in written:  # nothing of a failed disposal stays behind
            item.unlink(missing_ok=True) if isinstance(item, Path) else ws.files.remove(item)
        raise
    ws.mark_index_behind()
    fault_point("dispose.after_commit")
    finish_pending(ws)  # removes the records' files, makes the list's PDF
    pdf = pdf_key(docx)
    result.update(list_number=list_number, docx=ws.files.location(docx),
                  pdf=ws.files.location(pdf) if ws.files.exists(pdf) else None)
    return result


def _plan(ws: Workspace, numbers: list[str], all_due: bool, today: str) -> tuple[list[dict], list[dict]]:
    """(records to dispose of, held records skipped by --due); refused whole, naming every
    record that may not go yet."""
    skipped = []
    if all_due:
        found = due(ws)
        numbers = [r["number"] for r in found if not r["on_hold"]]
        skipped = [{"number": r["number"], "why": "on hold"} for r in found if r["on_hold"]]
    plan = [_planned(ws, number, today) for number in dict.fromkeys(numbers)]
    problems = [item["problem"] for item in plan if "problem" in item]
    if problems:
        raise ValidationError(problems, "the disposal (nothing was disposed of)")
    return plan, skipped


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "id"}


def finish_pending(ws: Workspace) -> None:
    """Complete what an interrupted disposal committed: remove the files its tombstones list
    that are still stored, and make a disposition list's missing PDF."""
    for tombstone in ws.catalog.tombstones():
        for key in tombstone["files"]:
            if ws.files.exists(key):
                ws.files.remove(key)
    # Only lists a committed disposal logged: a DOCX no event names is what a disposal killed
    # before its commit left (the retry writes it again; `verify --repair` moves it away).
    logged = ws.catalog.written_files(None)
    for key in sorted(logged):
        if key.startswith("disposals/") and key.endswith(".docx") \
                and pdf_key(key) not in logged:
            log_letter_pdf(ws, key, LIST_TITLE, "the next qrec dispose", None, None,
                           {"list": PurePosixPath(key).stem})


# -- the steps ---------------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    reason = free_text(reason, "reason")
    if reason is None:
        raise QrecError("give the reason: it is kept with the record's history",
                        param="reason")
    return reason


def _planned(ws: Workspace, number: str, today: str) -> dict:
    """What disposing of one record means, or the reason it may not be disposed of yet.
    Status, closure, retention and hold are derived from the record's immutable history
    (its versions and hold events), never read from its mutable row (domain/derived.py)."""
    row = ws.record_row(number)
    form, _ = ws.forms.frozen(row["form_revision_id"])
    events = ws.catalog.events(number)
    record = {**row, **derived.derive(form, ws.catalog.versions(row["id"]), events)}
    item = {"number": number, "form": form.id, "form_title": str(form.title),
            "form_revision": form.revision, "title": record["title"],
            "created_at": record["created_at"], "closed_on": record["closed_on"],
            "retention_from": record["retention_from"],
            "retention_until": record["retention_until"], "action": form.retention.action,
            "versions": record["current_version"], "id": record["id"]}
    start, until = record["retention_from"], record["retention_until"]
    item["why"] = retention.explain(form.retention, start,
                                    form.workflow.state(record["status"]).void) if start else ""
    if record["closed_on"] is None:
        item["problem"] = (f"{number} is open ({form.workflow.label(record['status'])}): an "
                           "open record is never due")
    elif record["on_hold"]:
        item["problem"] = f"{number} is on hold (release the hold first)"
    elif until is None:
        item["problem"] = (f"{number} has no retention date yet: its retention runs from "
                           f"{form.retention.runs_from}, which is empty")
    elif until > today:
        item["problem"] = f"{number} is retained until {until} ({item['why']})"
    item["files"] = _files_of(ws, record["id"], events)
    return item


def _files_of(ws: Workspace, record_id: int, events: list[dict]) -> dict[str, str]:
    """Every file kept for the record, by its store key, with its SHA-256: its versions'
    DOCX and PDF, and what its events wrote (produced documents, reminders)."""
    files = {f["path"]: f["sha256"] for f in ws.catalog.record_files(record_id)}
    for event in events:
        files.update(event["detail"].get("written", {}))
    return dict(sorted(files.items()))


def _destroy_in_catalog(ws: Workspace, item: dict, list_number: str, actor, reason: str,
                        now: str, today, written: list) -> None:
    if item["action"] == "transfer":
        written.extend(_transfer(ws, item, list_number))
    tombstone = {
        "number": item["number"], "form_id": item["form"], "form_revision":
        item["form_revision"], "title": item["title"], "created_at": item["created_at"],
        "closed_on": item["closed_on"], "retention_from": item["retention_from"],
        "retention_until": item["retention_until"], "retention": item["why"],
        "action": item["action"], "versions": item["versions"], "files": item["files"],
        "list_number": list_number, "authorised_by": actor.id, "reason": reason, "at": now,
        "effective_date": today.isoformat()}
    ws.catalog.dispose(item["id"], tombstone)
    ws.catalog.add_event(now, today.isoformat(), actor.id, "record.disposed", item["number"],
                         None, ws.authority({"list": list_number, "reason": reason,
                                             "action": item["action"],
                                             "retention_until": item["retention_until"],
                                             "files": item["files"]}, actor))


def _transfer(ws: Workspace, item: dict, list_number: str) -> list[Path]:
    """Copy the record out before it is destroyed: its files and its catalog rows as JSON,
    into transfers/<list number>/<record>/ of the workspace."""
    target = ws.root / "transfers" / list_number / item["number"]
    written = []
    for key in item["files"]:
        if ws.files.exists(key):
            written.append(target / PurePosixPath(key).name)
            write_immutable(written[-1], ws.files.read(key))
    record = ws.catalog.record(item["number"])
    export = {"record": record, "versions": ws.catalog.versions(record["id"]),
              "events": ws.catalog.events(item["number"]), "files": item["files"]}
    written.append(target / f"{item['number']}.json")
    write_immutable(written[-1], json.dumps(export, ensure_ascii=False, indent=1,
                                            default=str).encode())
    return written


def _write_list(ws: Workspace, list_number: str, plan: list[dict], reason: str,
                today: str) -> tuple[str, str]:
    """The disposition list's DOCX, stored: (its key, its SHA-256)."""
    from ..render.letters import disposal_list_docx

    actor = ws.actor
    content = disposal_list_docx(
        org=ws.settings.organisation, org_en=ws.settings.organisation_en,
        list_number=list_number, records=plan, authorised_by=f"{actor.name} ({actor.id})",
        reason=reason, on=today, chain_head=ws.catalog.chain_head())
    key = f"disposals/{list_number}.docx"
    return key, ws.files.put(key, ws.document(content))


def _policy_text(policy) -> str:
    return f"{policy.text} from {policy.runs_from}, then {policy.action}"

