"""Disposition 处置: a closed record leaves qrecords, destroyed 销毁 (`qrec dispose`) or
transferred 移交 to an archive (`qrec transfer`). One engine for both (DOMAIN.md, Retention).

The rules, checked again under the catalog's write lock from the record's immutable history
(its versions and hold events, domain/derived.py), never from its mutable row; its version
rows and form revision are first compared with the chained events that wrote them
(api/anchors.py), and a record that differs is refused:
- only a closed (or void) record, never one on hold;
- destruction never before the retention period ends, and never of a record whose policy
  says transfer (it goes to an archive, not to the shredder);
- transfer any time after closure when the policy says destroy: nothing is destroyed, the
  archive takes the record over with the date it is kept until and the action due then,
  both on the transfer list; when the policy says transfer, the period is how long the
  record stays here first, so never before it ends.

Each record leaves a tombstone (its action, what was destroyed or handed over with the
SHA-256 of every file, who authorised it, when and why) and a chained `record.disposed` or
`record.transferred` event; the run leaves its list — 记录销毁清单 DL-yyyy-nnn or 记录移交清单
TL-yyyy-nnn, DOCX and PDF under disposals/ in the file store, kept permanently — and its
`disposal.listed` or `transfer.listed` event. A transfer first copies each record out into
its package (api/transfer_package.py).

Order of work, so a crash loses nothing that matters: what a disposition writes (the list,
the package) is written inside the catalog transaction that deletes the rows; the records'
files are removed after it commits. What a crash left is finished by the next disposition or
`qrec verify --repair` (`finish_pending`).
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import Callable, NamedTuple, TypedDict

from .. import clock
from ..domain import derived, retention
from ..domain.access import CONTROLLER
from ..domain.numbering import format_number, period_of
from ..errors import QrecError, ValidationError
from ..faults import fault_point
from ..workspace import Workspace
from . import anchors, transfer_package
from .keys import pdf_key
from .pdfs import log_letter_pdf
from .signatures import check_signer, current_version, meaning_of, signature
from .versions import free_text


class Kind(NamedTuple):
    action: str        # destroy | transfer: the tombstone's action
    verb: str          # the signing verb (signatures.meaning_of) and the refusals' noun
    noun: str
    list_pattern: str
    counter: str       # the catalog counter of its lists' numbers
    record_event: str
    list_event: str
    done: str          # how a result says it


DESTROY = Kind("destroy", "dispose", "disposal", "DL-{yyyy}-{seq:03}", "disposal_list",
               "record.disposed", "disposal.listed", "destroyed 已销毁")
TRANSFER = Kind("transfer", "transfer", "a transfer", "TL-{yyyy}-{seq:03}", "transfer_list",
                "record.transferred", "transfer.listed", "transferred 已移交")
OTHER = {"transfer": "qrec transfer --due --to ARCHIVE", "destroy": "qrec dispose --due"}


class Disposition(TypedDict):
    action: str  # destroy | transfer
    list_number: str | None  # None for a dry run or when nothing was done
    dry_run: bool
    to: str | None  # the archive a transfer went to
    records: list[dict]  # per record: number, form, form_title, form_revision, title,
    # created_at, closed_on (its first version not open, a void one too), voided_on (None
    # unless void), retention_from, retention_until, why, action, then (the policy's action
    # at retention_until), versions, files {key: sha256}
    skipped: list[dict]  # {number, why}: what --due left alone (held, or the other action)
    docx: str | None  # where the list is
    pdf: str | None
    package: str | None  # the folder a transfer's copies are in


def run(ws: Workspace, kind: Kind, numbers: list[str], all_due: bool, reason: str,
        dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
        password: str | None = None, to: str | None = None) -> Disposition:
    """Destroy or transfer (`kind`) the given records, or every due record not on hold whose
    policy says this action (`all_due`), as a document controller; `to` names the archive of
    a transfer. See the module's docstring for the rules. A dry run lists exactly what the
    real run would do and changes nothing. Raises Forbidden, QrecError (param "reason"),
    ValidationError naming every record that may not go (nothing goes then),
    NotAuthenticated (a real run is signed with the controller's `password`, not in a
    demo)."""
    actor = ws.require_role(CONTROLLER, kind.noun)
    reason = reason_given(reason)
    meaning = meaning_of(kind.verb)
    finish_pending(ws)
    today = clock.today()
    result: Disposition = {"action": kind.action, "list_number": None, "dry_run": dry_run,
                           "to": to, "records": [], "skipped": [], "docx": None, "pdf": None,
                           "package": None}
    # Planned before the password is checked: a record that may not go costs no attempt.
    plan, result["skipped"] = _plan(ws, kind, numbers, all_due, today.isoformat())
    if dry_run:
        result["records"] = [_public(item) for item in plan]
        return result
    check_signer(ws, password, meaning, kind.verb)
    written: list[str | Path] = []  # store keys, and the package's files and folder
    try:
        with ws.catalog.write() as tx:  # checked again under the write lock
            plan, result["skipped"] = _plan(ws, kind, numbers, all_due, today.isoformat())
            if not plan:
                return result
            period = period_of(kind.list_pattern, today)
            list_number = format_number(period, tx.next_seq(kind.counter, period))
            signed = signature(ws, meaning, {item["number"]: current_version(
                ws, item["number"], None) for item in plan})
            now = clock.utc_now()
            copied = transfer_package.copy_records(ws, plan, list_number) \
                if kind is TRANSFER else []
            written += copied + ([transfer_package.folder_of(ws, list_number)] if copied
                                 else [])
            for done, item in enumerate(plan, start=1):
                _remove_in_catalog(ws, kind, item, list_number, actor, reason, now, today, to)
                if progress:
                    progress(done, len(plan))
            result["records"] = [_public(item) for item in plan]
            docx, digest = _write_list(ws, list_number, result["records"], reason,
                                       today.isoformat(), to)
            written.append(docx)
            detail = {"list": list_number, "signature": signed,
                      "records": [i["number"] for i in plan], "reason": reason,
                      "written": {docx: digest}}
            if kind is TRANSFER:
                sealed, detail["package"] = transfer_package.seal(ws, list_number, docx,
                                                                  copied)
                written += sealed
                detail["to"] = to
            fault_point("dispose.after_list_written")
            tx.add_event(now, today.isoformat(), actor.id, kind.list_event, None, None,
                         ws.authority(detail, actor))
    except BaseException:
        for item in written:  # nothing of a failed disposition stays behind
            if isinstance(item, str):
                ws.files.remove(item)
            elif item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
        raise
    ws.mark_index_behind()
    fault_point("dispose.after_commit")
    finish_pending(ws)  # removes the records' files, makes the list's PDF
    pdf = pdf_key(docx)
    result.update(list_number=list_number, docx=ws.files.location(docx),
                  pdf=ws.files.location(pdf) if ws.files.exists(pdf) else None)
    if kind is TRANSFER:
        result["package"] = str(ws.root / detail["package"]["folder"])
    return result


def finish_pending(ws: Workspace) -> None:
    """Complete what an interrupted disposition committed: remove the files its tombstones
    list that are still stored, and make a list's missing PDF."""
    for tombstone in ws.catalog.tombstones():
        for key in tombstone["files"]:
            if ws.files.exists(key):
                ws.files.remove(key)
    # Only lists a committed disposition logged: a DOCX no event names is what one killed
    # before its commit left (the retry writes it again; `verify --repair` moves it away).
    logged = ws.catalog.written_files(None)
    for key in sorted(logged):
        if key.startswith("disposals/") and key.endswith(".docx") \
                and pdf_key(key) not in logged:
            stem = PurePosixPath(key).stem
            log_letter_pdf(ws, key, list_title(stem), "the next qrec dispose or qrec transfer",
                           None, None, {"list": stem})


def list_title(list_number: str) -> str:
    from ..render.letters import LIST_TITLES

    return LIST_TITLES.get(list_number[:2], LIST_TITLES["DL"])


# -- the steps ---------------------------------------------------------------------------


def reason_given(reason: str | None) -> str:
    """The reason of a disposition or hold, stripped. Raises QrecError (param "reason")."""
    reason = free_text(reason, "reason")
    if reason is None:
        raise QrecError("须填写原因 give the reason: it is kept with the record's history",
                        param="reason")
    return reason


def _plan(ws: Workspace, kind: Kind, numbers: list[str], all_due: bool,
          today: str) -> tuple[list[dict], list[dict]]:
    """(records to act on, records --due left alone); refused whole, naming every record
    that may not go (yet)."""
    from .disposal import due

    skipped = []
    if all_due:
        found = due(ws)
        numbers = [r["number"] for r in found if not r["on_hold"] and r["action"] == kind.action]
        skipped = [{"number": r["number"], "why": "on hold" if r["on_hold"] else
                    f"its policy says {r['action']} ({OTHER[r['action']]})"}
                   for r in found if r["on_hold"] or r["action"] != kind.action]
    plan = [_planned(ws, kind, number, today) for number in dict.fromkeys(numbers)]
    problems = [item.pop("problem") for item in plan if "problem" in item]
    if problems:
        raise ValidationError(problems, f"the {kind.noun.removeprefix('a ')} (nothing was "
                                        f"{kind.done.split()[0]})",
                              zh="未移交" if kind is TRANSFER else "未销毁")
    return plan, skipped


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "id"}


def _planned(ws: Workspace, kind: Kind, number: str, today: str) -> dict:
    """What destroying or transferring one record means, with "problem" when it may not
    go (yet). Status, closure, retention and hold are derived from the record's history."""
    row = ws.record_row(number)
    events = ws.catalog.events(number)
    versions = ws.catalog.versions(row["id"])
    # The rows disposal trusts, against the chained events that wrote them (api/anchors.py):
    # the form revision its history names, and its versions, or no disposition.
    revision_id, tampered = anchors.record_problems(ws, row, versions, events)
    form, _ = ws.forms.frozen(revision_id)
    record = {**row, **derived.derive(form, versions, events)}
    policy = form.retention
    void = form.workflow.state(record["status"]).void
    start, until = record["retention_from"], record["retention_until"]
    item = {"number": number, "form": form.id, "form_title": str(form.title),
            "form_revision": form.revision, "title": record["title"],
            "created_at": record["created_at"], "closed_on": record["closed_on"],
            "voided_on": start if void else None,
            "retention_from": start, "retention_until": until,
            "why": retention.explain(policy, start, void) if start else "",
            "action": kind.action, "then": policy.action,
            "versions": record["current_version"], "id": record["id"],
            "files": _files_of(ws, record["id"], events)}
    if tampered:
        item["problem"] = (f"记录与其历史不符 {number} does not match its history, so it is "
                           f"not {kind.done.split()[0]}: {tampered[0]}"
                           + (f"; and {len(tampered) - 1} more" if len(tampered) > 1 else "")
                           + " (`qrec verify` names them)")
    elif record["closed_on"] is None:
        item["problem"] = (f"未结案 {number} is open ({form.workflow.label(record['status'])}): "
                           f"an open record is never {kind.done.split()[0]}")
    elif record["on_hold"]:
        item["problem"] = f"保全中 {number} is on hold (release the hold first)"
    elif until is None:
        item["problem"] = (f"尚无保存期限 {number} has no retention date yet: its retention runs "
                           f"from {policy.runs_from}, which is empty")
    elif kind is DESTROY and policy.action == "transfer":
        item["problem"] = (f"期满应移交，不销毁 {number} is to be transferred, not destroyed (its "
                           f"policy: {policy.text} from {policy.runs_from}, then transfer): qrec "
                           "transfer")
    elif until > today and (kind is DESTROY or policy.action == "transfer"):
        item["problem"] = (f"保存期未满 {number} is retained until {until} ({item['why']})"
                           + (", then transferred" if kind is TRANSFER else ""))
    return item


def _files_of(ws: Workspace, record_id: int, events: list[dict]) -> dict[str, str]:
    """Every file kept for the record, by its store key, with its SHA-256: its versions'
    DOCX and PDF, and what its events wrote (produced documents, reminders)."""
    files = {f["path"]: f["sha256"] for f in ws.catalog.record_files(record_id)}
    for event in events:
        files.update(event["detail"].get("written", {}))
    return dict(sorted(files.items()))


def _remove_in_catalog(ws: Workspace, kind: Kind, item: dict, list_number: str, actor,
                       reason: str, now: str, today, to: str | None) -> None:
    """The record's rows go, its tombstone and its chained event stay (inside write())."""
    tombstone = {
        "number": item["number"], "form_id": item["form"], "form_revision":
        item["form_revision"], "title": item["title"], "created_at": item["created_at"],
        "closed_on": item["closed_on"], "retention_from": item["retention_from"],
        "retention_until": item["retention_until"], "retention": item["why"],
        "action": kind.action, "versions": item["versions"], "files": item["files"],
        "list_number": list_number, "authorised_by": actor.id, "reason": reason, "at": now,
        "effective_date": today.isoformat()}
    ws.catalog.dispose(item["id"], tombstone)
    detail = {"list": list_number, "reason": reason, "action": kind.action,
              "retention_until": item["retention_until"], "files": item["files"]}
    if to is not None:
        detail.update(to=to, then=item["then"])
    ws.catalog.add_event(now, today.isoformat(), actor.id, kind.record_event, item["number"],
                         None, ws.authority(detail, actor))


def _write_list(ws: Workspace, list_number: str, records: list[dict], reason: str,
                today: str, to: str | None) -> tuple[str, str]:
    """The list's DOCX, stored: (its key, its SHA-256)."""
    from ..render.letters import disposition_list_docx

    actor = ws.actor
    content = disposition_list_docx(
        org=ws.settings.organisation, org_en=ws.settings.organisation_en,
        list_number=list_number, records=records, authorised_by=f"{actor.name} ({actor.id})",
        reason=reason, on=today, to=to, chain_head=ws.catalog.chain_head())
    key = f"disposals/{list_number}.docx"
    return key, ws.files.put(key, ws.document(content))
