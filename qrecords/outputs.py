"""Files written where the user asks (`--out`): the name is checked before any work is done,
and the content lands in one rename, so a failure never leaves a partial file behind."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .errors import QrecError


def out_path(value: str, suffixes: tuple[str, ...], workspace: Path | None = None) -> Path:
    """The --out file, if its name ends in one of `suffixes` (".xlsx", ...), holds no control
    character (qrecords.fields.CONTROL_CHARACTERS), its folder exists and it is not inside the
    `records/` folder of `workspace` (the workspace's root folder), which holds only files the
    catalog knows: one there would make `qrec verify` fail, or replace a kept record.
    Otherwise raises QrecError, one line naming the file and what is wrong."""
    from .fields import control_character

    if control_character(value):  # the name is not echoed: it would drive the terminal
        raise QrecError(f"--out: the file name contains the control character "
                        f"{control_character(value)}")
    path = Path(value)
    if path.suffix.lower() not in suffixes:
        raise QrecError(f"--out {value}: the file name must end in "
                        f"{' or '.join(suffixes)}")
    if workspace is not None and path.resolve().is_relative_to(
            (workspace / "records").resolve()):
        raise QrecError(f"--out {value}: not inside records/, which holds only what the "
                        "catalog knows")
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
