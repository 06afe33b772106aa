"""The index's files read through mmap instead of file objects.

A Whoosh file object's seek() and read() are system calls, and Python lets go of the GIL
around each: in a portal worker, whose threads search at once, every one of the thousands a
search makes (a column value, a block header, a block) then waits its turn to take the GIL
back. py-spy put about a fifth of a search request's time there. Reading a mapped file is a
memory copy that keeps the GIL, and the pages are the operating system's file cache, shared
by every searcher and worker.

Whoosh never changes a segment file once written, and a mapping stays readable after its
file is removed (an older generation), as an open file does. (Imported only by a search: it
imports Whoosh.)
"""

from __future__ import annotations

import mmap

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class MappedStorage(FileStorage):
    """Whoosh's folder storage, its files opened for reading as read-only mappings."""

    def open_file(self, name, **kwargs):
        with open(self._fpath(name), "rb") as handle:
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file cannot be mapped
                return super().open_file(name, **kwargs)
        return StructFile(mapped, name=name, **kwargs)


def open_index(folder: str):
    """The Whoosh index in `folder` (as whoosh.index.open_dir), its files mapped."""
    return MappedStorage(folder).open_index()
