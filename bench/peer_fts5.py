"""Peer of the search benchmark: SQLite FTS5 with its trigram tokenizer, the plain way to get
substring search from SQLite. Queries of three characters or more run as an FTS5 phrase (any
substring of at least one trigram); shorter ones cannot use trigrams and fall back to LIKE, a
scan of every row.

Run as a script it is the cold-process peer of `qrec search`:
    python bench/peer_fts5.py DATABASE QUERY
prints the total and the first page of hits (number and snippet), one per line.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

PAGE = 20  # hits shown, as `qrec search` shows by default


def build(path: Path, docs) -> None:
    """Write the FTS5 trigram table of `docs` (iterable of (number, content text)) to a new
    SQLite database at `path`, in one transaction. Raises sqlite3.Error."""
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE VIRTUAL TABLE records USING fts5(number UNINDEXED, content, "
                   "tokenize='trigram')")
        with db:
            db.executemany("INSERT INTO records (number, content) VALUES (?, ?)", docs)
    finally:
        db.close()


class Searcher:
    """Searches of one FTS5 database (read only)."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def page(self, text: str, limit: int = PAGE) -> tuple[int, list[tuple[str, str]]]:
        """(total matches, [(number, snippet)] of the best `limit`, by bm25 for a trigram
        query, in table order for the LIKE fallback)."""
        if len(text) >= 3:
            where, arg = "records MATCH ?", _phrase(text)
            rows = self.db.execute(
                "SELECT number, snippet(records, 1, '[', ']', '…', 12) FROM records "
                f"WHERE {where} ORDER BY rank LIMIT ?", (arg, limit)).fetchall()
        else:
            where, arg = "content LIKE ? ESCAPE '\\'", _like(text)
            rows = self.db.execute(f"SELECT number, substr(content, 1, 60) FROM records "
                                   f"WHERE {where} LIMIT ?", (arg, limit)).fetchall()
        total = self.db.execute(f"SELECT count(*) FROM records WHERE {where}",
                                (arg,)).fetchone()[0]
        return total, rows

    def numbers(self, text: str) -> set[str]:
        """Every matching record's number."""
        if len(text) >= 3:
            rows = self.db.execute("SELECT number FROM records WHERE records MATCH ?",
                                   (_phrase(text),))
        else:
            rows = self.db.execute("SELECT number FROM records WHERE content LIKE ? "
                                   "ESCAPE '\\'", (_like(text),))
        return {number for (number,) in rows}

    def close(self) -> None:
        self.db.close()


def _phrase(text: str) -> str:
    """The text as one FTS5 string (a phrase): no query syntax of its own."""
    return '"' + text.replace('"', '""') + '"'


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def main(argv: list[str]) -> int:
    searcher = Searcher(Path(argv[0]))
    total, hits = searcher.page(argv[1])
    print(total)
    for number, snippet in hits:
        print(f"{number}  {snippet}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
