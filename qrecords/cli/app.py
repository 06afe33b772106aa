"""The `qrec` group: global options, opening the unit of work, printing errors and data.

Commands live in records.py (forms, records, workflow) and archive.py (search, retention,
audit); each parses its arguments, opens the workspace as the acting user, calls one verb of
qrecords.api and prints the result (`--json` prints it as JSON).
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from ..errors import QrecError
from ..text_rules import escaped_controls

# Verb parameters whose option has another name in this face (the rest are spelled alike:
# `reason` is --reason). Global options: the acting user and the workspace.
RENAMED = {"status": "status_", "form": "form_id"}
GLOBAL = {"user": "--as", "workspace": "-w"}


def flag_of(command: click.Command | None, param: str | None) -> str | None:
    """How the command the user ran spells the verb parameter `param` (`--from` for
    date_from), or None when it has no such option (a positional argument, or none). A
    command's own argument wins over a global option (`users grant USER` is about USER, not
    --as)."""
    arguments = {a.name for a in (command.params if command else [])
                 if isinstance(a, click.Argument)}
    if param in arguments or f"{param}_id" in arguments:
        return None
    if param in GLOBAL:
        return GLOBAL[param]
    for option in (command.params if command and param else []):
        if isinstance(option, click.Option) and (option.name == RENAMED.get(param, param)
                                                 or f"--{param}" in option.opts):
            return max(option.opts, key=len)
    return None


def error_text(exc: BaseException, command: click.Command | None = None) -> str:
    """The one line (or the problem list) printed after `Error: ` for an exception raised
    while `command` ran."""
    if isinstance(exc, QrecError):
        message = str(exc)
        flag = flag_of(command, exc.param)
        if flag:
            message = f"{flag}: {message}"
    elif isinstance(exc, OSError):
        message = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    else:
        message = (f"internal error ({type(exc).__name__}: {exc}); run with --debug for the "
                   "traceback")
    return escaped_controls(message)


class _Command(click.Command):
    """A command that notes itself as the one running (its options name the parameters an
    error is about)."""

    def invoke(self, ctx):
        ctx.meta["qrec.command"] = self
        return super().invoke(ctx)


class _Group(click.Group):
    command_class = _Command
    group_class = type  # subgroups are of this class too


# The modules of this package that define each command (and add subcommands to it): a
# command's modules are imported when it runs, so a cold `qrec search` loads archive.py
# alone. tests/test_cold_start.py checks this table against the commands the modules make.
COMMAND_MODULES = {
    "amend": ("records",), "diff": ("records",), "do": ("records",),
    "forms": ("records", "controller"), "history": ("records",), "init": ("records",),
    "new": ("records",), "overdue": ("records",), "remind": ("records",),
    "render": ("records",), "show": ("records",), "sign": ("records",),
    "audit-pack": ("archive",), "checkpoint": ("archive",), "dispose": ("archive",),
    "hold": ("archive",), "index": ("archive",), "register": ("archive",),
    "report": ("archive",), "retention": ("archive",), "search": ("archive",),
    "transfer": ("archive",), "verify": ("archive",),
    "import": ("controller",), "void": ("controller",),
    "db": ("shared",), "migrate": ("shared",),
    "login": ("users",), "logout": ("users",), "users": ("users",),
    "serve": ("serve",),
}


def load_commands(names=None) -> None:
    """Import the modules defining the commands `names` (all commands when None)."""
    from importlib import import_module

    for name in COMMAND_MODULES if names is None else names:
        for module in COMMAND_MODULES.get(name, ()):
            import_module(f"{__package__}.{module}")


# Said when a command is stopped: what it stored before stays whole (each record is one
# transaction), and a record stored without its PDF gets it from `qrec render --all`.
INTERRUPTED = ("已中断 interrupted: what was stored before stays; `qrec verify` checks the "
               "workspace")


class _Cli(_Group):
    """Maps errors to `Error: ...` on stderr and the error's exit code (a traceback only
    with --debug); click's own usage errors keep exit 2. Commands are loaded when asked for
    (COMMAND_MODULES)."""

    group_class = _Group

    def get_command(self, ctx, name):
        load_commands([name])
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        load_commands()
        return super().list_commands(ctx)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except (click.Abort, KeyboardInterrupt) as stop:  # Ctrl-C, or end of input at a prompt
            click.echo(f"\nError: {INTERRUPTED}", err=True)
            ctx.exit(130 if isinstance(stop, KeyboardInterrupt) else 1)
        except Exception as exc:
            if ctx.meta.get("qrec.debug"):
                raise
            click.echo(f"Error: {error_text(exc, ctx.meta.get('qrec.command'))}", err=True)
            ctx.exit(exc.exit_code if isinstance(exc, QrecError) else 1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-w", "--workspace", metavar="PATH", help="Workspace folder (else "
              "QREC_WORKSPACE, else the current folder or a parent with qrecords.yaml).")
@click.option("--as", "user", metavar="USER", help="Acting user, among those you are logged "
              "in as (else QREC_USER; a demo workspace: anyone, else its default_user).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="qrecords")
@click.pass_context
def cli(ctx, workspace, user, debug):
    """qrecords — controlled ISO 9001 forms, filled and kept as records.

    受控表单的填写与记录保存。"""
    ctx.meta["qrec.debug"] = debug
    ctx.obj = {"workspace": workspace, "user": user}


def open_workspace(ctx, sync_index: bool = True):
    """The unit of work of the command, acting as a user the person has proved: --as, else
    QREC_USER, choose among the users they are logged in as (`qrec login`) or the user their
    operating-system account is bound to; in a demonstration workspace anyone may act as
    anyone (else the default_user). Opening it brings the search index up to date, so a
    command that crashed between catalog and index is healed by the next one. Closed (with
    its notices printed as warnings) when the command ends."""
    from ..api.sessions import proven_actor
    from ..settings import find_root
    from ..workspace import Workspace
    from .identity import os_account, tokens_of

    root = find_root(ctx.obj["workspace"])
    ws = Workspace.open(root, proven_actor(claimed_user(ctx), tokens_of, os_account()))
    ctx.call_on_close(lambda: _close(ws))
    if sync_index:  # a damaged index never stops a command that does not search
        ws.try_sync_index()
    return ws


def claimed_user(ctx) -> str | None:
    """The user asked for: --as, else QREC_USER (None when neither)."""
    from ..settings import environment_user

    given = ctx.obj["user"]
    if given is not None and not given.strip():
        raise QrecError("was given an empty user name", param="user")
    return given or environment_user()


def _close(ws) -> None:
    ws.close()  # updates the index first, which may add a notice
    for notice in ws.notices:
        click.echo(f"Warning: {notice}", err=True)


@contextmanager
def progress_bar(label: str):
    """A `progress(done, total)` callback drawing a bar on stderr, shown from the first call
    on (work refused before it starts shows none)."""
    bars = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label=label, file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(done - bars[0].pos)

    try:
        yield progress
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def print_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def output(value, as_json: bool, text) -> None:
    """Print `value` as JSON, or as `text(value)` for people."""
    print_json(value) if as_json else click.echo(text(value))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def main() -> None:
    import signal

    # SIGTERM exits like Ctrl-C does, so exit handlers stop LibreOffice and remove temp files.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cli(prog_name="qrec")
