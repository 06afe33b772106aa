"""The file store backends behind one contract (base.py). Settings choose one by its URL."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkspaceError
from .base import FileMissing, FileStore

__all__ = ["FileMissing", "FileStore", "open_file_store"]


def open_file_store(url: str, debris: Path, reserved: tuple[str, ...] = ()) -> FileStore:
    """The file store at `url` ("file:<folder>"); `debris` is where `verify --repair` moves
    what the catalog does not know; `reserved` names at its top belong to others. Raises
    WorkspaceError for an unknown scheme."""
    from .local import LocalFileStore

    scheme, _, rest = url.partition(":")
    if scheme != "file" or not rest:
        raise WorkspaceError(f"files {url!r}: not a file store this qrec can open (file:<folder>)")
    return LocalFileStore(Path(rest), debris, reserved)
