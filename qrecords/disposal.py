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
from pathlib import Path

from . import clock, retention
from .errors import QrecError, ValidationError
from .faults import fault_point
from .fields import control_character
from .records.files import write_immutable
from .records.numbering import format_number, period_of

CONTROLLER = "document_controller"
LIST_PATTERN = "DL-{yyyy}-{seq:03}"
LIST_TITLE = "记录销毁清单 Record disposition list"


def status(ws) -> list[dict]:
    """Per form: its policy and how many records are open, retained, due, on hold, disposed.
    Due counts closed records past their period that are not on hold; on hold counts every
    held record, whatever its state."""
    counts = ws.store.retention_counts(clock.today().isoformat())
    forms = {form_id: ws.form(form_id) for form_id in ws.form_ids()}
    rows = []
    for form_id in sorted(set(forms) | set(counts)):
        form = forms.get(form_id)
        found = counts.get(form_id, {})
        rows.append({"form": form_id, "form_title": str(form.title) if form else form_id,
                     "policy": _policy_text(form.retention) if form else "",
                     **{k: found.get(k, 0) for k in
                        ("open", "retained", "due", "on_hold", "disposed")}})
    return rows


def due(ws) -> list[dict]:
    """Closed records whose retention period has ended, earliest first, held ones marked."""
    rows = []
    for row in ws.store.due_records(clock.today().isoformat()):
        form, _ = ws.frozen_form(row["form_revision_id"])
        rows.append({"number": row["number"], "form": row["form_id"], "title": row["title"],
                     "status": row["status"], "closed_on": row["closed_on"],
                     "retention_from": row["retention_from"],
                     "retention_until": row["retention_until"],
                     "why": retention.explain(form.retention, row["retention_from"]),
                     "action": form.retention.action, "on_hold": row["on_hold"]})
    return rows


def hold(ws, numbers: list[str], reason: str, user: str | None, place: bool) -> list[dict]:
    """Place (or release) a legal hold on records: all of them or, on any problem, none."""
    actor = _controller(ws, user, "hold add" if place else "hold release")
    reason = _reason(reason)
    today = clock.today().isoformat()
    done = []
    with ws.store.write():
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
            ws.store.set_hold(record["id"], place)
            ws.store.add_event(clock.utc_now(), today, actor.id,
                               "hold.placed" if place else "hold.released", record["number"],
                               None, {"reason": reason})
            done.append({"number": record["number"], "hold": place, "reason": reason})
    return done


def dispose(ws, numbers: list[str], all_due: bool, reason: str, user: str | None,
            dry_run: bool = False, progress=None) -> dict:
    """Dispose of the given records, or of every due record not on hold (`all_due`).
    Returns {list_number, dry_run, records: [...], skipped: [...], docx, pdf}; a dry run
    lists exactly what the real run would dispose of, and changes nothing."""
    actor = _controller(ws, user, "dispose")
    reason = _reason(reason)
    finish_pending(ws, actor)
    today = clock.today()
    result = {"list_number": None, "dry_run": dry_run, "records": [], "skipped": [],
              "docx": None, "pdf": None}
    if dry_run:
        plan, result["skipped"] = _plan(ws, numbers, all_due, today.isoformat())
        result["records"] = [_public(item) for item in plan]
        return result
    written: list[Path] = []
    try:
        with ws.store.write() as tx:  # checked again under the write lock
            plan, result["skipped"] = _plan(ws, numbers, all_due, today.isoformat())
            if not plan:
                return result
            period = period_of(LIST_PATTERN, today)
            list_number = format_number(period, tx.next_seq("disposal_list", period))
            now = clock.utc_now()
            for done, item in enumerate(plan, start=1):
                _destroy_in_catalog(ws, item, list_number, actor, reason, now, today, written)
                if progress:
                    progress(done, len(plan))
            result["records"] = [_public(item) for item in plan]
            docx, digest = _write_list(ws, list_number, result["records"], actor, reason,
                                       today.isoformat())
            written.append(docx)
            fault_point("dispose.after_list_written")
            tx.add_event(now, today.isoformat(), actor.id, "disposal.listed", None, None,
                         {"list": list_number, "records": [i["number"] for i in plan],
                          "reason": reason, "written": ws.written(docx, digest)})
    except BaseException:
        for path in written:  # nothing of a failed disposal stays on disk
            _remove(path)
        raise
    ws.mark_index_behind()
    fault_point("dispose.after_commit")
    finish_pending(ws, actor)  # removes the records' files, makes the list's PDF
    pdf = docx.with_suffix(".pdf")
    result.update(list_number=list_number, docx=str(docx),
                  pdf=str(pdf) if pdf.exists() else None)
    return result


def _plan(ws, numbers: list[str], all_due: bool, today: str) -> tuple[list[dict], list[dict]]:
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


def finish_pending(ws, actor=None) -> None:
    """Complete what an interrupted disposal committed: remove the files its tombstones list
    that are still on disk, and make a disposition list's missing PDF."""
    records = ws.root / "records"
    for tombstone in ws.store.tombstones():
        for relative in tombstone["files"]:
            _remove(records / relative)
        folder = records / tombstone["form_id"] / tombstone["number"]
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    # Only lists a committed disposal logged: a DOCX no event names is what a disposal killed
    # before its commit left (the retry writes it again; `verify --repair` moves it away).
    logged = ws.store.written_files(None)
    for docx in sorted((records / "disposals").glob("*.docx")):
        relative = docx.relative_to(records).as_posix()
        if relative in logged and docx.with_suffix(".pdf").relative_to(records).as_posix() \
                not in logged:
            ws.log_letter_pdf(docx, LIST_TITLE, "the next qrec dispose",
                              actor or ws.user(None), None, None, {"list": docx.stem})


# -- the steps ---------------------------------------------------------------------------


def _controller(ws, user: str | None, what: str):
    actor = ws.user(user)
    if CONTROLLER not in actor.roles:
        raise QrecError(f"{what} needs the role {CONTROLLER}; {actor.id} has "
                        f"{', '.join(actor.roles) or 'no role'}")
    return actor


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise QrecError("give the reason (--reason TEXT): it is kept with the record's history")
    if control_character(reason):
        raise QrecError(f"--reason: contains the control character {control_character(reason)}")
    return reason.strip()


def _planned(ws, number: str, today: str) -> dict:
    """What disposing of one record means, or the reason it may not be disposed of yet."""
    record = ws.record_row(number)
    form, _ = ws.frozen_form(record["form_revision_id"])
    item = {"number": number, "form": form.id, "form_title": str(form.title),
            "form_revision": form.revision, "title": record["title"],
            "created_at": record["created_at"], "closed_on": record["closed_on"],
            "retention_from": record["retention_from"],
            "retention_until": record["retention_until"], "action": form.retention.action,
            "versions": record["current_version"], "id": record["id"]}
    start, until = record["retention_from"], record["retention_until"]
    item["why"] = retention.explain(form.retention, start) if start else ""
    if record["closed_on"] is None:
        item["problem"] = (f"{number} is open ({form.workflow.label(record['status'])}): an "
                           "open record is never due")
    elif record["on_hold"]:
        item["problem"] = f"{number} is on hold (qrec hold release {number} --reason ...)"
    elif until is None:
        item["problem"] = (f"{number} has no retention date yet: its retention runs from "
                           f"{form.retention.runs_from}, which is empty")
    elif until > today:
        item["problem"] = f"{number} is retained until {until} ({item['why']})"
    item["files"] = _files_of(ws, number, record["id"])
    return item


def _files_of(ws, number: str, record_id: int) -> dict[str, str]:
    """Every file kept for the record, relative to records/, with its SHA-256: its versions'
    DOCX and PDF, and what its events wrote (produced documents, reminders)."""
    files = {f["path"]: f["sha256"] for f in ws.store.record_files(record_id)}
    for event in ws.store.events(number):
        files.update(event["detail"].get("written", {}))
    return dict(sorted(files.items()))


def _destroy_in_catalog(ws, item: dict, list_number: str, actor, reason: str, now: str,
                        today, written: list[Path]) -> None:
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
    ws.store.dispose(item["id"], tombstone)
    ws.store.add_event(now, today.isoformat(), actor.id, "record.disposed", item["number"],
                       None, {"list": list_number, "reason": reason, "action": item["action"],
                              "retention_until": item["retention_until"],
                              "files": item["files"]})


def _transfer(ws, item: dict, list_number: str) -> list[Path]:
    """Copy the record out before it is destroyed: its files and its catalog rows as JSON."""
    target = ws.root / "transfers" / list_number / item["number"]
    written = []
    for relative in item["files"]:
        source = ws.root / "records" / relative
        if source.exists():
            written.append(target / Path(relative).name)
            write_immutable(written[-1], source.read_bytes())
    record = ws.store.record(item["number"])
    export = {"record": record, "versions": ws.store.versions(record["id"]),
              "events": ws.store.events(item["number"]), "files": item["files"]}
    written.append(target / f"{item['number']}.json")
    write_immutable(written[-1], json.dumps(export, ensure_ascii=False, indent=1,
                                            default=str).encode())
    return written


def _write_list(ws, list_number: str, plan: list[dict], actor, reason: str,
                today: str) -> tuple[Path, str]:
    from .render.letters import disposal_list_docx

    content = disposal_list_docx(
        org=ws.config.organisation, org_en=ws.config.organisation_en, list_number=list_number,
        records=plan, authorised_by=f"{actor.name} ({actor.id})", reason=reason, on=today)
    path = ws.root / "records" / "disposals" / f"{list_number}.docx"
    return path, write_immutable(path, content)


def _policy_text(policy) -> str:
    return f"{policy.text} from {policy.runs_from}, then {policy.action}"


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

