"""Immutable files: written atomically (temp name, fsync, rename), made read-only, hashed."""

import hashlib
import os
import stat
from pathlib import Path

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def write_immutable(path: Path, content: bytes) -> str:
    """Write content to path atomically and make it read-only; return its SHA-256.

    The caller guarantees (under the catalog's write lock) that no committed version owns
    path, so a file already there is debris of a crashed attempt and is replaced.
    """
    made = []  # folders this call creates, deepest first
    folder = path.parent
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, READ_ONLY)
        os.replace(temp, path)
    except BaseException:  # a full disk, an I/O error: leave nothing behind
        temp.unlink(missing_ok=True)
        for folder in made:
            try:
                folder.rmdir()
            except OSError:  # no longer empty: another file went in meanwhile
                break
        raise
    _fsync_dir(path.parent)
    return sha256_bytes(content)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
