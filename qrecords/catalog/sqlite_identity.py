"""The SQLite statements of the identity contract (identity.py), mixed into SqliteCatalog."""

from __future__ import annotations

import json

from .identity import IdentityStore, SessionRow, UserRow

_USER_COLUMNS = ("id", "name", "department", "roles", "disabled", "password_hash",
                 "os_account", "failed_logins", "locked_until")


def _user(row) -> UserRow | None:
    if row is None:
        return None
    return {**dict(row), "roles": json.loads(row["roles"]), "disabled": bool(row["disabled"])}


class SqliteIdentity(IdentityStore):
    """Needs `self._db` (a sqlite3 connection with Row rows) and `self.path`."""

    def meta_value(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.check_fact(key, value)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))

    def users(self) -> list[UserRow]:
        return [_user(r) for r in self._db.execute("SELECT * FROM users ORDER BY id")]

    def user(self, user_id: str) -> UserRow | None:
        return _user(self._db.execute("SELECT * FROM users WHERE id = ?",
                                      (user_id,)).fetchone())

    def user_by_os_account(self, account: str) -> UserRow | None:
        return _user(self._db.execute("SELECT * FROM users WHERE os_account = ?",
                                      (account,)).fetchone())

    def save_user(self, row: UserRow) -> None:
        self.check_binding(row)
        values = {**row, "roles": json.dumps(list(row["roles"]), ensure_ascii=False),
                  "disabled": int(bool(row["disabled"]))}
        self._db.execute(
            f"INSERT OR REPLACE INTO users ({', '.join(_USER_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(_USER_COLUMNS))})", [values[c] for c in _USER_COLUMNS])

    def add_session(self, row: SessionRow) -> None:
        self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                         (row["token_sha256"], row["user_id"], row["created_at"],
                          row["expires_at"]))

    def session(self, token_sha256: str) -> SessionRow | None:
        row = self._db.execute("SELECT * FROM sessions WHERE token_sha256 = ?",
                               (token_sha256,)).fetchone()
        return dict(row) if row else None

    def sessions(self) -> list[SessionRow]:
        return [dict(r) for r in self._db.execute(
            "SELECT * FROM sessions ORDER BY user_id, expires_at")]

    def drop_sessions(self, user_id: str, token_sha256: str | None = None) -> int:
        if token_sha256 is None:
            return self._db.execute("DELETE FROM sessions WHERE user_id = ?",
                                    (user_id,)).rowcount
        return self._db.execute("DELETE FROM sessions WHERE user_id = ? AND token_sha256 = ?",
                                (user_id, token_sha256)).rowcount
