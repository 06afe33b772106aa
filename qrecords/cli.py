"""The `qrec` command: parse, prompt, print. Every command calls one Workspace method, or one
function of a feature module (disposal, verify, register, reports, audit_pack)."""

from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager

import click

from .errors import QrecError


# Control characters a message may quote from the user (a number, a user name): shown escaped,
# so a hostile argument cannot drive the terminal. Newline and tab are the message's own.
_RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Cli(click.Group):
    """Maps user-facing errors to `Error: ...` on stderr and exit 1 (a traceback only with
    --debug); click's own usage errors keep exit 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("qrec.debug"):
                raise
            if isinstance(exc, QrecError):
                message = str(exc)
            elif isinstance(exc, OSError):
                message = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
            else:
                message = (f"internal error ({type(exc).__name__}: {exc}); run with --debug "
                           "for the traceback")
            message = _RAW.sub(lambda m: repr(m.group())[1:-1], message)
            click.echo(f"Error: {message}", err=True)
            ctx.exit(1)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-w", "--workspace", metavar="PATH", help="Workspace folder (else "
              "QREC_WORKSPACE, else the current folder or a parent with qrecords.yaml).")
@click.option("--as", "user", metavar="USER", help="Acting user (else QREC_USER, else the "
              "workspace's default_user).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="qrecords")
@click.pass_context
def cli(ctx, workspace, user, debug):
    """qrecords — controlled ISO 9001 forms, filled and kept as records.

    受控表单的填写与记录保存。"""
    ctx.meta["qrec.debug"] = debug
    ctx.obj = {"workspace": workspace, "user": user}


def _workspace(ctx, sync_index: bool = True):
    """The workspace of the command. Opening it brings the search index up to date, so a
    command that crashed between catalog and index is healed by the next one."""
    from .workspace import Workspace

    ws = Workspace.find(ctx.obj["workspace"])
    if ctx.obj["user"] is not None:
        ws.user(ctx.obj["user"])  # an unknown --as is refused by every command
    if sync_index:
        ws.sync_index()

    def close():
        ws.close()  # updates the index first, which may add a notice
        for notice in ws.notices:
            click.echo(f"Warning: {notice}", err=True)

    ctx.call_on_close(close)
    return ws


@contextmanager
def _progress(label: str):
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


def _json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


# -- workspace and forms -------------------------------------------------------------------


@cli.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
def init(path):
    """Make a workspace with the built-in forms."""
    from .workspace import Workspace

    ws = Workspace.init(path)
    click.echo(f"Workspace ready: {ws.root}")
    click.echo(f"Forms: {', '.join(ws.form_ids())}")
    ws.close()


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def forms(ctx, as_json):
    """List the workspace's forms (and `forms show`, `forms check`)."""
    if ctx.invoked_subcommand:
        return
    from .present import forms_table

    ws = _workspace(ctx)
    rows = [ws.form(form_id) for form_id in ws.form_ids()]
    if as_json:
        _json([{"id": f.id, "title": {"zh": f.title.zh, "en": f.title.en},
                "form_number": f.form_number, "revision": f.revision,
                "number_pattern": f.number_pattern, "fields": len(f.fields)} for f in rows])
    else:
        click.echo(forms_table(rows))


@forms.command("show")
@click.argument("form_id", metavar="FORM")
@json_option
@click.pass_context
def forms_show(ctx, form_id, as_json):
    """Describe a form: its fields, types, rules."""
    from .present import form_as_dict, form_text

    form = _workspace(ctx).form(form_id)
    _json(form_as_dict(form)) if as_json else click.echo(form_text(form))


@forms.command("check")
@click.argument("form_id", metavar="[FORM]", required=False)
@json_option
@click.pass_context
def forms_check(ctx, form_id, as_json):
    """Lint forms: schema valid, template placeholders match fields. Exit 1 on a problem."""
    ws = _workspace(ctx)
    ids = [form_id] if form_id else ws.form_ids()
    results = {fid: ws.check_form(fid) for fid in ids}
    if as_json:
        _json(results)
    else:
        for fid, problems in results.items():
            click.echo(f"{'✓' if not problems else '✗'} {fid}")
            for problem in problems:
                click.echo(f"    {problem}")
    if any(results.values()):
        ctx.exit(1)


# -- records -------------------------------------------------------------------------------


def _data_options(func):
    func = click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
                        help="Set one field (repeatable).")(func)
    return click.option("--data", "data_file", metavar="FILE",
                        help="YAML or JSON file of field values ('-' for stdin).")(func)


def _gather(data_file, assignments) -> dict:
    from .inputs import load_data_file, parse_assignments

    data = load_data_file(data_file) if data_file else {}
    data.update(parse_assignments(assignments))
    return data


def _print_record(ws, record: dict, as_json: bool) -> None:
    from .present import record_text, tombstone_text

    if as_json:
        _json(record)
    elif "disposed" in record:
        click.echo(tombstone_text(record["disposed"]))
    else:
        click.echo(record_text(record, ws.form_of(record["number"])))


@cli.command()
@click.argument("form_id", metavar="FORM")
@_data_options
@click.option("--follows", metavar="NUMBER", help="Open a follow-up of a closed record whose "
              "outcome was rejected (copies its customer and product).")
@json_option
@click.pass_context
def new(ctx, form_id, data_file, assignments, follows, as_json):
    """Fill a new record of FORM (prompts for fields at a terminal without --data/--set)."""
    ws = _workspace(ctx)
    data = _gather(data_file, assignments)
    if sys.stdin.isatty() and data_file != "-" and not follows:
        from .prompting import prompt_fields

        from .clock import today

        data = prompt_fields(ws.form(form_id), data, only_missing_required=bool(data),
                             today=today().isoformat())
    _print_record(ws, ws.new_record(form_id, data, user=ctx.obj["user"], follows=follows),
                  as_json)


@cli.command()
@click.argument("number")
@_data_options
@click.option("--reason", required=True, help="Why the record changes (kept in its history).")
@json_option
@click.pass_context
def amend(ctx, number, data_file, assignments, reason, as_json):
    """Make a new version of a record with changed fields."""
    ws = _workspace(ctx)
    changes = _gather(data_file, assignments)
    if not changes:
        raise QrecError("nothing to change: give --data FILE or --set FIELD=VALUE")
    _print_record(ws, ws.amend(number, changes, reason, user=ctx.obj["user"]), as_json)


@cli.command("do")
@click.argument("number")
@click.argument("action", required=False)
@_data_options
@click.option("--comment", metavar="TEXT", help="Why (recorded with the step).")
@json_option
@click.pass_context
def do_step(ctx, number, action, data_file, assignments, comment, as_json):
    """Take a workflow step (without ACTION: list the steps possible now). 办理流程步骤。"""
    ws = _workspace(ctx)
    if action is None:
        steps = ws.actions(number, user=ctx.obj["user"])
        if as_json:
            _json(steps)
        else:
            from .present import actions_text

            click.echo(actions_text(number, steps))
        return
    _print_record(ws, ws.transition(number, action, _gather(data_file, assignments), comment,
                                    user=ctx.obj["user"]), as_json)


@cli.command()
@json_option
@click.pass_context
def overdue(ctx, as_json):
    """Open cases past their deadline, most overdue first. 逾期未结案件。"""
    cases = _workspace(ctx).overdue()
    if as_json:
        _json(cases)
    else:
        from .present import overdue_text

        click.echo(overdue_text(cases))


@cli.command()
@json_option
@click.pass_context
def remind(ctx, as_json):
    """Make a reminder 催办单 (DOCX and PDF) for every overdue case."""
    made = _workspace(ctx).remind(user=ctx.obj["user"])
    if as_json:
        _json(made)
    else:
        from .present import overdue_text

        click.echo(overdue_text(made, files=True))


@cli.command()
@click.argument("number")
@click.argument("decision")
@click.option("--comment", metavar="TEXT", help="The reason, condition or objection.")
@json_option
@click.pass_context
def sign(ctx, number, decision, comment, as_json):
    """Sign your department's review row: e.g. feasible, conditional, not_feasible. 会签。"""
    ws = _workspace(ctx)
    _print_record(ws, ws.sign(number, decision, comment, user=ctx.obj["user"]), as_json)


@cli.command()
@click.argument("number")
@click.option("--version", "version", type=click.IntRange(min=1), help="An earlier version.")
@json_option
@click.pass_context
def show(ctx, number, version, as_json):
    """Show a record (its current version unless --version)."""
    ws = _workspace(ctx)
    _print_record(ws, ws.show(number, version, user=ctx.obj["user"]), as_json)


@cli.command()
@click.argument("number")
@json_option
@click.pass_context
def history(ctx, number, as_json):
    """Every version of a record: who, when, why, what changed."""
    from .present import history_text

    story = _workspace(ctx).history(number)
    _json(story) if as_json else click.echo(history_text(number, story))


@cli.command()
@click.argument("number")
@click.argument("a", type=click.IntRange(min=1), required=False)
@click.argument("b", type=click.IntRange(min=1), required=False)
@json_option
@click.pass_context
def diff(ctx, number, a, b, as_json):
    """Field-by-field changes between versions A and B (default: the last change)."""
    from .present import diff_text

    result = _workspace(ctx).diff(number, a, b, user=ctx.obj["user"])
    _json(result) if as_json else click.echo(diff_text(result))


@cli.command()
@click.argument("number", required=False)
@click.option("--version", "version", type=click.IntRange(min=1), help="An earlier version.")
@click.option("--all", "all_missing", is_flag=True, help="Every version that lacks a PDF.")
@click.option("--dry-run", is_flag=True, help="With --all: only list what lacks a PDF.")
@json_option
@click.pass_context
def render(ctx, number, version, all_missing, dry_run, as_json):
    """Make missing PDFs (an existing file is never replaced)."""
    if bool(number) == all_missing:
        raise click.UsageError("give a record NUMBER or --all")
    if (version and all_missing) or (dry_run and not all_missing):
        raise click.UsageError("--version goes with NUMBER, --dry-run with --all")
    ws = _workspace(ctx)
    if number:
        done = [ws.render(number, version, user=ctx.obj["user"])]
    else:
        from .present import render_rows

        missing = ws.missing_pdfs()
        if dry_run:
            _json(missing) if as_json else click.echo(render_rows(missing, "lacks a PDF"))
            return
        with click.progressbar(length=len(missing), label="PDF", file=sys.stderr) as bar:
            done = ws.render_all(user=ctx.obj["user"], progress=lambda item: bar.update(1))
    if as_json:
        _json(done)
    else:
        for item in done:
            state = "failed" if "error" in item else ("made" if item["made"] else "exists")
            click.echo(f"{item['number']} v{item['version']}  {state:6}  "
                       f"{item.get('error') or item['pdf']}")
    if any("error" in item for item in done):
        ctx.exit(1)


# -- search --------------------------------------------------------------------------------


# A query may start with "-" (`qrec search -2016`): an unknown option is taken as the query.
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("query")
@click.option("--form", "form_id", metavar="FORM", help="Only records of this form.")
@click.option("--status", "status_", metavar="STATUS", help="Only records in this status.")
@click.option("--customer", metavar="TEXT", help="Only records whose customer contains TEXT.")
@click.option("--from", "date_from", metavar="DATE", help="Records dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Records dated on or before DATE.")
@click.option("--limit", default=20, show_default=True, type=int, help="At most N hits.")
@click.option("--all-versions", is_flag=True, help="Earlier versions too, not only current.")
@json_option
@click.pass_context
def search(ctx, query, form_id, status_, customer, date_from, date_to, limit, all_versions,
           as_json):
    """Search records (Whoosh query language; see the README). 检索记录。"""
    found = _workspace(ctx).search(query, form=form_id, status_=status_, customer=customer,
                                   date_from=date_from, date_to=date_to, limit=limit,
                                   all_versions=all_versions, user=ctx.obj["user"])
    for note in found.get("notes", []):
        click.echo(f"Warning: {note}", err=True)
    if as_json:
        _json(found)
    else:
        from .present import search_text

        click.echo(search_text(found, all_versions))


@cli.group("index")
def index_group():
    """Check or rebuild the search index (it is derived from the catalog)."""


@index_group.command("check")
@json_option
@click.pass_context
def index_check(ctx, as_json):
    """List every difference between catalog and index. Exit 1 if there is one."""
    report = _workspace(ctx, sync_index=False).check_index()
    if as_json:
        _json(report)
    else:
        from .present import index_check_text

        click.echo(index_check_text(report))
    if report["differences"] or report["pending"]:
        ctx.exit(1)


@index_group.command("rebuild")
@json_option
@click.pass_context
def index_rebuild(ctx, as_json):
    """Rebuild the index from the catalog (searches go on meanwhile)."""
    ws = _workspace(ctx, sync_index=False)
    with _progress("索引 index") as progress:
        count = ws.rebuild_index(progress)
    if as_json:
        _json({"records": count})
    else:
        click.echo(f"Index rebuilt: {count} records 已重建索引")


# -- retention -----------------------------------------------------------------------------


@cli.group("retention")
def retention_group():
    """What is kept, and what is due for disposal. 保存期限。"""


@retention_group.command("status")
@json_option
@click.pass_context
def retention_status(ctx, as_json):
    """Per form: open, retained, due, on hold and disposed records."""
    from . import disposal
    from .present import retention_status_text

    rows = disposal.status(_workspace(ctx))
    _json(rows) if as_json else click.echo(retention_status_text(rows))


@retention_group.command("due")
@json_option
@click.pass_context
def retention_due(ctx, as_json):
    """Closed records whose retention period has ended, with the date it ended."""
    from . import disposal
    from .present import retention_due_text

    rows = disposal.due(_workspace(ctx))
    _json(rows) if as_json else click.echo(retention_due_text(rows))


@cli.group("hold")
def hold_group():
    """Legal holds: a held record is never disposed of. 保全。"""


def _hold_command(place: bool):
    @click.argument("numbers", metavar="NUMBER...", nargs=-1, required=True)
    @click.option("--reason", required=True, help="Why (kept in the record's history).")
    @json_option
    @click.pass_context
    def command(ctx, numbers, reason, as_json):
        from . import disposal

        done = disposal.hold(_workspace(ctx), list(numbers), reason, ctx.obj["user"], place)
        if as_json:
            _json(done)
        else:
            for item in done:
                click.echo(f"{item['number']}  {'on hold 保全中' if place else 'released 已解除'}")
    return command


hold_group.command("add", help="Place a hold on records (document controller).")(
    _hold_command(True))
hold_group.command("release", help="Release the hold of records (document controller).")(
    _hold_command(False))


@cli.command()
@click.argument("numbers", metavar="[NUMBER...]", nargs=-1)
@click.option("--due", "all_due", is_flag=True, help="Every due record not on hold.")
@click.option("--reason", required=True, help="Why (kept in the tombstones and the list).")
@click.option("--dry-run", is_flag=True, help="Only list what would be disposed of.")
@json_option
@click.pass_context
def dispose(ctx, numbers, all_due, reason, dry_run, as_json):
    """Dispose of records whose retention has ended (document controller). 记录销毁。"""
    from . import disposal
    from .present import disposal_text

    if bool(numbers) == all_due:
        raise click.UsageError("give record NUMBERs or --due")
    ws = _workspace(ctx)
    with _progress("销毁 dispose") as progress:
        result = disposal.dispose(ws, list(numbers), all_due, reason, ctx.obj["user"],
                                  dry_run=dry_run, progress=progress)
    _json(result) if as_json else click.echo(disposal_text(result))


# -- audit -----------------------------------------------------------------------------------


@cli.command("verify")
@click.option("--repair", is_flag=True, help="Finish interrupted disposals and move files the "
              "catalog does not know to debris/, then verify.")
@json_option
@click.pass_context
def verify_command(ctx, repair, as_json):
    """Check every file's SHA-256, the audit log's hash chain, tombstones and the index.
    Exit 1 naming each fault. 完整性校验。"""
    from . import verify

    ws = _workspace(ctx)
    repaired = verify.repair(ws) if repair else []
    with _progress("校验 verify") as progress:
        result = verify.verify(ws, progress)
    if as_json:
        _json({**result, "repaired": repaired})
    else:
        for line in repaired:
            click.echo(line)
        for item in result["faults"]:
            click.echo(item["problem"])
        click.echo(verify.summary(result))
    if not result["ok"]:
        ctx.exit(1)


@cli.command("audit-pack")
@click.argument("out", metavar="OUT.zip")
@click.option("--form", "form_id", metavar="FORM", help="Only this form's records.")
@click.option("--from", "date_from", metavar="DATE", help="Records dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Records dated on or before DATE.")
@click.option("--all-versions", is_flag=True, help="Every version's files, not only current.")
@json_option
@click.pass_context
def audit_pack(ctx, out, form_id, date_from, date_to, all_versions, as_json):
    """The records of a period for an auditor, with a manifest to check them by. 审核资料包。"""
    from .audit_pack import build
    from .present import audit_pack_text

    with _progress("打包 pack") as progress:
        made = build(_workspace(ctx), out, form_id, date_from, date_to, all_versions,
                     user=ctx.obj["user"], progress=progress)
    _json(made) if as_json else click.echo(audit_pack_text(made))
    if not made["verify_ok"]:
        ctx.exit(1)


# -- registers and reports -------------------------------------------------------------------


@cli.command()
@click.argument("form_id", metavar="FORM")
@click.option("--out", required=True, metavar="FILE", help="FILE.xlsx or FILE.csv.")
@click.option("--from", "date_from", metavar="DATE", help="Records dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Records dated on or before DATE.")
@json_option
@click.pass_context
def register(ctx, form_id, out, date_from, date_to, as_json):
    """Write the register 台账 of FORM: one row per record."""
    from .present import register_text
    from .register import export

    result = export(_workspace(ctx), form_id, out, date_from, date_to, user=ctx.obj["user"])
    _json(result) if as_json else click.echo(register_text(result))


@cli.group("report")
def report_group():
    """Reports made as controlled documents. 统计报表。"""


@report_group.command("complaints")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month reported on.")
@click.option("--out", required=True, metavar="FILE", help="FILE.pdf or FILE.docx.")
@json_option
@click.pass_context
def report_complaints(ctx, month, out, as_json):
    """The monthly complaint statistics 客户投诉案件统计表 (PDF or DOCX)."""
    from .present import complaint_report_text
    from .reports import report_complaints as make

    report = make(_workspace(ctx), month, out, user=ctx.obj["user"])
    _json(report) if as_json else click.echo(complaint_report_text(report))


def main() -> None:
    import signal

    # SIGTERM exits like Ctrl-C does, so exit handlers stop LibreOffice and remove temp files.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cli(prog_name="qrec")
