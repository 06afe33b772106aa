"""The file store contract: where the bytes of versions, letters, lists and reports are kept.

A key is a relative POSIX path such as `complaint/CC-2611-01/CC-2611-01_v1.docx`,
`reminders/2026-11-23/RM-20261123-CC-2611-01.docx` or `disposals/DL-2026-001.docx`; the
catalog stores keys, never a backend's locations. Rules every backend keeps:

- `put` is atomic (a reader sees the whole content or nothing) and the stored object is
  read-only afterwards; it returns the content's SHA-256, which the catalog keeps.
- Only a disposal, and `verify --repair` moving debris away, remove objects.
- Temporary names are unique across machines (host, process and a random part).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Iterator

from ..errors import QrecError

_KEY = re.compile(r"[^/\\\x00]+(/[^/\\\x00]+)*")


class FileMissing(QrecError):
    """A key the store does not hold."""

    http_status = 404


def sha256_bytes(content: bytes) -> str:
    """The SHA-256 of content, hex: how every stored file is hashed."""
    return hashlib.sha256(content).hexdigest()


def check_key(key: str) -> str:
    """`key` if it is a relative path without '.', '..' or empty parts; ValueError otherwise
    (a key comes from our own code, never from a user)."""
    if not _KEY.fullmatch(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a file store key: {key!r}")
    return key


class FileStore(ABC):
    """A file store backend (a local folder, or S3 object storage). `locked`: whether its
    objects carry locks that `protect` must keep in step with their records."""

    locked: bool = False

    def ready(self) -> None:
        """Make the store ready to take files (S3: its client, and whether its bucket has
        Object Lock: about 300 ms of CPU in a fresh process), before the catalog's write lock
        is taken, so that no other writer waits for it. A folder is always ready. Raises
        WorkspaceError for an unreachable store."""

    @abstractmethod
    def put(self, key: str, content: bytes, keep_until: str | None = None) -> str:
        """Store `content` under `key`, atomically and read-only; returns its SHA-256 (hex).
        `keep_until` (YYYY-MM-DD): the earliest day the object may be deleted (a record's
        creation plus its form's retention period); a store with Object Lock locks it in
        COMPLIANCE mode until then from the moment it is written, a folder ignores it.
        An object already under the key is debris of a crashed attempt (the caller holds the
        catalog's write lock and knows no committed row names it) and is replaced. Raises an
        error naming the file when the store cannot take it, leaving nothing behind: OSError
        (an object store's refusal), WorkspaceError (a full or failing local disk)."""

    @abstractmethod
    def read(self, key: str, sha256: str | None = None) -> bytes:
        """The content under `key`; with `sha256` (hex, the catalog's), the stored version
        that has it where the store keeps versions (S3: even under a delete marker or a newer
        version put over it), else the current content. Raises FileMissing."""

    def find(self, key: str, sha256: str) -> tuple[bytes, str | None]:
        """(content, hiding): what `read(key, sha256)` returns, and None, or one line saying
        what hides the version with `sha256` (a delete marker or a newer version put over it)
        in a store that keeps versions. A folder keeps one version: (content, None). Raises
        FileMissing."""
        return self.read(key), None

    def uncover(self, key: str, sha256: str) -> str | None:
        """Make the stored version with `sha256` the current one again where something hides
        it (`find`); returns one line saying what was done, or None (nothing hid it, or no
        version has it). A folder keeps one version: None."""
        return None

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every key stored, sorted (verify looks for objects the catalog does not know)."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Delete the object under `key` (a disposal; a missing object is no error)."""

    @abstractmethod
    def quarantine(self, key: str, stamp: str) -> str:
        """Move an object the catalog does not know out of the store, into debris under
        `stamp`; returns where it went (for the user). Only under the catalog's write lock:
        a version's file is put inside the transaction that commits its row."""

    @abstractmethod
    def location(self, key: str) -> str:
        """Where a user finds the object (an absolute path, or a URL)."""

    @abstractmethod
    def holds_path(self, path: Path) -> bool:
        """Whether a local `path` lies inside the store (a file written there by hand would
        be taken for debris, so outputs are refused there)."""

    def protect(self, key: str, until: str | None, held: bool) -> None:
        """Lock the object as its record stands (S3 Object Lock): a COMPLIANCE retention
        until the date `until` (YYYY-MM-DD; the record's retention date once it is closed, the
        earliest it could be disposed of while open), extended, never shortened; a legal hold
        while `held` (the record is open or on hold). A local folder has no lock: nothing
        happens."""

    @abstractmethod
    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the content, for the length of the block (LibreOffice and
        zip files need one). Raises FileMissing."""
