"""Commands for the archive: search, index, retention, holds, disposal, verify, audit packs,
registers and reports."""

from __future__ import annotations

import click

from .app import cli, json_option, open_workspace, output, print_json, progress_bar

# -- search ----------------------------------------------------------------------------------


# A query may start with "-" (`qrec search -2016`): an unknown option is taken as the query.
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=True, metavar="QUERY...")
@click.option("--form", "form_id", metavar="FORM", help="Only records of this form (id or "
              "title: 客户投诉处理单).")
@click.option("--status", "status_", metavar="STATUS", help="Only records in this status (id "
              "or label: 已结案).")
@click.option("--customer", metavar="TEXT", help="Only records whose customer contains TEXT.")
@click.option("--from", "date_from", metavar="DATE", help="Records dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Records dated on or before DATE.")
@click.option("--limit", default=20, show_default=True, type=int, help="At most N hits.")
@click.option("--all-versions", is_flag=True, help="Earlier versions too, not only current.")
@json_option
@click.pass_context
def search(ctx, words, form_id, status_, customer, date_from, date_to, limit, all_versions,
           as_json):
    """Search records (the query language of the README; words typed apart are one query:
    `qrec search ISO 9001` is `qrec search "ISO 9001"`). 检索记录。"""
    query = " ".join(words)
    from ..api.search import search as find
    from .present import search_text

    found = find(open_workspace(ctx), query, form=form_id, status=status_, customer=customer,
                 date_from=date_from, date_to=date_to, limit=limit, all_versions=all_versions)
    for note in found.get("notes", []):
        click.echo(f"Warning: {note}", err=True)
    output(found, as_json, lambda f: search_text(f, all_versions))


@cli.group("index")
def index_group():
    """Check or rebuild the search index (it is derived from the catalog)."""


@index_group.command("check")
@json_option
@click.pass_context
def index_check(ctx, as_json):
    """List every difference between catalog and index. Exit 1 if there is one."""
    from ..api.search import check_index
    from .present import index_check_text

    report = check_index(open_workspace(ctx, sync_index=False))
    output(report, as_json, index_check_text)
    if report["differences"] or report["pending"] or report["damaged"]:
        ctx.exit(1)


@index_group.command("rebuild")
@json_option
@click.pass_context
def index_rebuild(ctx, as_json):
    """Rebuild the index from the catalog (searches go on meanwhile)."""
    from ..api.search import rebuild_index

    ws = open_workspace(ctx, sync_index=False)
    with progress_bar("索引 index") as progress:
        count = rebuild_index(ws, progress)
    output({"records": count}, as_json,
           lambda done: f"已重建索引 Index rebuilt: {done['records']} records")


# -- retention -------------------------------------------------------------------------------


@cli.group("retention")
def retention_group():
    """What is kept, and what is due to be destroyed or transferred. 保存期限。"""


@retention_group.command("status")
@click.option("--form", "form_id", metavar="FORM", help="Only this form (id or title).")
@json_option
@click.pass_context
def retention_status(ctx, form_id, as_json):
    """Per form: open, retained, due, on hold, destroyed and transferred records."""
    from ..api import disposal
    from .present import retention_status_text

    output(disposal.status(open_workspace(ctx), form_id), as_json, retention_status_text)


@retention_group.command("due")
@click.option("--form", "form_id", metavar="FORM", help="Only this form's records (id or "
              "title).")
@json_option
@click.pass_context
def retention_due(ctx, form_id, as_json):
    """Closed records whose retention period has ended, with the date it ended and what
    their policy says then (destroy or transfer)."""
    from ..api import disposal
    from .present import retention_due_text

    output(disposal.due(open_workspace(ctx), form_id), as_json, retention_due_text)


@cli.group("hold")
def hold_group():
    """Legal holds: a held record is never destroyed or transferred. 保全。"""


def _hold_command(place: bool):
    @click.argument("numbers", metavar="NUMBER...", nargs=-1, required=True)
    @click.option("--reason", required=True, help="Why (kept in the record's history).")
    @json_option
    @click.pass_context
    def command(ctx, numbers, reason, as_json):
        from ..api import disposal

        from .identity import signing_password

        ws = open_workspace(ctx)
        password = signing_password(ws, "hold" if place else "release")
        done = disposal.hold(ws, list(numbers), reason, place, password=password)
        state = "on hold 保全中" if place else "released 已解除"
        output(done, as_json, lambda items: "\n".join(f"{i['number']}  {state}" for i in items))
    return command


hold_group.command("add", help="Place a hold on records (document controller).")(
    _hold_command(True))
hold_group.command("release", help="Release the hold of records (document controller).")(
    _hold_command(False))


@cli.command()
@click.argument("numbers", metavar="[NUMBER...]", nargs=-1)
@click.option("--due", "all_due", is_flag=True,
              help="Every due record not on hold whose policy says destroy.")
@click.option("--reason", required=True, help="Why (kept in the tombstones and the list).")
@click.option("--dry-run", is_flag=True, help="Only list what would be destroyed.")
@json_option
@click.pass_context
def dispose(ctx, numbers, all_due, reason, dry_run, as_json):
    """Destroy records whose retention has ended (document controller). 记录销毁。"""
    from ..api import disposal
    from .present import disposal_text

    if bool(numbers) == all_due:
        raise click.UsageError("give record NUMBERs or --due")
    from .identity import signing_password

    ws = open_workspace(ctx)
    password = None if dry_run else signing_password(ws, "dispose")
    with progress_bar("销毁 dispose") as progress:
        result = disposal.dispose(ws, list(numbers), all_due, reason, dry_run=dry_run,
                                  progress=progress, password=password)
    output(result, as_json, disposal_text)


@cli.command()
@click.argument("numbers", metavar="[NUMBER...]", nargs=-1)
@click.option("--to", "to", required=True, metavar="ARCHIVE",
              help="The archive the records go to (printed on the list and the tombstones).")
@click.option("--due", "all_due", is_flag=True,
              help="Every due record not on hold whose policy says transfer.")
@click.option("--reason", required=True, help="Why (kept in the tombstones and the list).")
@click.option("--dry-run", is_flag=True, help="Only list what would be transferred.")
@json_option
@click.pass_context
def transfer(ctx, numbers, to, all_due, reason, dry_run, as_json):
    """Transfer closed records to an archive (document controller). 记录移交。"""
    from ..api.transfer import transfer as hand_over
    from .identity import signing_password
    from .present import disposal_text

    if bool(numbers) == all_due:
        raise click.UsageError("give record NUMBERs or --due")
    ws = open_workspace(ctx)
    password = None if dry_run else signing_password(ws, "transfer")
    with progress_bar("移交 transfer") as progress:
        result = hand_over(ws, list(numbers), to, reason, all_due=all_due, dry_run=dry_run,
                           progress=progress, password=password)
    output(result, as_json, disposal_text)


# -- audit -----------------------------------------------------------------------------------


@cli.command("verify")
@click.option("--repair", is_flag=True, help="Finish interrupted disposals and move files the "
              "catalog does not know to debris/, then verify.")
@click.option("--witness", "witnesses", multiple=True, metavar="FILE|ID:HASH",
              help="A chain head kept elsewhere (a witness log, an audit pack, a disposition "
              "list or report, or a head typed in) that the chain must extend; repeatable. "
              "The workspace's witness log is always checked.")
@json_option
@click.pass_context
def verify_command(ctx, repair, witnesses, as_json):
    """Check every file's SHA-256, the audit log's hash chain, the history behind every
    record, tombstones, witnesses and the index. Exit 1 naming each fault. 完整性校验。"""
    from ..api import verify

    # Not brought up to date on opening: an index ahead of the catalog (a rollback's trace)
    # is reported by verify, not rebuilt.
    ws = open_workspace(ctx, sync_index=False)
    repaired = verify.repair(ws) if repair else []
    with progress_bar("校验 verify") as progress:
        result = verify.verify(ws, progress, witnesses)
    if as_json:
        print_json({**result, "repaired": repaired})
    else:
        for line in repaired + [item["problem"] for item in result["faults"]]:
            click.echo(line)
        click.echo(verify.summary(result))
    if not result["ok"]:
        ctx.exit(1)


@cli.command()
@json_option
@click.pass_context
def checkpoint(ctx, as_json):
    """Print the audit log's chain head and append it to the witness log. 校验点。"""
    from ..api.checkpoint import checkpoint as make

    made = make(open_workspace(ctx))
    output(made, as_json, lambda m: f"{m['line']}\n"
           f"appended to 已记入 {m['witness_log']}")


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
    from ..api.audit_pack import build
    from .present import audit_pack_text

    ws = open_workspace(ctx)
    with progress_bar("打包 pack") as progress:
        made = build(ws, out, form_id, date_from, date_to, all_versions, progress=progress)
    output(made, as_json, audit_pack_text)
    if not made["verify_ok"]:
        ctx.exit(1)


@cli.command()
@click.argument("form_id", metavar="FORM")
@click.option("--out", metavar="FILE", help="FILE.xlsx or FILE.csv (without it: printed).")
@click.option("--from", "date_from", metavar="DATE", help="Records dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Records dated on or before DATE.")
@click.option("--columns", metavar="A,B,...", help="Only these columns, in this order (field "
              "ids or labels, or register headings; the record number always first).")
@click.option("--long-text", is_flag=True, help="Long-text and table fields too.")
@click.option("--sort", metavar="COLUMN[:desc]", help="Order the rows by a column.")
@click.option("--status", "status_", metavar="STATUS", help="Only records in this status (id "
              "or label: 已结案).")
@json_option
@click.pass_context
def register(ctx, form_id, out, date_from, date_to, columns, long_text, sort, status_,
             as_json):
    """The register 台账 of FORM, one row per record: written to --out, else printed."""
    from ..api.register import View, export
    from .present import register_table, register_text

    names = tuple(n.strip() for n in columns.split(",") if n.strip()) if columns else ()
    made = export(open_workspace(ctx), form_id, out, date_from, date_to,
                  View(names, long_text, sort, status_))
    output(made, as_json, register_text if out else register_table)


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
    from ..api.reports import report_complaints as make
    from .present import complaint_report_text

    output(make(open_workspace(ctx), month, out), as_json, complaint_report_text)
