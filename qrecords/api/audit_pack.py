"""`qrec audit-pack OUT.zip`: what an auditor asks for, in one file they can check without us.

Inside the zip:
    README.txt              what is inside and how to check it (`sha256sum -c MANIFEST.sha256`)
    MANIFEST.sha256         the SHA-256 of every other file, in sha256sum's format
    verify.json             `qrec verify` of the whole workspace when the pack was made
    CHAIN_HEAD.txt          the audit log's chain head then (a witness for `qrec verify`)
    registers/<form>.xlsx   the register 台账 of each form (and .csv), for the period
    records/...             the PDF and DOCX of each selected record (the current version, or
                            every version with --all-versions) and the letters made for it,
                            under the same paths as in the workspace
    audit/events.csv        the audit trail of those records, of the period's disposals, of
    audit/events.jsonl      every change of users and roles, of refused attempts and of
                            searches by personal data, with each event's hash and the hash
                            before it
    audit/signatures.csv    the electronic signatures in that trail: who, meaning, when, and
                            the SHA-256 of the version signed
    disposals/tombstones.*  the tombstones of records destroyed or transferred in the period,
                            and their lists 记录销毁清单 and 记录移交清单 under
                            records/disposals/

Records are chosen by the record's date (the form's date field, else the day it was made);
disposals by the day they were made. The register masks sensitive columns for users without
the privacy role; the records themselves are the documents as issued.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from functools import partial
from pathlib import Path
from typing import Callable, TypedDict

from .. import clock
from ..domain import names
from ..domain.access import CONTROLLER
from ..outputs import out_path, writing
from ..workspace import Workspace
from . import register, verify
from .checkpoint import head_line

_STORED = (".pdf", ".docx", ".xlsx")  # compressed already
_EVENT_COLUMNS = ("id", "at", "effective_date", "actor", "action", "record_number", "version",
                  "detail", "prev_hash", "hash")


class AuditPack(TypedDict):
    out: str  # the zip written
    records: int
    files: int
    size: int  # bytes
    sha256: str
    verify_ok: bool
    faults: int


def build(ws: Workspace, out: str, form_id: str | None = None, date_from: str | None = None,
          date_to: str | None = None, all_versions: bool = False,
          progress: Callable[[int, int], None] | None = None) -> AuditPack:
    """Write the pack to `out` (.zip) as a document controller; returns {out, records, files,
    size (bytes), sha256, verify_ok, faults}. Raises Forbidden, QrecError (param "out") for
    a file name that is not .zip or lies inside the file store."""
    actor = ws.require_role(CONTROLLER, "an audit pack")
    path = out_path(out, (".zip",), ws.files.holds_path)
    date_from, date_to = register.period(date_from, date_to)
    every = ws.forms.all_current()
    form_id = names.form_id(every, form_id) if form_id else None
    forms = [every[form_id]] if form_id else list(every.values())
    checked = verify.verify(ws)
    members: dict[str, bytes | Callable[[], bytes]] = {}  # name in the zip -> content, or
    # a function that reads it (one stored file in memory at a time)
    numbers, revealed = [], []
    for form in forms:
        columns, rows, shown, about = register.build(ws, form, actor, date_from, date_to)
        members[f"registers/{form.id}.xlsx"] = register.xlsx_bytes(columns, rows, about)
        members[f"registers/{form.id}.csv"] = register.csv_bytes(columns, rows)
        numbers += [row["number"] for row in rows]
        revealed += shown["records"]
    for number in numbers:
        for key in _record_files(ws, number, all_versions):
            members[f"records/{key}"] = partial(ws.files.read, key)
    tombstones = [t for t in ws.catalog.tombstones() if _in_period(t["effective_date"], date_from,
                                                                 date_to)
                  and (form_id is None or t["form_id"] == form_id)]
    for list_number in sorted({t["list_number"] for t in tombstones}):
        for suffix in (".docx", ".pdf"):
            key = f"disposals/{list_number}{suffix}"
            if ws.files.exists(key):
                members[f"records/{key}"] = partial(ws.files.read, key)
    members["disposals/tombstones.json"] = _json_bytes(tombstones)
    members["disposals/tombstones.csv"] = _tombstones_csv(tombstones)
    events = _trail(ws, set(numbers), tombstones)
    members["audit/events.csv"] = _events_csv(events)
    members["audit/events.jsonl"] = "".join(
        json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode()
    members["audit/signatures.csv"] = _signatures_csv(events)
    members["verify.json"] = _json_bytes({**checked, "made_at": clock.utc_now()})
    # A witness of the chain kept outside the catalog (`qrec verify --witness pack.zip`).
    members["CHAIN_HEAD.txt"] = (head_line(checked["chain_head"], checked["counts"]["events"],
                                           clock.utc_now()) + "\n").encode()
    readme = _readme(ws, forms, date_from, date_to, all_versions, checked, actor, len(numbers))
    with writing(path) as temp:
        manifest = _write_zip(temp, members, readme, progress)
        with open(temp, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        size = temp.stat().st_size
        _log_pack(ws, {"out": str(path.resolve()), "form": form_id, "from": date_from,
                       "to": date_to, "all_versions": all_versions, "records": numbers,
                       "sensitive_records": sorted(set(revealed)), "sha256": digest,
                       "manifest_sha256": hashlib.sha256(manifest).hexdigest()})
    return {"out": str(path.resolve()), "records": len(numbers), "files": len(members) + 2,
            "size": size, "sha256": digest, "verify_ok": checked["ok"],
            "faults": len(checked["faults"])}


def _log_pack(ws, detail: dict) -> None:
    """Log `audit_pack.made` (the pack is renamed into place only with its event); on a
    read-only workspace (an archive copy) the pack is made unlogged, with a notice."""
    if ws.catalog.read_only:
        ws.notices.append("the workspace is read-only: the making of this pack is not in its "
                          "audit log 只读工作区：本次打包未记入审计日志")
        return
    with ws.catalog.write():
        ws.log("audit_pack.made", None, None, detail)


def _record_files(ws, number: str, all_versions: bool) -> list[str]:
    """The record's PDF and DOCX (current version, or all) and the letters made for it."""
    record = ws.catalog.record(number)
    files = [f for f in ws.catalog.record_files(record["id"])
             if all_versions or f["version"] == record["current_version"]]
    letters = [path for event in ws.catalog.events(number)
               for path in event["detail"].get("written", {})]
    return [f["path"] for f in files] + letters


def _in_period(day: str, date_from: str | None, date_to: str | None) -> bool:
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def _access_event(action: str) -> bool:
    """Events of who may do what (the workspace's making, users, roles, bindings, passwords,
    approval limits), of attempts that failed (wrong passwords, lockouts, failed signatures,
    pages and steps refused) and of searches by personal data: in every pack, whatever its
    period (21 CFR 11.10(d); 11.300(d))."""
    return action.startswith("user.") or action in (
        "workspace.created", "limits.set", "login.failed", "login.locked", "signature.failed",
        "access.refused", "search.sensitive")


def _trail(ws, numbers: set[str], tombstones: list[dict]) -> list[dict]:
    """The events of the selected records, of the disposals of the period and of access
    rights, as stored."""
    lists = {t["list_number"] for t in tombstones}
    disposed = {t["number"] for t in tombstones}
    keep = numbers | disposed
    trail = []
    for row in ws.catalog.raw_events():
        event = dict(row)
        detail = json.loads(event["detail"])
        if event["record_number"] in keep or detail.get("list") in lists or \
                _access_event(event["action"]):
            trail.append(event)
    return trail


def _events_csv(events: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(_EVENT_COLUMNS)
    for event in events:
        writer.writerow([event[c] if event[c] is not None else "" for c in _EVENT_COLUMNS])
    return text.getvalue().encode("utf-8-sig")


_SIGNATURE_COLUMNS = ("event", "record", "step", "meaning", "signer", "name", "at_utc",
                      "at_local", "version_signed", "docx_sha256_signed", "demo")


def _signatures_csv(events: list[dict]) -> bytes:
    """One row per record signed by an electronic signature in `events` (21 CFR 11.50)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(_SIGNATURE_COLUMNS)
    for event in events:
        detail = json.loads(event["detail"])
        signed = detail.get("signature")
        if not signed:
            continue
        step = detail.get("transition") or detail.get("signoff") or event["action"]
        for number, version in signed["signed"].items():
            writer.writerow([event["id"], number, step, signed["meaning"], signed["signer"],
                             signed["name"], signed["at_utc"], signed["at_local"],
                             version["version"], version["docx_sha256"] or "",
                             "yes" if signed["demo"] else ""])
    return text.getvalue().encode("utf-8-sig")


def _tombstones_csv(tombstones: list[dict]) -> bytes:
    columns = ("number", "form_id", "title", "closed_on", "retention_until", "retention",
               "action", "list_number", "authorised_by", "reason", "effective_date", "at")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns + ("files",))
    for t in tombstones:
        writer.writerow([t[c] for c in columns] + [
            "; ".join(f"{digest}  {path}" for path, digest in t["files"].items())])
    return text.getvalue().encode("utf-8-sig")


def _json_bytes(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode()


def _write_zip(target: Path, members: dict, readme: str, progress) -> bytes:
    """Write the members, then MANIFEST.sha256 and README.txt, to `target`, one file in
    memory at a time; returns the manifest."""
    lines = []
    with zipfile.ZipFile(target, "w") as pack:
        for done, (name, source) in enumerate(sorted(members.items()), start=1):
            data = source() if callable(source) else source
            lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
            method = zipfile.ZIP_STORED if name.endswith(_STORED) else zipfile.ZIP_DEFLATED
            pack.writestr(name, data, method)
            if progress:
                progress(done, len(members))
        manifest = "".join(lines).encode()
        pack.writestr("MANIFEST.sha256", manifest, zipfile.ZIP_DEFLATED)
        pack.writestr("README.txt", readme.encode(), zipfile.ZIP_DEFLATED)
    return manifest


def _readme(ws, forms, date_from, date_to, all_versions, checked, actor, count) -> str:
    period = f"{date_from or '…'} to {date_to or '…'}"
    state = "通过 passed" if checked["ok"] else \
        f"未通过 FAILED, {len(checked['faults'])} faults (see verify.json)"
    demo = ("\n演示工作区 DEMONSTRATION WORKSPACE: made for demonstration or training; its "
            "documents are not records" if ws.demo else "")
    return f"""审核资料包 Audit pack
{ws.settings.organisation}  {ws.settings.organisation_en}

制作 Made: {clock.utc_now()} (effective date {clock.today().isoformat()})
制作人 By: {actor.name} ({actor.id})
表单 Forms: {', '.join(f"{f.title} ({f.id})" for f in forms)}
期间 Period (record date): {period}
记录 Records: {count}, {"every version" if all_versions else "current versions"}
完整性校验 qrec verify when made: {state}{demo}

如何核对 How to check this pack without qrecords:
    unzip pack.zip -d pack && cd pack && sha256sum -c MANIFEST.sha256
Every line must say OK. MANIFEST.sha256 lists the SHA-256 of every file in the pack except
this README and the manifest itself; the SHA-256 of the manifest is recorded in the
workspace's audit log (event audit_pack.made), so the pack can be traced to its making.

内容 Contents:
    registers/     the register 台账 of each form (XLSX and CSV, UTF-8)
    records/       the records' PDF and DOCX as issued, and the letters made for them
    audit/         the audit trail of these records and of every change of users and
                   roles: every event with its hash and the hash of the event before it
                   (the chain of the whole log is checked by qrec verify; see
                   verify.json); signatures.csv lists the electronic signatures in it
    disposals/     tombstones of records destroyed or transferred in the period (their
                   action says which), with the SHA-256 of every file destroyed or handed
                   over; the lists 记录销毁清单 DL and 记录移交清单 TL are in
                   records/disposals/
    verify.json    the result of qrec verify on the whole workspace when the pack was made
    CHAIN_HEAD.txt the audit log's chain head when the pack was made: keep the pack, and
                   `qrec verify --witness pack.zip` proves later that no event up to it was
                   changed or removed and no older catalog was put back
"""
