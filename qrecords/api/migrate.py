"""`qrec migrate`: copy an embedded workspace (SQLite and records/) into a shared archive
(PostgreSQL and/or S3), every form revision, record, version, file, event, counter and
tombstone, the users (roles, password hashes, bound accounts) and the workspace's facts (its
id, whether it is a demonstration), verified before and after. Login sessions are not
copied: each person logs in to the shared archive again.

Order: the source must verify; the target catalog must be empty (no form revision, record,
event or tombstone) and so must the store, but for objects an interrupted migration of this
workspace left (killed before its catalog transaction committed: the catalog is empty, the
objects are under a legal hold nobody can lift early): each one that is one of this
workspace's keys with the same SHA-256 is taken over, any other object is refused; every
other object is written and read back first (objects before the catalog commits, as
everywhere); then one catalog transaction
copies the rows, events by `copy_event` so the chain is the same chain; then the target is
checked: the same chain head, the same counts, every file row's object read back with the
same SHA-256. Last, the objects are locked as their records stand.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable, TypedDict

from .. import clock
from ..catalog import open_catalog
from ..domain.access import CONTROLLER
from ..errors import Conflict, IntegrityError
from ..files import open_file_store
from ..workspace import Workspace, protect_records
from . import verify as verify_api


WORKSPACE_FACTS = ("workspace_id", "demo", "users_seed_sha256")


class Migrated(TypedDict):
    catalog: str
    files: str
    records: int
    versions: int
    files_copied: int
    events: int
    tombstones: int
    chain_head: str | None


def migrate(ws: Workspace, catalog_url: str, files_url: str, endpoint: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> Migrated:
    """Copy the workspace `ws` into the catalog at `catalog_url` and the file store at
    `files_url` (S3 at `endpoint`). `progress(done, total)` counts objects, then records.
    Raises Forbidden (document controller only), IntegrityError (the source does not verify,
    or the copy differs), Conflict (the target is not empty), WorkspaceError (a target cannot
    be reached)."""
    ws.require_role(CONTROLLER, "migrating the archive")
    checked = verify_api.verify(ws)
    if not checked["ok"]:
        raise IntegrityError(f"the workspace does not verify ({len(checked['faults'])} "
                             "faults); run `qrec verify` and repair it before migrating")
    source = ws.catalog
    target = open_catalog(catalog_url)
    try:
        store = open_file_store(files_url, ws.root / "debris", (), endpoint, ws.settings.temp)
        store.ready()  # reachable, before the target catalog is looked at
        _refuse_non_empty_catalog(target, catalog_url)
        with source.read():
            rows = {table: source.rows(table) for table in ("records", "versions", "files")}
            rows["sensitive_values"] = source.sensitive_rows()
            events, tombstones = source.raw_events(), source.tombstones()
            counters, head = source.counters(), source.chain_head()
            identity = {"facts": {key: source.meta_value(key) for key in WORKSPACE_FACTS},
                        "users": source.users()}
            revisions = [source.form_revision_by_id(i) for i in source.form_revision_ids()]
        keys = sorted({row["path"]: row["sha256"] for row in rows["files"]}.items())
        written = _written(events)
        objects = keys + sorted(written.items())
        there = _taken_over(store, dict(objects), files_url)
        total = len(objects) + len(rows["records"])
        for done, (key, digest) in enumerate(objects, start=1):
            if key not in there and store.put(key, ws.files.read(key)) != digest:
                raise IntegrityError(f"records/{key}: its content does not match its SHA-256")
            if progress:
                progress(done, total)
        with target.write() as tx:
            _copy_identity(tx, identity)
            _copy_rows(tx, revisions, rows, counters, events, tombstones, progress,
                       len(objects), total)
        _check_copy(target, store, rows, events, tombstones, head, keys)
        protect_records(target, store, [row["number"] for row in rows["records"]])
        return Migrated(catalog=catalog_url, files=files_url, records=len(rows["records"]),
                        versions=len(rows["versions"]), files_copied=len(objects),
                        events=len(events), tombstones=len(tombstones), chain_head=head)
    finally:
        target.close()


def _refuse_non_empty_catalog(target, catalog_url: str) -> None:
    if target.form_revision_ids() or target.record_numbers() or target.chain_head() or \
            target.tombstones():
        raise Conflict(f"catalog {catalog_url}: not empty; qrec migrate fills an empty "
                       "catalog only (if a migrate of this workspace was cut off after its "
                       "copy committed, `qrec init` a workspace on the target and run `qrec "
                       "verify --repair` there)", param="catalog")


def _taken_over(store, objects: dict[str, str], files_url: str) -> set[str]:
    """The keys already in the target store, each one of `objects` ({key: SHA-256}, what
    this migration writes) read back with its SHA-256: what an interrupted migration of this
    workspace wrote (locked, so they could not be removed), taken over rather than written
    again. Raises Conflict for any other object, or one whose content differs."""
    there = set()
    for key in store.keys():
        if key not in objects:
            raise Conflict(f"files {files_url}: not empty ({key} is not one of this "
                           "workspace's files); qrec migrate fills an empty store only, or "
                           "takes over what an interrupted migrate of this workspace wrote",
                           param="files")
        if hashlib.sha256(store.read(key)).hexdigest() != objects[key]:
            raise Conflict(f"files {files_url}: {key} is there with another SHA-256 than "
                           "this workspace's; qrec migrate fills an empty store only",
                           param="files")
        there.add(key)
    return there


def _written(events: list[dict]) -> dict[str, str]:
    """{key: SHA-256} of the files events name under `written` (letters, lists, reports)."""
    found: dict[str, str] = {}
    for event in events:
        found.update(json.loads(event["detail"]).get("written", {}))
    return found


def _copy_identity(tx, identity: dict) -> None:
    for key, value in identity["facts"].items():
        if value is not None:
            tx.set_meta(key, value)
    for user in identity["users"]:
        tx.save_user(user)


def _copy_rows(tx, revisions, rows, counters, events, tombstones, progress, done, total):
    revision_ids = {}
    for revision in revisions:
        revision_ids[revision["id"]] = tx.add_form_revision(
            revision["form_id"], revision["revision"], revision["schema_text"],
            bytes(revision["template"]), revision["sha256"], clock.utc_now())
    for (counter, period), last in counters.items():
        tx.set_counter(counter, period, last)
    versions: dict[int, list[dict]] = {}
    for row in rows["versions"]:
        versions.setdefault(row["record_id"], []).append(row)
    sensitive: dict[tuple[int, int], dict[str, str]] = {}
    for row in rows["sensitive_values"]:
        sensitive.setdefault((row["record_id"], row["version"]), {})[row["field"]] = \
            row["folded"]
    files: dict[tuple[int, int], list[dict]] = {}
    for row in rows["files"]:
        files.setdefault((row["record_id"], row["version"]), []).append(row)
    for n, record in enumerate(rows["records"], start=done + 1):
        new_id = tx.add_record(record["number"], record["form_id"],
                               revision_ids[record["form_revision_id"]], record["created_at"],
                               record["created_by"], record["status"])
        for version in sorted(versions.get(record["id"], []), key=lambda v: v["version"]):
            tx.add_version(new_id, version["version"], version["status"],
                           _decode(version["data"]), version["data_sha256"],
                           version["created_at"], version["effective_date"],
                           version["author"], version["reason"],
                           sensitive=sensitive.get((record["id"], version["version"]), {}))
            for file in files.get((record["id"], version["version"]), []):
                tx.add_file(new_id, file["version"], file["kind"], file["path"],
                            file["sha256"], file["size"], file["created_at"])
        tx.set_retention(new_id, record["title"], record["closed_on"],
                         record["retention_from"], record["retention_until"])
        if record["on_hold"]:
            tx.set_hold(new_id, True)
        if progress:
            progress(n, total)
    for event in events:
        tx.copy_event(event)
    for tombstone in tombstones:
        tx.add_tombstone(tombstone)


def _decode(data):
    return json.loads(data) if isinstance(data, str) else data


def _check_copy(target, store, rows, events, tombstones, head, keys) -> None:
    """The copy has the same chain head, counts and file hashes (read back)."""
    problems = []
    if target.chain_head() != head:
        problems.append(f"chain head {target.chain_head()} is not {head}")
    for table in ("records", "versions", "files"):
        if len(target.rows(table)) != len(rows[table]):
            problems.append(f"{len(target.rows(table))} {table}, not {len(rows[table])}")
    if len(target.raw_events()) != len(events) or len(target.tombstones()) != len(tombstones):
        problems.append("events or tombstones differ in number")
    for key, digest in keys:
        if hashlib.sha256(store.read(key)).hexdigest() != digest:
            problems.append(f"{key}: read back with another SHA-256")
    if problems:
        raise IntegrityError("the copy differs from the workspace: " + "; ".join(problems))
