"""Search indexes lent to one unit of work at a time and kept open between them (the portal).

A SearchIndex keeps its Whoosh searcher open only for the length of one unit of work, so
every portal request opened the index's segments again and read their length and order
columns again: about 10 ms of a search at 100,000 records. A pool, one per process, lends
`Workspace.open` a SearchIndex whose searcher is still open from an earlier request, and
takes it back at `Workspace.close`.

What a search finds does not change: SearchIndex.searcher() reuses a searcher only while
STATE.json names the same generation and Whoosh's table of contents is the one it opened
(any commit, by any process, makes a new one), and the search verb first brings the index up
to date with the catalog's latest change (Workspace.sync_index), so a record changed by
another process — the CLI, another worker — is found by the next search.

Whoosh searchers are not safe to share between threads: a SearchIndex is lent to one
Workspace at a time, so to one thread at a time; the pool's lock guards only its list. An
idle searcher holds about six open files per segment (and a replaced generation's files
until it is lent again and reopened), so the pool keeps at most `keep` idle ones per index
folder and closes the rest.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .searchindex import SearchIndex


class IndexPool:
    def __init__(self, keep: int = 8):
        """`keep`: idle indexes kept per index folder (as many as requests served at once)."""
        self.keep = keep
        self._idle: dict[Path, list[SearchIndex]] = {}
        self._lock = threading.Lock()

    def lend(self, folder: Path) -> SearchIndex:
        """An idle SearchIndex of `folder` (its searcher possibly still open), or a new one;
        the caller's alone until give_back()."""
        with self._lock:
            idle = self._idle.get(folder)
            if idle:
                return idle.pop()
        return SearchIndex(folder)

    def give_back(self, index: SearchIndex) -> None:
        """Take back a lent index (closed if `keep` are idle already). The caller must not
        use it after."""
        with self._lock:
            idle = self._idle.setdefault(index.folder, [])
            if len(idle) < self.keep:
                idle.append(index)
                return
        index.close()

    def close(self) -> None:
        """Close every idle index (those lent are closed when given back after this)."""
        with self._lock:
            idle = [index for indexes in self._idle.values() for index in indexes]
            self._idle.clear()
            self.keep = 0
        for index in idle:
            index.close()
