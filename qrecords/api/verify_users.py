"""verify: the users table against the chained events that made every change of it.

Users, roles, bindings and password hashes are current state in the catalog; the events
`user.added`, `user.granted`, `user.revoked`, `user.disabled`, `user.enabled`, `user.bound`
and `user.password_set` are their history (api/users.py). Replaying the history gives what
each row must hold, so a role given by editing the table, a user added without an event, or a
password hash swapped for one the attacker knows is named here (issue 15: "a user gave
himself the general manager's role ... and verify passed"; 21 CFR 11.10(d), (e)).
Failure counts and lockouts are not access rights and are not derived.

The same replay checks every event that records its actor's authority (roles and department
at that moment): a role given in the table for one step and taken back after, or a disabled
user enabled for one step, shows as an event whose authority the history never gave. And every
login session in the catalog must have been made by a `login.succeeded` event (its token's
hash, hashed again, and its expiry): a session row written by hand, or one whose expiry was
moved, is named.
"""

from __future__ import annotations

import hashlib

_FIELDS = ("name", "department", "roles", "disabled", "os_account", "password_sha256")
_CHANGES = ("roles", "disabled", "os_account")


def password_sha256(password_hash: str | None) -> str | None:
    """The SHA-256 of a stored password hash (its PHC string) as events record it: enough to
    see a hash replaced, nothing that helps guess the password."""
    return hashlib.sha256(password_hash.encode()).hexdigest() if password_hash else None


def derived_users(events: list[dict], check=None) -> dict[str, dict]:
    """{user id: {name, department, roles, disabled, os_account, password_sha256}} as the
    user events (detail decoded, in chain order) leave them. `check(event, users)`, if given,
    is called with each event before it is applied: the users as they stood then."""
    users: dict[str, dict] = {}
    for event in events:
        if check is not None:
            check(event, users)
        action, detail = event["action"], event["detail"]
        if not action.startswith("user.") or "user" not in detail:
            continue
        user_id = detail["user"]
        if action == "user.added":
            users[user_id] = {"name": detail["name"], "department": detail["department"],
                              "roles": sorted(detail["roles"]), "disabled": False,
                              "os_account": detail.get("os_account"), "password_sha256": None}
        elif user_id in users:
            user = users[user_id]
            if action == "user.password_set":
                user["password_sha256"] = detail.get("password_sha256")
            for key in _CHANGES:
                if key in detail:
                    user[key] = sorted(detail[key]) if key == "roles" else detail[key]
    return users


def session_digest(token_sha256: str) -> str:
    """What a `login.succeeded` event records of its session: the SHA-256 of the token's
    SHA-256 (the catalog's row names the session; the event cannot be used to forge one)."""
    return hashlib.sha256(token_sha256.encode()).hexdigest()


def check_users(catalog, events: list[dict], fault) -> None:
    """Every user row in `catalog` against the user events, every event's recorded authority
    against the users as the events before it left them, and every session row against the
    login that made it (`events` with detail decoded)."""

    def authority(event: dict, users: dict) -> None:
        recorded = event["detail"].get("authority")
        if recorded is None:
            return
        actor = users.get(event["actor"])
        where = f"event {event['id']} ({event['action']}) by {event['actor']}"
        if actor is None:
            fault("user", f"{where}: no user.added event made this user", event=event["id"])
        elif actor["disabled"]:
            fault("user", f"{where}: the user was disabled then", event=event["id"])
        elif sorted(recorded.get("roles", [])) != actor["roles"]:
            fault("user", f"{where}: acted with the roles {sorted(recorded.get('roles', []))}, "
                  f"the user events gave {actor['roles']} (changed outside qrecords)",
                  event=event["id"])

    expected = derived_users(events, authority)
    rows = {row["id"]: row for row in catalog.users()}
    for user_id in sorted(rows.keys() | expected.keys()):
        row, want = rows.get(user_id), expected.get(user_id)
        if want is None:
            fault("user", f"user {user_id}: in the users table, but no user.added event made "
                  "them (added outside qrecords)")
            continue
        if row is None:
            fault("user", f"user {user_id}: made by a user.added event, but missing from the "
                  "users table (users are disabled, never removed)")
            continue
        found = {"name": row["name"], "department": row["department"],
                 "roles": sorted(row["roles"]), "disabled": bool(row["disabled"]),
                 "os_account": row["os_account"],
                 "password_sha256": password_sha256(row["password_hash"])}
        for key in _FIELDS:
            if found[key] != want[key]:
                shown = ("the password hash is not the one last set" if key ==
                         "password_sha256" else f"{key} is {found[key]!r}, the events say "
                         f"{want[key]!r}")
                fault("user", f"user {user_id}: {shown} (changed outside qrecords)")
    _check_sessions(catalog, events, fault)


def _check_sessions(catalog, events: list[dict], fault) -> None:
    made = {(e["actor"], e["detail"].get("session"), e["detail"].get("expires_at"))
            for e in events if e["action"] == "login.succeeded"}
    for row in catalog.sessions():
        if (row["user_id"], session_digest(row["token_sha256"]), row["expires_at"]) not in made:
            fault("user", f"a session of {row['user_id']} (until {row['expires_at']}) was not "
                  "made by a login (written or extended outside qrecords)")
