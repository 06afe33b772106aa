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

from ..domain.access import CONTROLLER, PRIVACY
from ..errors import Conflict, QrecError, suggest
from ..workspace import Workspace
from .passwords import hash_password
from .sessions import require_admin
from .versions import free_text
from .verify_users import password_sha256

_ID = re.compile(r"[a-z][a-z0-9_.-]{1,31}")
ADMIN = "admin"
ADMINISTERING = {CONTROLLER, ADMIN}  # who may change users (require_admin)


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
    reason = free_text(reason, "reason")
    if not reason:
        raise QrecError("须填写原因 a change of users needs a reason", param="reason")
    return reason


def known_roles(ws: Workspace) -> set[str]:
    """The roles that mean something here: those the forms' workflows name, privacy, the
    document controller, admin, and those users hold already."""
    named = {PRIVACY, CONTROLLER, ADMIN}
    for form in ws.forms.all_current().values():
        named |= form.workflow.roles()
    return named | {r for row in ws.catalog.users() for r in row["roles"]}


def _check_role(ws: Workspace, role: str) -> None:
    known = known_roles(ws)
    if role not in known:
        raise QrecError(f"无此角色 no role '{role}'{suggest(role, known)}; roles: "
                        f"{', '.join(sorted(known))}", param="role")


def _check_department(ws: Workspace, department: str) -> None:
    if department and department not in ws.settings.departments:
        raise QrecError(f"无此部门 no department '{department}'"
                        f"{suggest(department, ws.settings.departments)}; qrecords.yaml "
                        f"defines {', '.join(ws.settings.departments)}",
                        param="department")


def _keep_an_administrator(ws: Workspace, user_id: str, roles: list[str],
                           disabled: bool) -> None:
    """Refuse a change that would leave no enabled user able to administer users."""
    for row in ws.catalog.users():
        if row["id"] == user_id:
            row = {**row, "roles": roles, "disabled": disabled}
        if not row["disabled"] and ADMINISTERING & set(row["roles"]):
            return
    raise Conflict("须保留至少一名可管理用户的人员 no enabled user could administer users "
                   "after this change; give another user the role document_controller or "
                   "admin first", param="user")


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
        _keep_an_administrator(ws, user_id, new["roles"], new["disabled"])
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
        raise QrecError(f"user id {user_id!r}: 用户名格式 2-32 lower-case letters, digits, "
                        "_ . -", param="user")
    name = free_text(name, "name") or ""
    if not name:
        raise QrecError("须填写姓名 a user needs a printed name (--name)", param="name")
    _check_department(ws, department)
    for role in roles:
        _check_role(ws, role)
    row = {"id": user_id, "name": name, "department": department, "roles":
           sorted(set(roles)), "disabled": False, "password_hash": None, "os_account": None,
           "failed_logins": 0, "locked_until": None}
    with ws.catalog.write():
        if ws.catalog.user(user_id) is not None:
            raise Conflict(f"用户已存在 user '{user_id}' exists already", param="user")
        ws.catalog.save_user(row)
        ws.log("user.added", detail={"user": user_id, "name": row["name"],
                                     "department": department, "roles": row["roles"],
                                     "reason": reason})
    return _view(row)


def grant(ws: Workspace, user_id: str, role: str, reason: str) -> UserView:
    """Give a user a role; logged `user.granted`. Forbidden for a non-admin actor."""
    require_admin(ws, "granting a role")
    _check_role(ws, role)
    held = ws.user(user_id).roles
    if role in held:
        raise Conflict(f"已有此角色 {user_id} holds the role {role} already", param="role")
    roles = sorted(set(held) | {role})
    return _change(ws, user_id, "user.granted", _reason(reason), "granting a role",
                   roles=roles)


def revoke(ws: Workspace, user_id: str, role: str, reason: str) -> UserView:
    """Take a role from a user; logged `user.revoked`. Conflict when they lack it."""
    require_admin(ws, "revoking a role")
    held = ws.user(user_id).roles
    if role not in held:
        raise Conflict(f"没有此角色 {user_id} does not hold the role {role} (holds "
                       f"{', '.join(held) or 'none'})", param="role")
    return _change(ws, user_id, "user.revoked", _reason(reason), "revoking a role",
                   roles=[r for r in held if r != role])


def disable(ws: Workspace, user_id: str, reason: str, enabled: bool = False) -> UserView:
    """Disable a user (their sessions end, they can neither log in nor act), or with
    `enabled` enable them again; logged. A user cannot disable themselves."""
    require_admin(ws, "disabling a user")
    if user_id == ws.actor.id and not enabled:
        raise Conflict("不能停用自己 you cannot disable yourself", param="user")
    return _change(ws, user_id, "user.enabled" if enabled else "user.disabled",
                   _reason(reason), "disabling a user", disabled=not enabled,
                   failed_logins=0, locked_until=None)


def set_password(ws: Workspace, user_id: str, password: str, reason: str | None = None,
                 current: str | None = None) -> UserView:
    """Set a user's password (Argon2id; never logged, only the SHA-256 of its hash). Your own
    needs your `current` password (a session alone must not let someone at your desk take
    over your signature); another user's needs an admin and a `reason`, and ends that user's
    sessions. Clears a lockout. Raises NotAuthenticated (a wrong current password, counted
    toward the lockout), Forbidden, QrecError."""
    from .sessions import check_password_of

    own = user_id == ws.actor.id
    if own:
        row = ws.catalog.user(user_id)
        if row["password_hash"] is not None and not ws.demo:
            check_password_of(ws, current or "", "login", {"changing": "password"})
        reason = free_text(reason, "reason") or "changed by the user"
    else:
        require_admin(ws, "setting another user's password")
        reason = _reason(reason)
    password_hash = hash_password(password)
    with ws.catalog.write():
        row = ws.catalog.user(user_id)
        if row is None:
            ws.user(user_id)
        ws.catalog.save_user({**row, "password_hash": password_hash, "failed_logins": 0,
                              "locked_until": None})
        ended = 0 if own else ws.catalog.drop_sessions(user_id)
        ws.log("user.password_set", detail={"user": user_id, "reason": reason,
                                            "password_sha256": password_sha256(password_hash),
                                            "sessions_ended": ended})
        return _view({**row, "password_hash": password_hash, "locked_until": None})


def bind(ws: Workspace, user_id: str, os_account: str | None, reason: str) -> UserView:
    """Bind an operating-system account to a user (None: unbind): that account then acts as
    the user without a session. Logged `user.bound`."""
    return _change(ws, user_id, "user.bound", _reason(reason), "binding an account",
                   os_account=os_account or None)
