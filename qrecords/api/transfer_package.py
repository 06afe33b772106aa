"""The package a transfer 移交 hands to the archive: `transfers/<list number>/` in the
workspace folder, holding per record its files (every version's DOCX and PDF, the documents
made for it) and its catalog rows as JSON (record, versions, events), then a copy of the
transfer list's DOCX and `MANIFEST.sha256` (`sha256sum -c` format) over all of it.

Written inside the transfer's catalog transaction, before the records' rows go, each file
atomically and read-only (files/local.py write_immutable); on failure the transfer removes
them (api/disposition.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path, PurePosixPath

from ..errors import IntegrityError
from ..files import FileMissing
from ..files.local import write_immutable
from ..workspace import Workspace

FOLDER = "transfers"  # in the workspace folder, beside records/ (not in the file store)


def folder_of(ws: Workspace, list_number: str) -> Path:
    """The package's folder in the workspace."""
    return ws.root / FOLDER / list_number


def copy_records(ws: Workspace, plan: list[dict], list_number: str) -> list[Path]:
    """Copy each planned record (api/disposition.py's items: number, files {key: sha256})
    into the package: its files, each checked against its SHA-256, and `<number>.json` with
    its record row, versions and events. Returns the paths written. Raises IntegrityError
    for a file missing or altered."""
    folder = folder_of(ws, list_number)
    if folder.exists():  # the list number is not committed (we hold the write lock): what is
        shutil.rmtree(folder)  # there is debris of a transfer killed before its commit
    written: list[Path] = []
    try:
        for item in plan:
            target = folder / item["number"]
            for key, digest in item["files"].items():
                content = _intact(ws, item["number"], key, digest)
                written.append(target / PurePosixPath(key).name)
                write_immutable(written[-1], content)
            record = ws.catalog.record(item["number"])
            export = {"record": record, "versions": ws.catalog.versions(record["id"]),
                      "events": ws.catalog.events(item["number"]), "files": item["files"]}
            written.append(target / f"{item['number']}.json")
            write_immutable(written[-1], json.dumps(export, ensure_ascii=False, indent=1,
                                                    default=str).encode())
    except BaseException:  # nothing of a failed transfer stays behind
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return written


def _intact(ws: Workspace, number: str, key: str, digest: str) -> bytes:
    """A file handed over, as the catalog knows it. Raises IntegrityError when it is missing
    or altered: an archive is never given a damaged record (nor is it then removed here)."""
    try:
        content = ws.files.read(key, digest)  # under a delete marker too
    except FileMissing:
        content = None
    if content is None or hashlib.sha256(content).hexdigest() != digest:
        state = "missing" if content is None else "altered (its SHA-256 differs)"
        raise IntegrityError(f"{number}: records/{key} is {state}; nothing was transferred "
                             "(`qrec verify` names every fault)")
    return content


def seal(ws: Workspace, list_number: str, list_key: str,
         copied: list[Path]) -> tuple[list[Path], dict]:
    """Put a copy of the list (`list_key` in the file store) in the package and write its
    MANIFEST.sha256 over it and the `copied` files. Returns (the paths written, {folder: the
    package's path relative to the workspace, manifest_sha256})."""
    folder = folder_of(ws, list_number)
    copy = folder / PurePosixPath(list_key).name
    write_immutable(copy, ws.files.read(list_key))
    lines = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  "
             f"{path.relative_to(folder).as_posix()}\n" for path in sorted([*copied, copy])]
    manifest = "".join(lines).encode()
    write_immutable(folder / "MANIFEST.sha256", manifest)
    return [copy, folder / "MANIFEST.sha256"], {
        "folder": f"{FOLDER}/{list_number}",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest()}
