"""The catalog backends behind one contract (base.py). Settings choose one by its URL:
"sqlite:<path>" (the embedded default) or "postgresql://user@host:port/database" (shared)."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkspaceError
from .base import Catalog


def is_shared(url: str) -> bool:
    """Whether the catalog at `url` can serve several machines at once (PostgreSQL)."""
    return url.startswith(("postgresql://", "postgres://"))


def open_catalog(url: str) -> Catalog:
    """The catalog at `url` ("sqlite:<path>" or "postgresql://…"). Raises WorkspaceError for
    an unknown scheme, an unreachable server or a missing, foreign or outdated catalog."""
    if is_shared(url):
        from .postgres import PostgresCatalog

        return PostgresCatalog.open(url)
    from .sqlite import SqliteCatalog

    return SqliteCatalog.open(_sqlite_path(url))


def create_catalog(url: str) -> Catalog:
    """Make a new, empty catalog at `url` and return it open. A PostgreSQL catalog is made by
    its owner (`qrec db setup`); here it is only opened and checked."""
    if is_shared(url):
        return open_catalog(url)
    from .sqlite import SqliteCatalog

    return SqliteCatalog.create(_sqlite_path(url))


def _sqlite_path(url: str) -> Path:
    scheme, _, rest = url.partition(":")
    if scheme != "sqlite" or not rest:
        raise WorkspaceError(f"catalog {url!r}: not a catalog this qrec can open "
                             "(sqlite:<path> or postgresql://user@host:port/database)")
    return Path(rest)
