"""PDF verbs: the PDFs of versions and letters, made from their DOCX by LibreOffice.

A PDF is derived: it is made after the catalog commits the DOCX, outside the write lock (a
conversion takes a second), then stored under the lock unless another process stored one
first. A missing or failing LibreOffice is a notice, never a lost record: `render` and
`render_all` make what is missing later, and never replace a PDF that exists.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Callable, TypedDict

from .. import clock
from ..domain import access
from ..render.finish import watermark_for
from ..render.pdf import ConverterPool, PdfFailed, PdfUnavailable, make_pdf
from ..faults import fault_point
from ..workspace import Workspace
from ..files.local import sha256_bytes
from .keys import pdf_key, version_key


class MissingPdf(TypedDict):
    number: str
    form_id: str
    version: int
    status: str
    status_label: str


class Rendered(TypedDict, total=False):
    number: str
    version: int
    made: bool  # False when the PDF existed already
    pdf: str  # where it is
    error: str  # only when LibreOffice could not convert it


def missing_pdfs(ws: Workspace) -> list[MissingPdf]:
    """Versions that have no PDF yet, oldest record first."""
    return [{**row, "status_label": ws.forms.status_label(row["form_id"], row["status"])}
            for row in ws.catalog.versions_lacking("pdf")]


def render(ws: Workspace, number: str, version: int | None = None) -> Rendered:
    """Make the PDF of a version (the current one unless `version`) if it is missing, and of
    the documents its step produced. Raises NotFound, PdfUnavailable, PdfFailed."""
    record = ws.record_row(number)
    version = version or record["current_version"]
    ws.version_row(record, version)
    made = _make(ws, number, version)
    for produced in _produced_lacking_pdf(ws, number, version):
        produced_pdf(ws, produced, number, version)
    key = ws.catalog.files(record["id"], version)["pdf"]["path"]
    return {"number": number, "version": version, "made": made, "pdf": ws.files.location(key)}


def _produced_lacking_pdf(ws: Workspace, number: str, version: int) -> list[dict]:
    """The documents a version's step produced whose PDF no event logs (it failed then, or
    the command was killed before logging it)."""
    logged = ws.catalog.written_files(number)
    return [e["detail"]["produced"] for e in ws.catalog.events(number)
            if e["version"] == version and "produced" in e["detail"]
            and pdf_key(e["detail"]["produced"]["docx"]) not in logged]


def try_pdf(ws: Workspace, stored: dict) -> dict | None:
    """The PDF of a just-stored version (`stored`, as store_version returned it): its file
    row, or None when none was made. A missing or failing LibreOffice becomes a notice (once
    per unit of work), never a lost record."""
    if ws.pdf_unavailable:
        return None
    number, version = stored["record"]["number"], stored["row"]["version"]
    form, _ = ws.forms.frozen(stored["record"]["form_revision_id"])
    job = _job_of(ws, form, stored["record"]["id"], number, stored["row"],
                  stored["files"]["docx"]["path"])
    try:
        with ws.files.local_path(job["docx_key"]) as docx:
            content = make_pdf(docx, job["mark"], job["metadata"])
        return _store(ws, job, content)
    except PdfUnavailable as exc:
        ws.pdf_unavailable = True
        ws.notices.append(f"no PDF made: {exc}. The DOCX is stored; make the PDFs later "
                          "with `qrec render --all`")
    except Exception as exc:  # the version is stored; its PDF can always be made later
        ws.notices.append(f"{number} v{version}: no PDF made: {exc}; retry with "
                          f"`qrec render {number} --version {version}`")
    return None


def render_all(ws: Workspace, progress: Callable[[Rendered], None] | None = None
               ) -> list[Rendered]:
    """Make every missing PDF, converting on up to two LibreOffice processes at once (the
    catalog is written from this thread only). `progress(item)` is called per version.
    Versions LibreOffice cannot convert are returned with an `error`."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [job for job in (_job(ws, m["number"], m["version"]) for m in missing_pdfs(ws))
            if job]
    results: list[Rendered] = []
    with ConverterPool(workers=min(2, os.cpu_count() or 1)) as pool, \
            ThreadPoolExecutor(pool.workers) as threads:
        def convert(job: dict) -> bytes:
            with ws.files.local_path(job["docx_key"]) as docx:
                return pool.make({**job, "docx": docx})

        futures = [threads.submit(convert, job) for job in jobs]
        try:
            for job, future in zip(jobs, futures):
                item: Rendered = {"number": job["number"], "version": job["version"]}
                try:
                    item["made"] = _store(ws, job, future.result()) is not None
                    item["pdf"] = ws.files.location(job["key"])
                except PdfFailed as exc:
                    item["error"] = str(exc)
                results.append(item)
                if progress:
                    progress(item)
        except BaseException:  # Ctrl-C or a failure: do not convert what is queued
            threads.shutdown(wait=False, cancel_futures=True)
            raise
    return results


def _make(ws: Workspace, number: str, version: int) -> bool:
    """Convert and finish outside the write lock (slow), then store. True when made."""
    job = _job(ws, number, version)
    if job is None:
        return False
    with ws.files.local_path(job["docx_key"]) as docx:
        content = make_pdf(docx, job["mark"], job["metadata"])
    return _store(ws, job, content) is not None


def _job(ws: Workspace, number: str, version: int) -> dict | None:
    """What making a version's PDF needs; None when it has one already."""
    record = ws.record_row(number)
    files = ws.catalog.files(record["id"], version)
    if "pdf" in files:
        return None
    form, _ = ws.forms.frozen(record["form_revision_id"])
    return _job_of(ws, form, record["id"], number, ws.catalog.version(record["id"], version),
                   files["docx"]["path"])


def _job_of(ws: Workspace, form, record_id: int, number: str, row: dict,
            docx_key: str) -> dict:
    version = row["version"]
    org = ws.settings.organisation
    metadata = {
        "Title": f"{form.title} {number} v{version}",
        "Subject": f"{form.form_number} rev {form.revision}",
        "Author": org, "Creator": "qrecords",
        "RecordNumber": number, "Version": str(version), "FormNumber": form.form_number,
        "FormRevision": form.revision, "Organisation": org,
        "Status": row["status"],
    }
    if not access.sensitive_present(form, row["data"]):  # else it would reveal them
        metadata["DataSHA256"] = row["data_sha256"]
    return {"number": number, "version": version, "record_id": record_id,
            "mark": watermark_for(form.workflow.state(row["status"])), "metadata": metadata,
            "docx_key": docx_key, "key": version_key(form.id, number, version, "pdf")}


def _store(ws: Workspace, job: dict, content: bytes) -> dict | None:
    """Store a made PDF under the write lock, unless another process stored one first.
    Returns its file row, None when one was there."""
    with ws.write():
        if "pdf" in ws.catalog.files(job["record_id"], job["version"]):
            return None
        digest = ws.put_file(job["key"], content, ws.keep_until(job["number"]))
        fault_point("pdf.after_write")
        now = clock.utc_now()
        ws.catalog.add_file(job["record_id"], job["version"], "pdf", job["key"], digest,
                            len(content), now)
        ws.log("file.pdf_made", job["number"], job["version"], {"files": {"pdf": digest}})
    return {"record_id": job["record_id"], "version": job["version"], "kind": "pdf",
            "path": job["key"], "sha256": digest, "size": len(content), "created_at": now}


# -- letters, lists and reports: documents beside the records ------------------------------


def produced_pdf(ws: Workspace, produced: dict, number: str, version: int) -> None:
    """The PDF of a document a step produced, made and logged (a notice when it fails)."""
    log_letter_pdf(ws, produced["docx"], produced["title"],
                   f"qrec render {number} --version {version}", number, version,
                   {"document": produced["document"]})


def letter_pdf(ws: Workspace, docx_key: str, title: str, number: str,
               retry: str) -> str | None:
    """Make and store the PDF beside a letter's DOCX (a produced document, a reminder, a
    list, a report); returns its SHA-256, or None with a notice naming `retry` (how to make
    it later) when LibreOffice cannot."""
    content = _letter_pdf_bytes(ws, docx_key, title, number, retry)
    if content is None:
        return None
    digest = ws.files.put(pdf_key(docx_key), content, ws.keep_until(number))
    fault_point("letter.after_pdf")
    return digest


def _letter_pdf_bytes(ws: Workspace, docx_key: str, title: str, number: str,
                      retry: str) -> bytes | None:
    """The PDF of a letter's DOCX, made by LibreOffice outside any lock; None with a notice
    naming `retry` when LibreOffice cannot."""
    try:
        with ws.files.local_path(docx_key) as docx:
            return make_pdf(docx, None, {"Title": f"{title} {number}",
                                         "RecordNumber": number,
                                         "Organisation": ws.settings.organisation})
    except (PdfUnavailable, PdfFailed) as exc:
        name = PurePosixPath(docx_key).name
        ws.notices.append(f"{name}: no PDF made: {exc}; `{retry}` makes it later")
        return None


def log_letter_pdf(ws: Workspace, docx_key: str, title: str, retry: str,
                   number: str | None, version: int | None, detail: dict) -> str | None:
    """Make the PDF beside a letter's DOCX and log it as `file.pdf_made` (the event names the
    file under `written`); returns its SHA-256, or None with a notice. `number` is the record
    it belongs to, None for a list or report (their own number is the file's stem)."""
    content = _letter_pdf_bytes(ws, docx_key, title, number or PurePosixPath(docx_key).stem,
                                retry)
    if content is None:
        return None
    key = pdf_key(docx_key)
    with ws.write():  # stored and logged under one lock: a second maker reuses
        if key in ws.catalog.written_files(number):
            return sha256_bytes(ws.files.read(key))
        digest = ws.put_file(key, content, ws.keep_until(number))
        fault_point("letter.after_pdf")
        ws.log("file.pdf_made", number, version,
               {**detail, "files": {"pdf": digest}, "written": {key: digest}})
    return digest
