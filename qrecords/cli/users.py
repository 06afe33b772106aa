"""Commands for identity: login, logout, and `users` (list, add, grant, revoke, disable, enable,
passwd, bind). Passwords are asked for (or read from standard input), never arguments."""

from __future__ import annotations

import click

from ..errors import QrecError
from .present import table
from .app import cli, json_option, open_workspace, output
from .identity import (keep_session, prepare_session_file, read_password,
                       refuse_password_arguments)


def _open_unproven(ctx, user: str):
    """The workspace opened as the user who is about to prove themselves (login only)."""
    from ..settings import find_root
    from ..workspace import Workspace

    ws = Workspace.open(find_root(ctx.obj["workspace"]), user)
    ctx.call_on_close(ws.close)
    return ws


@cli.command()
@click.argument("user")
@click.argument("extra", nargs=-1, metavar="")
@json_option
@click.pass_context
def login(ctx, user, extra, as_json):
    """Log in as USER: asks for the password (or reads it from standard input) and keeps a
    session for this operating-system account. 登录。"""
    from ..api.sessions import login as log_in

    refuse_password_arguments(extra)
    ws = _open_unproven(ctx, user)
    if ws.demo:
        raise QrecError("演示工作区无需登录 a demonstration workspace needs no login: act "
                        "with --as USER")
    prepare_session_file(ws.workspace_id)  # before the catalog keeps a session we'd lose
    session = log_in(ws, read_password(f"{user} 密码 password"))
    keep_session(ws.workspace_id, user, session["token"], session["expires_at"])
    shown = {"user": user, "expires_at": session["expires_at"]}
    output(shown, as_json, lambda s: f"已登录 Logged in as {s['user']} until {s['expires_at']}")


@cli.command()
@json_option
@click.pass_context
def logout(ctx, as_json):
    """End your session as the acting user (--as, else the one you are logged in as)."""
    from ..api.sessions import logout as log_out
    from .identity import tokens_of

    ws = open_workspace(ctx, sync_index=False)
    ended = log_out(ws, tokens_of(ws.workspace_id).get(ws.actor.id) or "-")
    keep_session(ws.workspace_id, ws.actor.id, None)
    output({"user": ws.actor.id, "ended": ended}, as_json,
           lambda r: f"已退出 Logged out: {r['user']}")


def _users_text(users: list[dict]) -> str:
    return table(["USER", "姓名 NAME", "DEPARTMENT", "ROLES", "STATE", "PASSWORD", "OS ACCOUNT"],
                 [[u["id"], u["name"], u["department"], ", ".join(u["roles"]),
                   "停用 disabled" if u["disabled"] else
                   (f"locked until {u['locked_until']}" if u["locked_until"] else "active"),
                   "set" if u["has_password"] else "-", u["os_account"] or "-"]
                  for u in users])


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def users(ctx, as_json):
    """List the users and their roles (and `users add|grant|revoke|disable|enable|passwd|
    bind`: the document controller or an admin; every change is logged with its reason)."""
    if ctx.invoked_subcommand:
        return
    from ..api.users import list_users

    output(list_users(open_workspace(ctx, sync_index=False)), as_json, _users_text)


def _print_user(user: dict, as_json: bool) -> None:
    output(user, as_json, lambda u: _users_text([u]))


_reason = click.option("--reason", required=True, help="Why (recorded with the change).")


@users.command("add")
@click.argument("user_id", metavar="USER")
@click.option("--name", required=True, help="Printed name, as signatures show it.")
@click.option("--department", default="", help="Department id.")
@click.option("--role", "roles", multiple=True, help="A role (repeat for more).")
@_reason
@json_option
@click.pass_context
def users_add(ctx, user_id, name, department, roles, reason, as_json):
    """Add a user (set their password with `users passwd`)."""
    from ..api.users import add_user

    _print_user(add_user(open_workspace(ctx, sync_index=False), user_id, name, department,
                         list(roles), reason), as_json)


@users.command("grant")
@click.argument("user_id", metavar="USER")
@click.argument("role")
@_reason
@json_option
@click.pass_context
def users_grant(ctx, user_id, role, reason, as_json):
    """Give USER the ROLE."""
    from ..api.users import grant

    _print_user(grant(open_workspace(ctx, sync_index=False), user_id, role, reason), as_json)


@users.command("revoke")
@click.argument("user_id", metavar="USER")
@click.argument("role")
@_reason
@json_option
@click.pass_context
def users_revoke(ctx, user_id, role, reason, as_json):
    """Take the ROLE from USER."""
    from ..api.users import revoke

    _print_user(revoke(open_workspace(ctx, sync_index=False), user_id, role, reason), as_json)


@users.command("disable")
@click.argument("user_id", metavar="USER")
@_reason
@json_option
@click.pass_context
def users_disable(ctx, user_id, reason, as_json):
    """Disable USER: their sessions end; they can no longer log in or act."""
    from ..api.users import disable

    _print_user(disable(open_workspace(ctx, sync_index=False), user_id, reason), as_json)


@users.command("enable")
@click.argument("user_id", metavar="USER")
@_reason
@json_option
@click.pass_context
def users_enable(ctx, user_id, reason, as_json):
    """Enable a disabled USER again."""
    from ..api.users import disable

    _print_user(disable(open_workspace(ctx, sync_index=False), user_id, reason, enabled=True),
                as_json)


@users.command("passwd")
@click.argument("user_id", metavar="USER")
@click.argument("extra", nargs=-1, metavar="")
@click.option("--reason", help="Why (needed for another user's password).")
@json_option
@click.pass_context
def users_passwd(ctx, user_id, extra, reason, as_json):
    """Set USER's password: your own (your current password first), or anyone's as an admin
    (with --reason; their sessions end). Asked on a terminal (the new one twice), else read
    from standard input, one line each."""
    from ..api.users import set_password

    refuse_password_arguments(extra)
    ws = open_workspace(ctx, sync_index=False)
    own = user_id == ws.actor.id and ws.catalog.user(user_id)["password_hash"] is not None
    current = read_password(f"{user_id} 当前密码 current password") if own and not ws.demo \
        else None
    password = read_password(f"{user_id} 新密码 new password", confirm=True)
    _print_user(set_password(ws, user_id, password, reason, current=current), as_json)


@users.command("bind")
@click.argument("user_id", metavar="USER")
@click.argument("account", required=False)
@_reason
@json_option
@click.pass_context
def users_bind(ctx, user_id, account, reason, as_json):
    """Bind an operating-system ACCOUNT to USER (none: unbind): it then acts as USER without
    logging in."""
    from ..api.users import bind

    _print_user(bind(open_workspace(ctx, sync_index=False), user_id, account, reason), as_json)
