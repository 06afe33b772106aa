"""verify: the stored files against what the catalog expects, the tombstones, and debris."""

from __future__ import annotations

import hashlib

from ..files import FileMissing, FileStore


def check_tombstones(ws, tombstones: dict, events: list[dict], fault) -> None:
    """Each tombstone: its record's rows gone, a disposal event naming the same files, the
    files gone from the store."""
    # record.transferred, or record.disposed (also of a transfer made before transfer was
    # its own action)
    disposed = {e["record_number"]: e for e in events
                if e["action"] in ("record.disposed", "record.transferred")}
    for number, tombstone in tombstones.items():
        done = "transferred" if tombstone["action"] == "transfer" else "destroyed"
        if ws.catalog.record(number) is not None:
            fault("tombstone", f"{number} was {done}, but its record is still in the "
                  "catalog", record=number)
        event = disposed.get(number)
        if event is None:
            fault("tombstone", f"{number}: no event of its disposition matches its tombstone",
                  record=number)
        else:
            for difference in tombstone_differences(tombstone, event):
                fault("tombstone", f"{number}: the tombstone's {difference} (the tombstone "
                      "was edited)", record=number, event=event["id"])
        for path in tombstone["files"]:
            if ws.files.exists(path):
                fault("tombstone", f"{number} was {done} but records/{path} is still "
                      "there (`qrec verify --repair` finishes the disposition)",
                      record=number, file=path)


def tombstone_differences(tombstone: dict, event: dict) -> list[str]:
    """["retention_until is '2020-01-01' but '2029-01-10' by its event (id 40)", ...]: every
    column of a tombstone that its record.disposed / record.transferred event (detail
    decoded) also says, where the two differ."""
    detail = event["detail"]
    said = {"files": detail.get("files"), "list_number": detail.get("list"),
            "reason": detail.get("reason"), "retention_until": detail.get("retention_until"),
            "action": detail.get("action", "destroy"), "authorised_by": event["actor"],
            "at": event["at"], "effective_date": event["effective_date"]}
    if "retention_until" not in detail:  # an older event did not say it
        del said["retention_until"]
    return [("files differ from those" if column == "files" else
             f"{column} is {tombstone[column]!r} but {want!r}") + f" by its event "
            f"(id {event['id']})"
            for column, want in said.items() if tombstone.get(column) != want]


def check_files(files: FileStore, expected: dict, fault, progress) -> None:
    """Every expected file present, of its size and SHA-256, and not hidden under a delete
    marker or a newer version (a store that keeps versions) (`expected`: key -> {sha256,
    size or None, record, version, event})."""
    for done, (path, want) in enumerate(sorted(expected.items()), start=1):
        where = {"record": want["record"], "version": want["version"], "file": path,
                 "event": want["event"]}
        try:
            content, hiding = files.find(path, want["sha256"])
        except FileMissing:
            fault("file", f"records/{path} is missing", **where)
            continue
        if hiding:
            fault("file", f"records/{path}: {hiding} (`qrec verify --repair` 可恢复 makes it "
                  "current again)", **where)
        if (want["size"] is not None and len(content) != want["size"]) or \
                hashlib.sha256(content).hexdigest() != want["sha256"]:
            fault("file", f"records/{path} does not match its SHA-256 (altered)", **where)
        if progress:
            progress(done, len(expected))


def uncover_files(files: FileStore, expected: dict[str, str]) -> list[str]:
    """Make every expected file (`expected`: key -> SHA-256) that something hides in the
    store current again (FileStore.uncover); returns what was done, one line each."""
    done = []
    for path, digest in sorted(expected.items()):
        line = files.uncover(path, digest)
        if line:
            done.append(line)
    return done


def unknown_files(files: FileStore, expected, tombstones: dict) -> list[str]:
    """Keys in the file store that are neither expected (keys the catalog knows) nor listed
    by a tombstone: debris."""
    destroyed = {key for t in tombstones.values() for key in t["files"]}
    return [key for key in files.keys() if key not in expected and key not in destroyed]


def gone_records(catalog, events: list[dict], tombstones: dict) -> set[str]:
    """Record numbers the catalog knows (by events or a tombstone) that have no record row:
    destroyed, transferred, or lost. Objects under them are never debris (`repair` leaves
    them; a person decides)."""
    named = {e["record_number"] for e in events if e["record_number"]} | set(tombstones)
    return named - set(catalog.record_numbers())


def gone_record_of(key: str, gone: set[str]) -> str | None:
    """The number in `gone` that a key's folders name (complaint/CC-2611-01/…), or None."""
    return next((part for part in key.split("/")[:-1] if part in gone), None)
