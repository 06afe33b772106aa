"""Files written where the user asks (`--out`): the name is checked before any work is done,
and the content lands in one rename, so a failure never leaves a partial file behind."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from .errors import QrecError
from .text_rules import control_character


def out_path(value: str, suffixes: tuple[str, ...],
             forbidden: Callable[[Path], bool] | None = None) -> Path:
    """The file a user asks a verb to write (`out`), if its name ends in one of `suffixes`
    (".xlsx", ...), holds no control character (text_rules.CONTROL_CHARACTERS), its folder
    exists and `forbidden(path)` is false — the file store's `holds_path`: a file put inside
    the store by hand would make `qrec verify` fail, or replace a kept record. Otherwise
    raises QrecError (param "out"), one line naming the file and what is wrong."""
    if control_character(value):  # the name is not echoed: it would drive the terminal
        raise QrecError(f"the file name contains the control character "
                        f"{control_character(value)}", param="out")
    path = Path(value)
    if path.suffix.lower() not in suffixes:
        raise QrecError(f"{value}: the file name must end in {' or '.join(suffixes)}",
                        param="out")
    if forbidden is not None and forbidden(path):
        raise QrecError(f"{value}: may not be written inside records/, which holds only what "
                        "the catalog knows", param="out")
    folder = path.parent
    if not folder.is_dir():
        raise QrecError(f"{value}: the folder {folder} does not exist", param="out")
    if path.is_dir():
        raise QrecError(f"{value}: is a folder", param="out")
    return path


def temp_name(path: Path) -> Path:
    """A temporary name beside `path`, unique across machines sharing the folder: host,
    process and a random part."""
    host = os.uname().nodename.replace("/", "_")[:32]  # as socket.gethostname()
    return path.with_name(f".{path.name}.{host}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


@contextmanager
def writing(path: Path):
    """A temporary file in the folder of `path` to write to; renamed to `path` when the block
    ends, removed if it fails: the file is either the old one or the whole new one."""
    temp = temp_name(path)
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
