"""The catalog backends behind one contract (base.py). Settings choose one by its URL."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkspaceError
from .base import Catalog


def open_catalog(url: str) -> Catalog:
    """The catalog at `url` ("sqlite:<path>"). Raises WorkspaceError for an unknown scheme or
    a missing, foreign or outdated catalog."""
    from .sqlite import SqliteCatalog

    return SqliteCatalog.open(_sqlite_path(url))


def create_catalog(url: str) -> Catalog:
    """Make a new, empty catalog at `url` and return it open."""
    from .sqlite import SqliteCatalog

    return SqliteCatalog.create(_sqlite_path(url))


def _sqlite_path(url: str) -> Path:
    scheme, _, rest = url.partition(":")
    if scheme != "sqlite" or not rest:
        raise WorkspaceError(f"catalog {url!r}: not a catalog this qrec can open "
                             "(sqlite:<path>)")
    return Path(rest)
