"""Proof of identity, for every face: password logins with sessions and a lockout, bindings of
operating-system accounts, and the password a signer gives again at the moment of signing.

One store serves the CLI and the web portal: a user has one password (Argon2id, passwords.py),
one failure count and lockout, and sessions the catalog knows only by their token's SHA-256.
A demonstration workspace waives every proof (and its events say demo). Rules: 21 CFR 11.10(d)
(limited access), 11.300(d) (attempts at unauthorised use detected and reported: failures are
logged, MAX_FAILURES in a row lock the user for LOCKOUT_MINUTES), 11.200(a) (a signature is
given with both components of the identity, the user id and the password).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Callable, TypedDict

from .. import clock
from ..errors import Forbidden, NotAuthenticated, QrecError
from ..workspace import Workspace
from .passwords import check_password, hash_password, needs_rehash
from .verify_users import password_sha256, session_digest

SESSION_HOURS = 8  # a working day: a session proves who acts until then
MAX_FAILURES = 5  # wrong passwords in a row before the user is locked
LOCKOUT_MINUTES = 15


class Session(TypedDict):
    user: str
    token: str  # the secret the face keeps (the catalog keeps its SHA-256 only)
    expires_at: str  # UTC ISO


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_password_of(ws: Workspace, password: str, purpose: str, detail: dict | None = None
                      ) -> None:
    """Check the acting user's password (a login or a signature). A failure is logged
    (`login.failed` or `signature.failed`, committed whatever follows), counted, and after
    MAX_FAILURES in a row locks the user; raises NotAuthenticated naming what to do. A good
    one clears the count. `purpose` is "login" or "signature"."""
    user_id = ws.actor.id
    row = ws.catalog.user(user_id)
    now = _now()
    if row["locked_until"] and _parse(row["locked_until"]) > now:
        with ws.catalog.write():  # an attempt while locked is an attempt too (11.300(d))
            ws.log(f"{purpose}.failed", detail={**(detail or {}), "locked": True})
        raise NotAuthenticated(f"账户已锁定 {user_id} is locked until {row['locked_until']} "
                               f"after {MAX_FAILURES} wrong passwords; wait, or ask the "
                               "document controller", param="password")
    if row["password_hash"] is None:
        raise NotAuthenticated(f"尚未设置密码 {user_id} has no password yet: the document "
                               f"controller sets one with `qrec users passwd {user_id}`",
                               param="password")
    good = check_password(row["password_hash"], password)  # slow: outside the write lock
    with ws.catalog.write():
        row = ws.catalog.user(user_id)
        if good:
            rehash = needs_rehash(row["password_hash"])
            if row["failed_logins"] or row["locked_until"] or rehash:
                stored = hash_password(password) if rehash else row["password_hash"]
                ws.catalog.save_user({**row, "failed_logins": 0, "locked_until": None,
                                      "password_hash": stored})
                if rehash:
                    ws.log("user.password_set", detail={
                        "user": user_id, "reason": "re-hashed with today's Argon2id "
                        "parameters 按当前参数重新散列", "password_sha256": password_sha256(stored)})
            return
        failures = row["failed_logins"] + 1
        locked = _iso(now + dt.timedelta(minutes=LOCKOUT_MINUTES)) \
            if failures >= MAX_FAILURES else None
        ws.catalog.save_user({**row, "failed_logins": 0 if locked else failures,
                              "locked_until": locked})
        ws.log(f"{purpose}.failed", detail={**(detail or {}), "failures": failures})
        if locked:
            ws.log("login.locked", detail={"until": locked, "failures": failures})
    if locked:
        raise NotAuthenticated(f"密码错误，账户已锁定 wrong password for {user_id}; "
                               f"{MAX_FAILURES} in a row: locked until {locked}",
                               param="password")
    raise NotAuthenticated(f"密码错误 wrong password for {user_id} ({failures} of "
                           f"{MAX_FAILURES} before the lockout)", param="password")


def login(ws: Workspace, password: str) -> Session:
    """Log the acting user in (`ws` opened as the claimed user, not yet proved): checks the
    password (check_password_of), then stores a session of SESSION_HOURS and logs
    `login.succeeded`. Returns the session with its token, which only the face keeps. In a
    demonstration workspace the password is waived (the event says demo)."""
    import secrets  # here: every other command only checks a session (random, hmac ...)

    if not ws.demo:
        check_password_of(ws, password, "login")
    token = secrets.token_urlsafe(32)
    now = _now()
    expires = _iso(now + dt.timedelta(hours=SESSION_HOURS))
    with ws.catalog.write():
        ws.catalog.add_session({"token_sha256": token_hash(token), "user_id": ws.actor.id,
                                "created_at": _iso(now), "expires_at": expires})
        ws.log("login.succeeded", detail={"expires_at": expires,
                                          "session": session_digest(token_hash(token))})
    return {"user": ws.actor.id, "token": token, "expires_at": expires}


def logout(ws: Workspace, token: str | None) -> int:
    """End the acting user's session with `token` (all of them with None); logged. Returns
    how many ended."""
    with ws.catalog.write():
        ended = ws.catalog.drop_sessions(ws.actor.id, token_hash(token) if token else None)
        ws.log("logout", detail={"sessions": ended})
    return ended


def session_problem(ws: Workspace, user_id: str, token: str | None) -> str | None:
    """Why `token` does not prove `user_id` now (None when it does)."""
    if not token:
        return f"未登录 {user_id} is not logged in: run `qrec login {user_id}`"
    row = ws.catalog.session(token_hash(token))
    if row is None or row["user_id"] != user_id:
        return f"会话无效 the session of {user_id} is unknown here: run `qrec login {user_id}`"
    if _parse(row["expires_at"]) <= _now():
        return (f"会话已过期 the session of {user_id} expired at {row['expires_at']}: run "
                f"`qrec login {user_id}`")
    return None


def proven_actor(claimed: str | None, tokens_of: Callable[[str], dict[str, str]],
                 os_account: str | None) -> Callable[[Workspace], str]:
    """What a face passes to Workspace.open as the actor: a function choosing the acting user
    among those the person has proved. `claimed` is the user asked for (--as, QREC_USER),
    `tokens_of(workspace id)` the session tokens the person holds there ({user id: token}),
    `os_account` the operating-system account running the face. In a demonstration
    workspace nothing is proved: the claimed user, else the workspace's default user. Raises
    NotAuthenticated naming what to do."""

    def choose(ws: Workspace) -> str:
        if ws.demo:
            if not (claimed or ws.settings.default_user):
                raise QrecError("请指定用户 who is acting? give --as USER or set QREC_USER")
            return claimed or ws.settings.default_user
        bound = ws.catalog.user_by_os_account(os_account) if os_account else None
        tokens = tokens_of(ws.workspace_id)
        if claimed:
            ws.acting_user(claimed)  # NotFound for a typo, Forbidden for a disabled user
            if bound is not None and bound["id"] == claimed:
                return claimed
            problem = session_problem(ws, claimed, tokens.get(claimed))
            if problem:
                raise NotAuthenticated(problem)
            return claimed
        valid = [user for user, token in sorted(tokens.items())
                 if session_problem(ws, user, token) is None]
        if len(valid) > 1:
            raise NotAuthenticated(f"请用 --as 选择用户 you are logged in as {', '.join(valid)}: "
                                   "choose one with --as USER")
        if valid:
            return valid[0]
        if bound is not None:
            return bound["id"]
        raise NotAuthenticated("请先登录 who is acting? log in with `qrec login USER`")

    return choose


def require_admin(ws: Workspace, what: str) -> None:
    """The actor administers users: the document controller or an `admin` role. Forbidden
    otherwise."""
    if not {"document_controller", "admin"} & set(ws.actor.roles):
        raise Forbidden(f"需要文控或管理员权限 {what} needs the role document_controller or "
                        f"admin; {ws.actor.id} has {', '.join(ws.actor.roles) or 'no role'}")
