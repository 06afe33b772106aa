"""The SQLite catalog's errors are one clear line naming the file (issue 14, line 14): a lock
held past the busy timeout on any statement is Busy, a damaged file IntegrityError."""

from __future__ import annotations

import pytest

from qrecords.catalog.sqlite import SqliteCatalog
from qrecords.errors import Busy, IntegrityError


def test_a_lock_held_past_the_timeout_on_any_statement_is_busy_naming_the_file(tmp_path):
    """Issue 14, line 14: not 'internal error (database is locked)'."""
    import sqlite3

    path = tmp_path / "catalog.sqlite"
    SqliteCatalog.create(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta VALUES ('x', 'y')")
    try:
        with pytest.raises(Busy, match=f"{path}: another qrec kept the catalog locked"):
            SqliteCatalog(path, busy_timeout_ms=200).record("CC-2601-01")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_damaged_catalog_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "catalog.sqlite"
    catalog = SqliteCatalog.create(path)
    with catalog.write():
        for n in range(300):
            catalog.add_event("2026-01-01T00:00:00Z", "2026-01-01", "u", "x", None, None,
                              {"n": "x" * 500})
    catalog._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    catalog.close()
    content = bytearray(path.read_bytes())
    for offset in range(4096 * 3, len(content) - 4096, 4096):  # every page header but a few
        content[offset:offset + 16] = b"\xff" * 16
    path.write_bytes(bytes(content))
    with pytest.raises(IntegrityError, match=f"{path}: the catalog is damaged"):
        SqliteCatalog(path).raw_events()


def test_qrec_on_a_damaged_catalog_prints_one_line_naming_it(tmp_path):
    from click.testing import CliRunner

    from qrecords.cli import cli
    from qrecords.workspace import create_workspace

    root = create_workspace(tmp_path / "ws", demo=True)
    path = root / "records" / "catalog.sqlite"
    content = bytearray(path.read_bytes())
    for offset in range(4096, len(content), 4096):
        content[offset:offset + 16] = b"\xff" * 16
    path.write_bytes(bytes(content))
    for args in (["verify"], ["show", "CC-2601-01"]):
        result = CliRunner().invoke(cli, ["-w", str(root), *args])
        assert result.exit_code != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], result.stderr
        assert "internal error" not in result.stderr
