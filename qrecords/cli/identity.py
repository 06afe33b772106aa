"""How the CLI face proves who acts: its session files, the operating-system account, and
reading a password (a prompt on a terminal, else one line of standard input; never an
argument).

Sessions are kept per OS user in <config>/qrecords/sessions/<workspace id>.json (folder 0700,
file 0600): {"sessions": {user id: {"token": ..., "expires_at": ...}}}. The catalog keeps only
each token's SHA-256 (api/sessions.py), so a copied catalog proves nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import QrecError
from ..settings import config_folder


def os_account() -> str:
    """The account of the real user id running this process (not $USER, which anyone sets)."""
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _session_file(workspace_id: str) -> Path:
    if not workspace_id or "/" in workspace_id or workspace_id.startswith("."):
        raise QrecError(f"工作区标识无效 workspace id {workspace_id!r} is not usable for a "
                        "session file")
    return config_folder() / "sessions" / f"{workspace_id}.json"


def _read(workspace_id: str) -> dict:
    path = _session_file(workspace_id)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: as if not logged in; `qrec login` writes it anew
    return doc.get("sessions", {}) if isinstance(doc, dict) else {}


def tokens_of(workspace_id: str) -> dict[str, str]:
    """{user id: token} of the sessions this OS user holds in the workspace."""
    return {user: entry["token"] for user, entry in _read(workspace_id).items()
            if isinstance(entry, dict) and isinstance(entry.get("token"), str)}


def prepare_session_file(workspace_id: str) -> Path:
    """The folder of this OS user's session files, made (0700) and checked writable before a
    login. Raises QrecError naming the folder and what to do."""
    path = _session_file(workspace_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = path.with_name(f".probe.{os.getpid()}")
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise QrecError(f"无法保存会话 cannot keep a session in {path.parent}: "
                        f"{exc.strerror or exc}; fix the folder or set XDG_CONFIG_HOME to a "
                        "folder of yours") from None
    return path


def keep_session(workspace_id: str, user: str, token: str | None, expires_at: str = ""
                 ) -> Path:
    """File a session (None: remove the user's), written whole to a 0600 file."""
    path = _session_file(workspace_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    sessions = _read(workspace_id)
    sessions.pop(user, None)
    if token:
        sessions[user] = {"token": token, "expires_at": expires_at}
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"sessions": sessions}, out, indent=2)
    os.replace(temporary, path)
    return path


def read_password(prompt: str, confirm: bool = False) -> str:
    """A password from a hidden prompt on a terminal, else the first line of standard input.
    Raises QrecError when none is given."""
    if sys.stdin.isatty():
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm,
                                err=True, default="", show_default=False)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise QrecError("未输入密码 no password given: type it at the prompt or pipe it on "
                        "standard input (never as an argument)", param="password")
    return password


def refuse_password_arguments(extra: tuple) -> None:
    """A password is never an argument (it would be in the shell's history and `ps`)."""
    if extra:
        raise QrecError("密码不得作为参数 a password is never given on the command line: it "
                        "is asked for, or read from standard input", param="password")


def signing(ws, number: str, meaning: str | None) -> dict:
    """What the signer proves before a signature: the version they sign (its DOCX SHA-256,
    which must still be current when the signature is written) and their password, asked
    now. {} for a step that is no signature; no password in a demo."""
    if meaning is None:
        return {}
    from ..api.signatures import current_version

    version = current_version(ws, number, None)
    if ws.demo:
        return {"expected_sha256": version["docx_sha256"]}
    click.echo(f"签名 Signing {number} v{version['version']} (SHA-256 "
               f"{(version['docx_sha256'] or '')[:16]}…) as {ws.actor.name} ({ws.actor.id}), "
               f"meaning {meaning}", err=True)
    return {"expected_sha256": version["docx_sha256"],
            "password": read_password(f"{ws.actor.id} 签名密码 password")}


def signing_password(ws, verb: str) -> str | None:
    """The signer's password for a signature by `verb` (hold, release, dispose, transfer,
    void), asked now; None in a demo."""
    if ws.demo:
        return None
    from ..api.signatures import meaning_of

    click.echo(f"签名 Signing as {ws.actor.name} ({ws.actor.id}), meaning {meaning_of(verb)}",
               err=True)
    return read_password(f"{ws.actor.id} 签名密码 password")
