"""Commands for workspaces, forms, records and their workflow: init, forms, new, amend, show,
history, diff, render, do, sign, overdue, remind."""

from __future__ import annotations

import sys

import click

from ..errors import QrecError
from .app import cli, json_option, open_workspace, output, print_json


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--catalog", help="共享目录库 / shared catalog: postgresql://user@host:port/db")
@click.option("--files", help="共享文件库 / shared file store: s3://bucket/prefix")
@click.option("--s3-endpoint", help="S3 端点 / S3 endpoint URL (omit for AWS)")
@click.option("--machines", type=click.Choice(["one", "several"]),
              help="使用此档案的机器数 / how many machines use this archive")
@click.option("--demo", is_flag=True, help="演示或培训工作区 / a demonstration or training "
              "workspace: QREC_TODAY is honoured, anyone may act as anyone, documents carry "
              "演示 DEMO.")
@click.option("--time-zone", metavar="ZONE", help="时区 / the zone of every date, fixed at init "
              "(IANA name; default Asia/Shanghai)")
def init(path, catalog, files, s3_endpoint, machines, demo, time_zone):
    """Make a workspace with the built-in forms; its users come from qrecords.yaml, and (in a
    normal workspace) this operating-system account is bound to the document controller."""
    from ..workspace import create_workspace
    from .identity import os_account

    account = None if demo else os_account()
    root = create_workspace(path, {"catalog": catalog, "files": files,
                                   "s3_endpoint": s3_endpoint, "machines": machines},
                            demo=demo, os_account=account, time_zone=time_zone)
    click.echo(f"工作区已就绪 Workspace ready: {root}" + ("  (演示 DEMO)" if demo else ""))
    binding = _binding(root, account) if account else ""
    if binding:
        click.echo(binding)
    click.echo(f"Forms: {', '.join(sorted(p.stem for p in (root / 'schemas').glob('*.yaml')))}")


def _binding(root, account: str) -> str:
    """What this OS account acts as in the workspace just made ("" in a demonstration, where
    anyone acts as anyone): bound to the document controller when init made the catalog;
    when it joined one, whatever that catalog says (a machine joining binds nothing)."""
    from ..api.sessions import proven_actor
    from ..errors import NotAuthenticated
    from ..workspace import Workspace

    try:
        ws = Workspace.open(root, proven_actor(None, lambda workspace_id: {}, account))
    except NotAuthenticated:
        return (f"操作系统账户 {account} 未绑定用户 OS account {account} is bound to no user of "
                "this archive: log in with `qrec login USER`")
    try:
        if ws.demo:  # anyone acts as anyone: no account is bound
            return ""
        return (f"操作系统账户 OS account {account} is bound to {ws.actor.id} ({ws.actor.name}, "
                f"{', '.join(ws.actor.roles)}); set passwords with `qrec users passwd USER`")
    finally:
        ws.close()


# -- forms -----------------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def forms(ctx, as_json):
    """List the workspace's forms, in use or retired 已停用 (and `forms show`, `check` ...)."""
    if ctx.invoked_subcommand:
        return
    from ..api.form_check import list_forms
    from .present import forms_table

    found = list_forms(open_workspace(ctx))
    print_json(found) if as_json else click.echo(forms_table(found))


@forms.command("show")
@click.argument("form_id", metavar="FORM")
@json_option
@click.pass_context
def forms_show(ctx, form_id, as_json):
    """Describe a form: its fields, types, rules."""
    from .present import form_as_dict, form_text

    form = open_workspace(ctx).forms.current(form_id)
    print_json(form_as_dict(form)) if as_json else click.echo(form_text(form))


@forms.command("check")
@click.argument("form_id", metavar="[FORM]", required=False)
@json_option
@click.pass_context
def forms_check(ctx, form_id, as_json):
    """Lint forms: schema, template (tracked changes, placeholders, a trial fill-in with
    sample data), number pattern, roles, departments. Exit 1 on an error; warnings only: 0."""
    from ..api.form_check import check_form

    ws = open_workspace(ctx)
    results = {fid: check_form(ws, fid) for fid in ([form_id] if form_id else ws.forms.ids())}
    if as_json:
        print_json(results)
    else:
        for fid, found in results.items():
            click.echo(f"{'✗' if found['errors'] else '✓'} {fid}")
            for problem in found["errors"]:
                click.echo(f"    错误 error: {problem}")
            for warning in found["warnings"]:
                click.echo(f"    警告 warning: {warning}")
    if any(found["errors"] for found in results.values()):
        ctx.exit(1)


@forms.command("history")
@click.argument("form_id", metavar="FORM")
@json_option
@click.pass_context
def forms_history(ctx, form_id, as_json):
    """Every revision of FORM the catalog froze (when, by whom, SHA-256) and its retirement."""
    from ..api.form_revisions import history
    from .present import form_history_text

    output(history(open_workspace(ctx), form_id), as_json, form_history_text)


@forms.command("retire")
@click.argument("form_id", metavar="FORM")
@click.option("--reason", required=True, help="Why the form is no longer used (kept in the "
              "audit trail).")
@json_option
@click.pass_context
def forms_retire(ctx, form_id, reason, as_json):
    """Retire FORM 停用 (document controller): no new records; its records stay."""
    from ..api.form_revisions import retire

    output(retire(open_workspace(ctx), form_id, reason), as_json, retired_text)


def retired_text(retired: dict) -> str:
    from .controller import copies_text

    lines = [f"已停用 Retired {retired['form']} rev {retired['revision']} on {retired['on']}: "
             "no new records of it; its records keep their workflow, retention and search."]
    if retired["to_recall"]:
        lines += ["", "受控副本待回收 Controlled copies to recall:",
                  copies_text(retired["to_recall"])]
    return "\n".join(lines)


# -- records ---------------------------------------------------------------------------------


def data_options(func):
    func = click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
                        help="Set one field (repeatable).")(func)
    return click.option("--data", "data_file", metavar="FILE",
                        help="YAML or JSON file of field values ('-' for stdin).")(func)


def gather(data_file, assignments) -> dict:
    from ..inputs import load_data_file, parse_assignments

    data = load_data_file(data_file) if data_file else {}
    data.update(parse_assignments(assignments))
    return data


def print_record(ws, record: dict, as_json: bool) -> None:
    from .present import record_text, tombstone_text

    if as_json:
        print_json(record)
    elif "disposed" in record:
        click.echo(tombstone_text(record["disposed"]))
    else:
        click.echo(record_text(record, ws.forms.revision(record["form"],
                                                          record["form_revision"])))


@cli.command()
@click.argument("form_id", metavar="FORM")
@data_options
@click.option("--follows", metavar="NUMBER", help="Open a follow-up of a closed record, when "
              "the form's workflow has one (a complaint whose outcome was rejected: copies "
              "its customer and product).")
@click.option("--dry-run", is_flag=True, help="Check and show what would be stored; store "
              "nothing and use no number. 试填，不保存。")
@json_option
@click.pass_context
def new(ctx, form_id, data_file, assignments, follows, dry_run, as_json):
    """Fill a new record of FORM. At a terminal without --data: asks the fields a person
    fills (not those a workflow step fills later), checks each answer, shows a summary and
    asks before saving."""
    from ..api import records

    ws = open_workspace(ctx)
    data = gather(data_file, assignments)
    if sys.stdin.isatty() and data_file != "-" and not follows:
        data = _fill_in(ctx, ws, form_id, data, dry_run)
    if dry_run:
        from .present import preview_text

        form = ws.forms.current(form_id)
        output(records.preview_record(ws, form_id, data, follows), as_json,
               lambda preview: preview_text(preview, form)
               + "\n试运行，未保存 Dry run: nothing was stored, no number used")
        return
    print_record(ws, records.new_record(ws, form_id, data, follows=follows), as_json)


def _fill_in(ctx, ws, form_id: str, data: dict, dry_run: bool) -> dict:
    """The data typed at the terminal; with something typed, its summary and 保存？ before
    it is saved. Ctrl-C, end of input or "no" end the command (exit 1) with nothing stored."""
    from ..api import records
    from ..clock import today
    from .present import preview_text
    from .prompting import confirm, prompt_fields

    form = records.form_for_new(ws, form_id)  # a retired form is said before any question
    try:
        typed = prompt_fields(form, data, only_missing_required=bool(data),
                              today=today().isoformat())
        if typed == data or dry_run:  # nothing asked; or the dry run shows it on stdout
            return typed
        click.echo("\n" + preview_text(records.preview_record(ws, form_id, typed), form)
                   + "\n", err=True)
        if confirm("保存？ save?"):
            return typed
        message = "未保存 not saved: nothing was stored"
    except (click.Abort, KeyboardInterrupt):
        message = "已取消，未保存 cancelled: nothing was stored"
    click.echo(f"\nError: {message}", err=True)
    ctx.exit(1)


@cli.command()
@click.argument("number")
@data_options
@click.option("--reason", required=True, help="Why the record changes (kept in its history).")
@json_option
@click.pass_context
def amend(ctx, number, data_file, assignments, reason, as_json):
    """Make a new version of a record with changed fields."""
    from ..api import records

    ws = open_workspace(ctx)
    changes = gather(data_file, assignments)
    if not changes:
        raise QrecError("nothing to change: give --data FILE or --set FIELD=VALUE")
    print_record(ws, records.amend(ws, number, changes, reason), as_json)


@cli.command()
@click.argument("number")
@click.option("--version", "version", type=click.IntRange(min=1), help="An earlier version.")
@json_option
@click.pass_context
def show(ctx, number, version, as_json):
    """Show a record (its current version unless --version)."""
    from ..api import records

    ws = open_workspace(ctx)
    print_record(ws, records.show(ws, number, version), as_json)


@cli.command()
@click.argument("number")
@json_option
@click.pass_context
def history(ctx, number, as_json):
    """Every version of a record: who, when, why, what changed."""
    from ..api import records
    from .present import history_text

    story = records.history(open_workspace(ctx), number)
    output(story, as_json, lambda s: history_text(number, s))


@cli.command()
@click.argument("number")
@click.argument("a", type=click.IntRange(min=1), required=False)
@click.argument("b", type=click.IntRange(min=1), required=False)
@json_option
@click.pass_context
def diff(ctx, number, a, b, as_json):
    """Field-by-field changes between versions A and B (default: the last change)."""
    from ..api import records
    from .present import diff_text

    output(records.diff(open_workspace(ctx), number, a, b), as_json, diff_text)


@cli.command()
@click.argument("number", required=False)
@click.option("--version", "version", type=click.IntRange(min=1), help="An earlier version.")
@click.option("--all", "all_missing", is_flag=True, help="Every version that lacks a PDF.")
@click.option("--dry-run", is_flag=True, help="With --all: only list what lacks a PDF.")
@json_option
@click.pass_context
def render(ctx, number, version, all_missing, dry_run, as_json):
    """Make missing PDFs (an existing file is never replaced)."""
    from ..api import pdfs

    if bool(number) == all_missing:
        raise click.UsageError("give a record NUMBER or --all")
    if (version and all_missing) or (dry_run and not all_missing):
        raise click.UsageError("--version goes with NUMBER, --dry-run with --all")
    ws = open_workspace(ctx)
    if number:
        done = [pdfs.render(ws, number, version)]
    else:
        from .present import render_rows

        missing = pdfs.missing_pdfs(ws)
        if dry_run:
            output(missing, as_json, lambda rows: render_rows(rows, "PDF"))
            return
        with click.progressbar(length=len(missing), label="PDF", file=sys.stderr) as bar:
            done = pdfs.render_all(ws, progress=lambda item: bar.update(1))
    if as_json:
        print_json(done)
    else:
        for item in done:
            state = "failed" if "error" in item else ("made" if item["made"] else "exists")
            click.echo(f"{item['number']} v{item['version']}  {state:6}  "
                       f"{item.get('error') or item['pdf']}")
    if any("error" in item for item in done):
        ctx.exit(1)


# -- workflow --------------------------------------------------------------------------------


@cli.command("do")
@click.argument("number")
@click.argument("action", required=False)
@data_options
@click.option("--comment", metavar="TEXT", help="Why (recorded with the step).")
@json_option
@click.pass_context
def do_step(ctx, number, action, data_file, assignments, comment, as_json):
    """Take a workflow step (without ACTION: list the steps possible now). 办理流程步骤。"""
    from ..api import steps

    ws = open_workspace(ctx)
    if action is None:
        from .present import actions_text

        output(steps.actions(ws, number), as_json, lambda found: actions_text(number, found))
        return
    from ..api.signatures import meaning_of
    from .identity import signing

    changes = gather(data_file, assignments)
    if meaning_of(action):  # a step that cannot be taken asks no password
        steps.check_step(ws, number, action, changes, comment)
    proof = signing(ws, number, meaning_of(action))
    print_record(ws, steps.transition(ws, number, action, changes, comment, **proof), as_json)


@cli.command()
@click.argument("number")
@click.argument("decision")
@click.option("--comment", metavar="TEXT", help="The reason, condition or objection.")
@json_option
@click.pass_context
def sign(ctx, number, decision, comment, as_json):
    """Sign your department's review row: e.g. feasible, conditional, not_feasible. 会签。"""
    from ..api import steps

    from ..api.signatures import meaning_of
    from .identity import signing

    ws = open_workspace(ctx)
    steps.check_sign(ws, number, decision, comment)  # a row that cannot be signed asks none
    proof = signing(ws, number, meaning_of("review"))
    print_record(ws, steps.sign(ws, number, decision, comment, **proof), as_json)


@cli.command()
@click.option("--form", "form_id", metavar="FORM", help="Only this form's cases (id or title).")
@click.option("--department", metavar="DEPT", help="Only cases this department holds (id or "
              "name in qrecords.yaml).")
@json_option
@click.pass_context
def overdue(ctx, form_id, department, as_json):
    """Open cases past their deadline, most overdue first. 逾期未结案件。"""
    from ..api import deadlines
    from .present import overdue_text

    output(deadlines.overdue(open_workspace(ctx), form_id, department), as_json,
           overdue_text)


@cli.command()
@json_option
@click.pass_context
def remind(ctx, as_json):
    """Make a reminder 催办单 (DOCX and PDF) for every overdue case."""
    from ..api import deadlines
    from .present import overdue_text

    output(deadlines.remind(open_workspace(ctx)), as_json,
           lambda made: overdue_text(made, files=True))
