"""Storing a version and showing a record: the machinery every record verb shares.

A version is stored in one catalog transaction with its DOCX (rendered from the record's own
form revision, put in the file store and hashed), its chained event and the record's derived
columns (title, closure, retention). The PDF follows the commit (api/pdfs.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from .. import clock
from ..catalog.base import canonical_json
from ..domain import access, retention, workflow_rules
from ..text_rules import control_character
from ..domain.forms import Form
from ..errors import FormError, QrecError, ValidationError
from ..faults import fault_point
from ..files.base import sha256_bytes
from ..workspace import Workspace
from .anchors import version_anchor
from .keys import version_key
from .verify_forms import FROZEN, revision_sha256

# The renderers (docx, zipfile, subprocess, LibreOffice's finder) and the form checks are
# imported by the functions that write a version: `qrec show` and the other reads, which
# import this module for record_view, never load them (issue 20: a cold command costs its
# work, not its imports; tests/test_cold_start.py).


class RecordFiles(TypedDict):
    docx: str | None  # where the user finds it (an absolute path, or a URL)
    pdf: str | None  # None while the version has no PDF


class RecordView(TypedDict):
    """A record as the CLI contract's `--json` shows it (DESIGN.md)."""

    number: str
    form: str
    form_title: str
    form_number: str
    form_revision: str
    version: int
    current_version: int
    status: str
    status_label: str
    title: str
    created_at: str
    version_created_at: str
    effective_date: str
    author: str
    reason: str | None
    data: dict
    data_sha256: str | None  # None for a user who may not see every value it covers
    files: RecordFiles
    due_date: str | None
    holder: str | None        # the department holding an open case: its id
    holder_label: str | None  # ... and its name (qrecords.yaml departments)
    closed_on: str | None
    retention_from: str | None
    retention_until: str | None
    retention: str
    hold: bool


def free_text(text: str | None, param: str) -> str | None:
    """A reason or comment, stripped (None when empty); one with a control character is
    refused: it is kept in the history and printed at terminals."""
    text = (text or "").strip() or None
    if text and control_character(text):
        raise QrecError(f"含控制字符 contains the control character {control_character(text)}",
                        param=param)
    return text


def freeze_revision(ws: Workspace, form: Form, template: bytes) -> int:
    """The catalog's copy of this form revision (inside catalog.write()); made by its first
    record. A revision that changed after records were made with it is refused: it needs a
    new revision label (ISO 9001 7.5.3: changes to controlled documents are controlled)."""
    from .form_check import frozen_problem, template_problems, trial_problems

    digest = revision_sha256(form.source, template)
    frozen = ws.catalog.form_revision(form.id, form.revision)
    if frozen is None:
        # Frozen for good by its first record or controlled copy: a template that does not
        # fit the schema (a foreign DOCX, a typo in a placeholder) or fails on real data (a
        # filter the trial fill-in of `forms check` breaks) would print records wrongly.
        problems = template_problems(form, template)
        if problems:
            where = f"templates/{form.template}: "
            shown = "; ".join(p.removeprefix(where) for p in problems[:3])
            more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
            raise FormError(f"{where}模板与表单不符 does not fit form {form.id} rev "
                            f"{form.revision}: {shown}{more} (`qrec forms check {form.id}` "
                            "lists them)")
        failed = trial_problems(ws, form, template)
        if failed:
            more = f"; and {len(failed) - 1} more" if len(failed) > 1 else ""
            raise FormError(f"{failed[0]}{more}: 未冻结 nothing frozen "
                            f"(`qrec forms check {form.id}`)")
        revision_id = ws.catalog.add_form_revision(form.id, form.revision, form.source,
                                                   template, digest, clock.utc_now())
        # Chained, so an edit of the frozen schema or template is seen (verify_forms.py).
        ws.log(FROZEN, None, None, {"form": form.id, "revision": form.revision,
                                    "revision_id": revision_id, "sha256": digest})
        ws.forms.remember(revision_id, form, template)
        return revision_id
    problem = frozen_problem(ws, form, template, frozen)
    if problem:
        raise FormError(problem)
    ws.forms.remember(frozen["id"], form, template)
    return frozen["id"]


class Draft(TypedDict):
    """A version's DOCX rendered before the catalog's write lock is taken (render_draft),
    with a stand-in where the record number goes: store_version stamps the number in."""

    docx: bytes
    mark: str  # the stand-in (render.docx.number_mark)
    at: str  # the version's time, which the document's properties carry (UTC ISO 8601)


def render_version(ws: Workspace, form: Form, template: bytes, number: str, version: int,
                   state: str, data: dict, day: dt.date, at: str) -> bytes:
    """The DOCX of version `version` of record `number` in state `state`, made at `at` (UTC
    ISO 8601) on the effective date `day`: the record's form revision's template filled
    in, its document properties set, 作废 VOID and 演示 DEMO marks added where they belong.
    Raises FormError for a template that does not render."""
    from ..render.context import build_context
    from ..render.docx import render_docx, version_properties, with_banner
    from ..render.finish import VOID_MARK

    context = build_context(form, data, org=ws.settings.organisation,
                            org_en=ws.settings.organisation_en, number=number,
                            version=version, status=state, date=day.isoformat(),
                            language=ws.settings.document_language)
    properties = version_properties(form, number=number, version=version, status=state,
                                    organisation=ws.settings.organisation, user=ws.actor, at=at)
    content = render_docx(template, context, f"templates/{form.template}", properties,
                          ws.settings.document_language)
    if form.workflow.state(state).void:  # 作废 VOID on every page, as on the PDF
        content = with_banner(content, VOID_MARK)
    return ws.document(content)


def render_draft(ws: Workspace, form: Form, template: bytes, version: int, state: str,
                 data: dict, day: dt.date) -> Draft | None:
    """The DOCX of a version whose record number is not known yet (a new record: the number
    is reserved under the catalog's write lock, which is not held while this renders), made
    now. None when the template does not render: store_version then renders it under the
    lock, after freeze_revision has said what is wrong with the template."""
    from ..render.docx import number_mark

    at, mark = clock.utc_now(), number_mark()
    try:
        content = render_version(ws, form, template, mark, version, state, data, day, at)
    except FormError:
        return None
    return {"docx": content, "mark": mark, "at": at}


class Stored(TypedDict):
    """What store_version wrote: the record row, version row and file rows as they now are
    in the catalog (so that what follows reads nothing back)."""

    record: dict  # RecordRow
    row: dict  # VersionRow
    files: dict  # {kind: FileRow}


def store_version(ws: Workspace, form: Form, template: bytes, record: dict, version: int,
                  state: str, data: dict, reason: str | None, day: dt.date, action: str,
                  detail: dict | None = None, logged_on: dt.date | None = None,
                  draft: Draft | None = None) -> Stored:
    """Render and store version `version` of `record` (a RecordRow, or for a new record the
    row as it will be) in state `state`, with its DOCX, file row, event and the record's
    derived columns; inside catalog.write(). `day` is the version's effective date, and the
    event's unless `logged_on` (an imported record: dated as it was, imported today).
    `draft` (render_draft, made before the write began with these same arguments) is the
    DOCX with the number still to stamp in, and the version's time: nothing is rendered
    under the lock. Returns what it stored."""
    from ..render.docx import stamp_number
    from ..render.glyphs import glyph_notices

    today, number = day.isoformat(), record["number"]
    closed_on = record["closed_on"]
    if closed_on is None and not form.workflow.is_open(state):
        closed_on = today
    early = closed_on and not form.workflow.state(state).void and \
        workflow_rules.closed_too_early(form, data, closed_on)
    if early:
        raise ValidationError([early if version == 1 else f"{number}: {early}"])
    if draft is not None:
        now = draft["at"]
        content = stamp_number(draft["docx"], draft["mark"], number)
    else:
        now = clock.utc_now()
        content = render_version(ws, form, template, number, version, state, data, day, now)
    key = version_key(form.id, number, version)
    first = None if version == 1 else ws.catalog.version(record["id"], 1)
    created_on = today if first is None else first["effective_date"]
    digest = ws.put_file(key, content, retention.earliest_end(
        form.retention, created_on, data if first is None else first["data"]))
    fault_point("version.after_docx")
    data_sha = sha256_bytes(canonical_json(data).encode())
    void = form.workflow.state(state).void
    # A void record's period runs from the void date, not from an earlier closure (a record
    # final when made, or imported closed): the first void version's date, or for a record
    # imported void the void date its ledger gives (its closing date here, as derive() reads
    # it from the record.imported event).
    voided_on = None
    if void:
        was_void = record.get("status") and form.workflow.state(record["status"]).void
        voided_on = record["retention_from"] if was_void else \
            record["closed_on"] if version == 1 and record["closed_on"] else today
    start, until = retention.until(form.retention, voided_on or closed_on, created_on, data,
                                   void=void)
    derived = {"title": form.title_of(data), "closed_on": closed_on, "retention_from": start,
               "retention_until": until}
    row = {"record_id": record["id"], "version": version, "status": state, "data": data,
           "data_sha256": data_sha, "created_at": now, "effective_date": today,
           "author": ws.actor.id, "reason": reason}
    ws.catalog.add_version(record["id"], version, state, data, data_sha, now, today,
                           ws.actor.id, reason, derived,
                           sensitive=access.sensitive_values(form, data))
    ws.catalog.add_file(record["id"], version, "docx", key, digest, len(content), now)
    # Every column of the version row, and a new record's form revision, in the chained
    # event: a row edited with its trigger dropped no longer matches it (api/anchors.py).
    anchored = {"version_row": version_anchor(state, today, ws.actor.id, reason, now)}
    if version == 1:
        revision = ws.catalog.form_revision_by_id(record["form_revision_id"])
        anchored["form_revision"] = {"id": revision["id"], "sha256": revision["sha256"]}
    ws.touch(number)  # its objects' locks follow it when the work ends
    ws.catalog.add_event(now, (logged_on or day).isoformat(), ws.actor.id, action, number,
                         version,
                         ws.authority({"reason": reason, "data_sha256": data_sha,
                                       "files": {"docx": digest}, **(detail or {}),
                                       **anchored}))
    ws.notices += glyph_notices(form, data, f"{number} v{version}")
    files = {"docx": {"record_id": record["id"], "version": version, "kind": "docx",
                      "path": key, "sha256": digest, "size": len(content), "created_at": now}}
    return {"record": {**record, **derived, "current_version": version, "status": state},
            "row": row, "files": files}


def after_change(ws: Workspace, stored: Stored, pdf: bool, point: str) -> None:
    """What follows every committed version: its PDF now (its file row added to `stored`);
    the index when the work ends."""
    from .pdfs import try_pdf

    fault_point(point)
    ws.mark_index_behind()
    if pdf:
        made = try_pdf(ws, stored)
        if made is not None:
            stored["files"]["pdf"] = made


def visible_data(ws: Workspace, form: Form, data: dict, number: str, version: int) -> dict:
    """`data` as the actor may see it: sensitive values masked for users without the privacy
    role; for a privacy user, the read of them is logged (`record.sensitive_read`)."""
    sensitive = access.sensitive_present(form, data)
    if not sensitive:
        return data
    if ws.sees_personal_data():
        with ws.catalog.write():
            ws.log("record.sensitive_read", number, version, {"fields": sensitive})
        return data
    return access.masked(form, data)


def record_view(ws: Workspace, number: str, version: int | None = None,
                own_input: bool = False, stored: Stored | None = None) -> RecordView:
    """The record (its current version unless `version`) as RecordView, read from the
    catalog, or from `stored` (what a verb has just stored: nothing is read back). `own_input`
    is the echo of a new record, all typed by the actor: shown as typed, not logged as a read.
    Raises NotFound, Disposed."""
    if stored is not None:
        record, row, files = stored["record"], stored["row"], stored["files"]
        wanted = row["version"]
    else:
        record = ws.record_row(number)
        wanted = version or record["current_version"]
        row = ws.version_row(record, wanted)
        files = ws.catalog.files(record["id"], wanted)
    form, _ = ws.forms.frozen(record["form_revision_id"])
    data = row["data"] if own_input else visible_data(ws, form, row["data"], number, wanted)
    # The data hash covers sensitive values too: an unkeyed SHA-256 lets a dictionary of
    # common names and numbers recover a masked value, so only a user who may see them all
    # is given it (issue 14, line 6).
    seen_whole = own_input or not access.sensitive_present(form, row["data"]) or \
        ws.sees_personal_data()
    flow = form.workflow
    due = workflow_rules.due_date(flow, row["data"])
    holder = workflow_rules.holder(flow, row["status"], row["data"]) \
        if flow.is_open(row["status"]) else None
    return {
        "number": number,
        "form": form.id,
        "form_title": str(form.title),
        "form_number": form.form_number,
        "form_revision": form.revision,
        "version": wanted,
        "current_version": record["current_version"],
        "status": row["status"],
        "status_label": flow.label(row["status"]),
        "title": form.title_of(data),
        "created_at": record["created_at"],
        "version_created_at": row["created_at"],
        "effective_date": row["effective_date"],
        "author": row["author"],
        "reason": row["reason"],
        "data": data,
        "data_sha256": row["data_sha256"] if seen_whole else None,
        "files": {kind: ws.files.location(files[kind]["path"]) if kind in files else None
                  for kind in ("docx", "pdf")},
        "due_date": due.isoformat() if due else None,
        "holder": holder,
        "holder_label": ws.settings.department(holder) if holder else None,
        "closed_on": record["closed_on"],
        "retention_from": record["retention_from"],
        "retention_until": record["retention_until"],
        "retention": retention.explain(form.retention, record["retention_from"],
                                       void=flow.state(record["status"]).void)
        if record["retention_from"] else f"{form.retention.text} from "
        f"{form.retention.runs_from}",
        "hold": bool(record["on_hold"]),
    }
