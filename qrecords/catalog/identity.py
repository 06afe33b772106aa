"""The catalog's part of identity: users, their roles and password hashes, login sessions, and
the workspace's own facts (its id, whether it is a demonstration workspace).

Every backend keeps these beside the records, so one user, one password, one lockout and one
session store serve every face (the CLI and the web portal). Changes happen inside `write()`
and are logged by the verbs (api/users.py, api/sessions.py) as chained events in the same
transaction: the rows here are the current state, the events are the history of it
(ISO 9001 7.5.3; 21 CFR 11.10(d), (e), (g)).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypedDict


class UserRow(TypedDict):
    id: str
    name: str  # printed name, as signatures show it
    department: str
    roles: list[str]
    disabled: bool
    password_hash: str | None  # Argon2id, PHC string ($argon2id$v=19$m=...); None: none set
    os_account: str | None  # the operating-system account bound to this user, if any
    failed_logins: int  # consecutive failed proofs since the last good one
    locked_until: str | None  # UTC ISO time; proofs are refused until then


class SessionRow(TypedDict):
    token_sha256: str  # the catalog keeps only the token's hash
    user_id: str
    created_at: str  # UTC ISO
    expires_at: str  # UTC ISO


class IdentityStore(ABC):
    """Users, sessions and workspace facts. Methods that change anything must run inside
    `write()`; readers may run anywhere."""

    @abstractmethod
    def meta_value(self, key: str) -> str | None:
        """A workspace fact ("demo", "workspace_id", "users_seed_sha256"), or None."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a workspace fact, once; inside write(). A different value for a key that is
        set already raises IntegrityError (a demonstration workspace stays one)."""

    @abstractmethod
    def users(self) -> list[UserRow]:
        """Every user, by id."""

    @abstractmethod
    def user(self, user_id: str) -> UserRow | None:
        """One user, or None."""

    @abstractmethod
    def user_by_os_account(self, account: str) -> UserRow | None:
        """The user an operating-system account is bound to, or None."""

    def check_fact(self, key: str, value: str) -> None:
        """Refuse a second, different value for a workspace fact (IntegrityError)."""
        from ..errors import IntegrityError

        if self.meta_value(key) not in (None, value):
            raise IntegrityError(f"the workspace fact '{key}' is set already")

    def check_binding(self, row: UserRow) -> None:
        """Refuse an OS account already bound to another user (IntegrityError): one account
        proves one user."""
        from ..errors import IntegrityError

        if row["os_account"]:
            holder = self.user_by_os_account(row["os_account"])
            if holder is not None and holder["id"] != row["id"]:
                raise IntegrityError(f"the account '{row['os_account']}' is bound to "
                                     f"'{holder['id']}' already")

    @abstractmethod
    def save_user(self, row: UserRow) -> None:
        """Insert or replace a user row; inside write(). An OS account bound to two users
        raises IntegrityError."""

    @abstractmethod
    def add_session(self, row: SessionRow) -> None:
        """Store a session (its token's hash); inside write()."""

    @abstractmethod
    def session(self, token_sha256: str) -> SessionRow | None:
        """The session with this token hash, or None."""

    @abstractmethod
    def sessions(self) -> list[SessionRow]:
        """Every session, by user and expiry."""

    @abstractmethod
    def drop_sessions(self, user_id: str, token_sha256: str | None = None) -> int:
        """Remove one session of a user (or, without a token hash, all of them); inside
        write(). Returns how many were removed."""
