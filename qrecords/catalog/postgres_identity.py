"""The PostgreSQL statements of the identity contract (identity.py), mixed into
PostgresCatalog. The application role may insert workspace facts but never change them, insert
and update users (never delete one: a user's history stays), and insert and delete sessions
(postgres_schema.py)."""

from __future__ import annotations

import json

from .identity import IdentityStore, SessionRow, UserRow

_USER_COLUMNS = ("id", "name", "department", "roles", "disabled", "password_hash",
                 "os_account", "failed_logins", "locked_until")


def _user(row: dict | None) -> UserRow | None:
    if row is None:
        return None
    return {**row, "roles": json.loads(row["roles"]), "disabled": bool(row["disabled"])}


class PostgresIdentity(IdentityStore):
    """Needs `self._x(query, params)` (PostgresCatalog's statement runner, dict rows)."""

    def meta_value(self, key: str) -> str | None:
        row = self._x("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.check_fact(key, value)
        self._x("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", (key, value))

    def users(self) -> list[UserRow]:
        return [_user(r) for r in self._x("SELECT * FROM users ORDER BY id")]

    def user(self, user_id: str) -> UserRow | None:
        return _user(self._x("SELECT * FROM users WHERE id = %s", (user_id,)).fetchone())

    def user_by_os_account(self, account: str) -> UserRow | None:
        return _user(self._x("SELECT * FROM users WHERE os_account = %s",
                             (account,)).fetchone())

    def save_user(self, row: UserRow) -> None:
        self.check_binding(row)
        values = {**row, "roles": json.dumps(list(row["roles"]), ensure_ascii=False),
                  "disabled": int(bool(row["disabled"]))}
        changed = ", ".join(f"{c} = excluded.{c}" for c in _USER_COLUMNS[1:])
        self._x(f"INSERT INTO users ({', '.join(_USER_COLUMNS)}) VALUES "
                f"({', '.join(['%s'] * len(_USER_COLUMNS))}) "
                f"ON CONFLICT (id) DO UPDATE SET {changed}",
                [values[c] for c in _USER_COLUMNS])

    def add_session(self, row: SessionRow) -> None:
        self._x("INSERT INTO sessions VALUES (%s, %s, %s, %s)",
                (row["token_sha256"], row["user_id"], row["created_at"], row["expires_at"]))

    def session(self, token_sha256: str) -> SessionRow | None:
        return self._x("SELECT * FROM sessions WHERE token_sha256 = %s",
                       (token_sha256,)).fetchone()

    def sessions(self) -> list[SessionRow]:
        return list(self._x("SELECT * FROM sessions ORDER BY user_id, expires_at"))

    def drop_sessions(self, user_id: str, token_sha256: str | None = None) -> int:
        if token_sha256 is None:
            return self._x("DELETE FROM sessions WHERE user_id = %s", (user_id,)).rowcount
        return self._x("DELETE FROM sessions WHERE user_id = %s AND token_sha256 = %s",
                       (user_id, token_sha256)).rowcount
