"""Files written where the user asks (`--out`): the name is checked before any work is done,
and the content lands in one rename, so a failure never leaves a partial file behind."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .errors import QrecError


def out_path(value: str, suffixes: tuple[str, ...]) -> Path:
    """The --out file, if its name ends in one of `suffixes` (".xlsx", ...) and its folder
    exists; otherwise a one-line error naming the file and what is wrong."""
    path = Path(value)
    if path.suffix.lower() not in suffixes:
        raise QrecError(f"--out {value}: the file name must end in "
                        f"{' or '.join(suffixes)}")
    folder = path.parent
    if not folder.is_dir():
        raise QrecError(f"--out {value}: the folder {folder} does not exist")
    if path.is_dir():
        raise QrecError(f"--out {value}: is a folder")
    return path


@contextmanager
def writing(path: Path):
    """A temporary file in the folder of `path` to write to; renamed to `path` when the block
    ends, removed if it fails: the file is either the old one or the whole new one."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_out(path: Path, content: bytes) -> None:
    """Write `content` to `path` in one rename (see `writing`)."""
    with writing(path) as temp:
        temp.write_bytes(content)
