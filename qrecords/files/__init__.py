"""The file store backends behind one contract (base.py). Settings choose one by its URL:
"file:<folder>" (the embedded default) or "s3://bucket/prefix" (shared)."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkspaceError
from .base import FileMissing, FileStore

__all__ = ["FileMissing", "FileStore", "open_file_store"]


def open_file_store(url: str, debris: Path, reserved: tuple[str, ...] = (),
                    endpoint: str | None = None, temp: Path | None = None) -> FileStore:
    """The file store at `url` ("file:<folder>" or "s3://bucket/prefix" at the S3 `endpoint`,
    None for AWS); `debris` is where `verify --repair` moves what the catalog does not know;
    `reserved` names at a folder's top belong to others; `temp` holds local copies of
    objects. Raises WorkspaceError for an unknown scheme (an unreachable bucket: when first
    used, FileStore.ready)."""
    if url.startswith("s3://"):
        from .s3 import S3FileStore

        return S3FileStore(url, endpoint, debris, temp)
    from .local import LocalFileStore

    scheme, _, rest = url.partition(":")
    if scheme != "file" or not rest:
        raise WorkspaceError(f"files {url!r}: not a file store this qrec can open "
                             "(file:<folder> or s3://bucket/prefix)")
    return LocalFileStore(Path(rest), debris, reserved)
