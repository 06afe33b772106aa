"""The embedded file store: a folder (the workspace's records/), one file per key.

Files are written atomically (a unique temporary name, fsync, rename, fsync of the folder),
made read-only and hashed. `write_immutable` is also what other folders of immutable files use
(index generations are not; transfers are).
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import WorkspaceError
from ..outputs import temp_name
from .base import FileMissing, FileStore, check_key, sha256_bytes

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def write_immutable(path: Path, content: bytes) -> str:
    """Write content to path atomically and make it read-only; return its SHA-256.

    The caller guarantees (under the catalog's write lock) that no committed version owns
    path, so a file already there is debris of a crashed attempt and is replaced. Raises
    WorkspaceError naming the file when it cannot be written (a full disk), leaving nothing.
    """
    made = []  # folders this call creates, deepest first
    folder = path.parent
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_name(path)
    try:
        with open(temp, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, READ_ONLY)
        os.replace(temp, path)
    except BaseException as exc:  # a full disk, an I/O error: leave nothing behind
        temp.unlink(missing_ok=True)
        for folder in made:
            try:
                folder.rmdir()
            except OSError:  # no longer empty: another file went in meanwhile
                break
        if isinstance(exc, OSError):
            raise _not_written(path, exc) from None
        raise
    _fsync_dir(path.parent)
    return sha256_bytes(content)


def _not_written(path: Path, exc: OSError) -> WorkspaceError:
    """A write that failed as one line naming the file: the disk full, or failing."""
    why = f"the disk is full ({exc.strerror}) 磁盘已满" if exc.errno in (
        errno.ENOSPC, errno.EDQUOT) else f"{exc.strerror or exc} 无法写入"
    return WorkspaceError(f"{path}: cannot be written: {why}; this change was not stored "
                          "(free some space and run the command again) 本次更改未保存")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalFileStore(FileStore):
    """Files under `root`; `reserved` names at the top of root belong to others (the SQLite
    catalog lives in the same folder) and are never listed. `debris` is where quarantined
    files go."""

    def __init__(self, root: Path, debris: Path, reserved: tuple[str, ...] = ()):
        self.root = Path(root)
        self.debris = Path(debris)
        self.reserved = reserved

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, content: bytes, keep_until: str | None = None) -> str:
        return write_immutable(self.path(key), content)

    def read(self, key: str, sha256: str | None = None) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise FileMissing(f"records/{key} is missing") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key not in self.reserved:
                yield key

    def remove(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        folder = path.parent
        if folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # a disposed record's own folder goes with its last file

    def quarantine(self, key: str, stamp: str) -> str:
        target = self.debris / stamp / check_key(key)
        import shutil  # here: a cold read never needs it

        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(self.path(key), target)
        return str(target)

    def holds_path(self, path: Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root.resolve())

    def location(self, key: str) -> str:
        return str(self.path(key))

    @contextmanager
    def local_path(self, key: str):
        path = self.path(key)
        if not path.is_file():
            raise FileMissing(f"records/{key} is missing")
        yield path
