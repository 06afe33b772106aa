"""User administration: users, roles, passwords and account bindings live in the catalog, and
every change is a chained event saying who changed what, when and why (21 CFR 11.10(d), (g);
ISO 9001 7.5.3). Only the document controller or an `admin` may change them.

qrecords.yaml seeds the users when the workspace is made; an edit of its users afterwards is
refused when the workspace is opened (workspace.py), so no change of access rights is ever
silently effective.
"""

from __future__ import annotations

import re
from typing import TypedDict

from ..errors import Conflict, QrecError
from ..workspace import Workspace
from .passwords import hash_password
from .sessions import require_admin
from .verify_users import password_sha256

_ID = re.compile(r"[a-z][a-z0-9_.-]{1,31}")


class UserView(TypedDict):
    id: str
    name: str
    department: str
    roles: list[str]
    disabled: bool
    has_password: bool
    os_account: str | None
    locked_until: str | None


def _view(row: dict) -> UserView:
    return {"id": row["id"], "name": row["name"], "department": row["department"],
            "roles": list(row["roles"]), "disabled": row["disabled"],
            "has_password": row["password_hash"] is not None, "os_account": row["os_account"],
            "locked_until": row["locked_until"]}


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise QrecError("a change of users needs a reason (须填写原因)", param="reason")
    return reason.strip()


def list_users(ws: Workspace) -> list[UserView]:
    """Every user with roles, state and binding (never a password hash); anyone may list."""
    return [_view(row) for row in ws.catalog.users()]


def _change(ws: Workspace, user_id: str, action: str, reason: str, what: str, **changes
            ) -> UserView:
    require_admin(ws, what)
    with ws.catalog.write():
        row = ws.catalog.user(user_id)
        if row is None:
            ws.user(user_id)  # raises NotFound with a suggestion
        new = {**row, **changes}
        ws.catalog.save_user(new)
        if "disabled" in changes and changes["disabled"]:
            ws.catalog.drop_sessions(user_id)
        shown = {k: v for k, v in changes.items() if k != "password_hash"}
        ws.log(action, detail={"user": user_id, "reason": reason, **shown,
                               "roles_before": list(row["roles"])})
    return _view(new)


def add_user(ws: Workspace, user_id: str, name: str, department: str, roles: list[str],
             reason: str) -> UserView:
    """Add a user (no password yet: `set_password`). Raises Forbidden for a non-admin actor,
    Conflict for an id in use, QrecError (param "user") for an id not of 2-32 lower-case
    letters, digits, `_.-`."""
    require_admin(ws, "adding a user")
    reason = _reason(reason)
    if not _ID.fullmatch(user_id):
        raise QrecError(f"user id {user_id!r}: 2-32 lower-case letters, digits, _ . - "
                        "(用户名格式)", param="user")
    if not name.strip():
        raise QrecError("a user needs a printed name (--name)", param="name")
    row = {"id": user_id, "name": name.strip(), "department": department, "roles":
           sorted(set(roles)), "disabled": False, "password_hash": None, "os_account": None,
           "failed_logins": 0, "locked_until": None}
    with ws.catalog.write():
        if ws.catalog.user(user_id) is not None:
            raise Conflict(f"user '{user_id}' exists already", param="user")
        ws.catalog.save_user(row)
        ws.log("user.added", detail={"user": user_id, "name": row["name"],
                                     "department": department, "roles": row["roles"],
                                     "reason": reason})
    return _view(row)


def grant(ws: Workspace, user_id: str, role: str, reason: str) -> UserView:
    """Give a user a role; logged `user.granted`. Forbidden for a non-admin actor."""
    require_admin(ws, "granting a role")
    roles = sorted(set(ws.user(user_id).roles) | {role})
    return _change(ws, user_id, "user.granted", _reason(reason), "granting a role",
                   roles=roles)


def revoke(ws: Workspace, user_id: str, role: str, reason: str) -> UserView:
    """Take a role from a user; logged `user.revoked`. Conflict when they lack it."""
    require_admin(ws, "revoking a role")
    held = ws.user(user_id).roles
    if role not in held:
        raise Conflict(f"{user_id} does not hold the role {role} (holds "
                       f"{', '.join(held) or 'none'})", param="role")
    return _change(ws, user_id, "user.revoked", _reason(reason), "revoking a role",
                   roles=[r for r in held if r != role])


def disable(ws: Workspace, user_id: str, reason: str, enabled: bool = False) -> UserView:
    """Disable a user (their sessions end, they can neither log in nor act), or with
    `enabled` enable them again; logged. A user cannot disable themselves."""
    require_admin(ws, "disabling a user")
    if user_id == ws.actor.id and not enabled:
        raise Conflict("you cannot disable yourself (不能停用自己)", param="user")
    return _change(ws, user_id, "user.enabled" if enabled else "user.disabled",
                   _reason(reason), "disabling a user", disabled=not enabled,
                   failed_logins=0, locked_until=None)


def set_password(ws: Workspace, user_id: str, password: str, reason: str) -> UserView:
    """Set a user's password (Argon2id; never logged, only that it changed): the user
    themselves or an admin. Clears a lockout."""
    if user_id != ws.actor.id:
        require_admin(ws, "setting another user's password")
    password_hash = hash_password(password)
    with ws.catalog.write():
        row = ws.catalog.user(user_id)
        if row is None:
            ws.user(user_id)
        ws.catalog.save_user({**row, "password_hash": password_hash, "failed_logins": 0,
                              "locked_until": None})
        ws.log("user.password_set", detail={"user": user_id, "reason": _reason(reason),
                                            "password_sha256": password_sha256(password_hash)})
        return _view({**row, "password_hash": password_hash, "locked_until": None})


def bind(ws: Workspace, user_id: str, os_account: str | None, reason: str) -> UserView:
    """Bind an operating-system account to a user (None: unbind): that account then acts as
    the user without a session. Logged `user.bound`."""
    return _change(ws, user_id, "user.bound", _reason(reason), "binding an account",
                   os_account=os_account or None)
