"""A version's documents for download (the portal's face of the records).

A user who may see personal data gets the DOCX or PDF as issued, byte for byte, checked
against the SHA-256 in the catalog. Anyone else gets a rendition of the same version with the
sensitive values masked (***) and a visible 已遮蔽 MASKED mark, made on demand from the
record's own form revision and cached under the workspace's cache/ folder (it holds no
personal data). Every download is logged (`record.downloaded`: who, which version, which
kind, masked or not, the SHA-256 given out).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TypedDict

from ..domain import access
from ..errors import IntegrityError, NotFound
from ..render.context import build_context
from ..render.docx import render_docx, with_banner
from ..workspace import Workspace

KINDS = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
MASKED_MARK = "已遮蔽 MASKED 个人信息已隐藏 personal data hidden"
DOWNLOADED = "record.downloaded"


class Download(TypedDict):
    name: str  # the file name offered: CC-2611-01_v2.pdf, or CC-2611-01_v2_masked.pdf
    media_type: str
    content: bytes
    sha256: str
    masked: bool


def download(ws: Workspace, number: str, version: int | None, kind: str) -> Download:
    """The `kind` ("pdf" or "docx") of a record's version (the current one unless `version`)
    for the acting user, logged. Raises NotFound (no such record, version or kind; a version
    without its PDF yet), Disposed, IntegrityError (the stored file does not match its
    SHA-256), PdfUnavailable or PdfFailed (503) when a masked PDF cannot be made now."""
    if kind not in KINDS:
        raise NotFound(f"no document kind '{kind}' (pdf or docx)", param="kind")
    record = ws.record_row(number)
    row = ws.version_row(record, record["current_version"] if version is None else version)
    version = row["version"]
    form, template = ws.forms.frozen(record["form_revision_id"])
    masked = bool(access.sensitive_present(form, row["data"])) and not ws.sees_personal_data()
    if masked:
        content = _masked(ws, form, template, record, row, kind)
    else:
        stored = ws.catalog.files(record["id"], version).get(kind)
        if stored is None:
            raise NotFound(f"{number} v{version} has no {kind.upper()} yet (`qrec render "
                           f"{number}` makes it)", param="kind")
        content = ws.files.read(stored["path"], stored["sha256"])
        if hashlib.sha256(content).hexdigest() != stored["sha256"]:
            raise IntegrityError(f"records/{stored['path']}: its content does not match the "
                                 "SHA-256 in the catalog; run `qrec verify`")
    digest = hashlib.sha256(content).hexdigest()
    if ws.catalog.read_only:
        ws.notices.append("the workspace is read-only: this download is not in its audit log")
    else:
        with ws.catalog.write():
            ws.log(DOWNLOADED, number, version, {"kind": kind, "masked": masked,
                                                 "sha256": digest})
    suffix = "_masked" if masked else ""
    return {"name": f"{number}_v{version}{suffix}.{kind}", "media_type": KINDS[kind],
            "content": content, "sha256": digest, "masked": masked}


def _masked(ws: Workspace, form, template: bytes, record: dict, row: dict, kind: str) -> bytes:
    """The masked rendition of a version, from the cache when made before."""
    cache = ws.root / "cache" / "masked"
    language = ws.settings.document_language
    stem = f"{record['number']}_v{row['version']}_{row['data_sha256'][:16]}" + (
        "" if language == "both" else f"_{language}")
    cached = cache / f"{stem}.{kind}"
    if cached.exists():
        return cached.read_bytes()
    context = build_context(form, access.masked(form, row["data"]),
                            org=ws.settings.organisation, org_en=ws.settings.organisation_en,
                            number=record["number"], version=row["version"],
                            status=row["status"], date=row["effective_date"],
                            language=language)
    docx = ws.document(with_banner(render_docx(template, context, f"templates/{form.template}",
                                               language=language), MASKED_MARK))
    content = docx if kind == "docx" else _pdf(docx, form, record, row)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".part") as out:
        out.write(content)
    Path(out.name).replace(cached)  # whole or not at all, for a concurrent reader
    return content


def _pdf(docx: bytes, form, record: dict, row: dict) -> bytes:
    from ..render.finish import watermark_for
    from ..render.pdf import make_pdf

    with tempfile.TemporaryDirectory(prefix="qrec-masked-") as temp:
        path = Path(temp) / f"{record['number']}_v{row['version']}.docx"
        path.write_bytes(docx)
        return make_pdf(path, watermark_for(form.workflow.state(row["status"])),
                        {"Title": f"{form.title} {record['number']} "
                                  f"v{row['version']} ({MASKED_MARK})", "Creator": "qrecords"})


def letters(ws: Workspace, number: str) -> list[dict]:
    """The letters made for a record (notices a step produced, reminders): [{key, name,
    kind}] in the order they were made. Raises NotFound, Disposed."""
    ws.record_row(number)
    found = []
    for event in ws.catalog.events(number):
        for key in event["detail"].get("written", {}):
            found.append({"key": key, "name": key.rsplit("/", 1)[-1],
                          "kind": key.rsplit(".", 1)[-1], "made_at": event["at"]})
    return found


def letter(ws: Workspace, number: str, key: str) -> Download:
    """One letter of a record, as stored (letters mask sensitive values when made), logged.
    Raises NotFound for a key the record's events do not name (no other file is reachable
    this way), IntegrityError for a file that does not match its SHA-256."""
    written = {k: v for e in ws.catalog.events(number)
               for k, v in e["detail"].get("written", {}).items()}
    if key not in written:
        raise NotFound(f"{number} has no letter '{key}'", param="key")
    content = ws.files.read(key, written[key])
    digest = hashlib.sha256(content).hexdigest()
    if digest != written[key]:
        raise IntegrityError(f"records/{key}: its content does not match the SHA-256 in the "
                             "catalog; run `qrec verify`")
    kind = key.rsplit(".", 1)[-1]
    if not ws.catalog.read_only:
        with ws.catalog.write():
            ws.log(DOWNLOADED, number, None, {"kind": kind, "letter": key, "masked": False,
                                              "sha256": digest})
    return {"name": key.rsplit("/", 1)[-1], "media_type": KINDS.get(kind, "application/"
                                                                     "octet-stream"),
            "content": content, "sha256": digest, "masked": False}
