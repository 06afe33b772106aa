"""Commands of the document controller's year: import old records from a ledger; void
records issued by mistake; issue, list, recall and take back controlled blank forms."""

from __future__ import annotations

import click

from .present import table
from .app import cli, json_option, open_workspace, output, progress_bar


@cli.command("import")
@click.argument("form_id", metavar="FORM")
@click.argument("file", metavar="FILE.xlsx|FILE.csv")
@click.option("--map", "map_file", metavar="MAP.yaml", help="Which column is which field "
              "(`columns: {header: field}`; also `sheet:` and `header_row:`).")
@click.option("--sheet", metavar="NAME", help="The worksheet of an .xlsx to read (else the "
              "map file's `sheet:`, else the first).")
@click.option("--dry-run", is_flag=True, help="Check every row and show what would be made; "
              "store nothing.")
@click.option("--again", is_flag=True, help="Import a file whose rows were imported into the "
              "form before (refused without it).")
@json_option
@click.pass_context
def import_(ctx, form_id, file, map_file, sheet, dry_run, again, as_json):
    """Import old records from a ledger 台账 (document controller): all rows or none."""
    from ..api.imports import import_ledger

    ws = open_workspace(ctx)
    with progress_bar("导入 Importing") as progress:
        result = import_ledger(ws, form_id, file, map_file, dry_run=dry_run,
                               progress=None if as_json else progress, sheet=sheet,
                               again=again)
    output(result, as_json, import_text)


def import_text(result: dict) -> str:
    rows = [["–".join(str(n) for n in dict.fromkeys((r["rows"][0], r["rows"][-1]))),
             r["number"] or "(new 新编号)", r["original_number"] or "",
             r["status_label"], r["created_on"], r["closed_on"] or "",
             r["retention_until"] or ""] for r in result["records"]]
    out = table(["ROW 行", "NUMBER 编号", "ORIGINAL 原编号", "STATUS 状态", "DATE 日期",
                 "CLOSED 结案", "KEPT UNTIL 保存至"], rows)
    columns = ", ".join(f"{c} → {t}" for c, t in result["columns"].items())
    lines = [f"{result['source']} (sheet {result['sheet']}, header row {result['header_row']},"
             f" SHA-256 {result['sha256'][:16]}…)" if result["sheet"] else
             f"{result['source']} (header row {result['header_row']}, SHA-256 "
             f"{result['sha256'][:16]}…)", f"列 Columns: {columns}"]
    if result["skipped_columns"]:
        lines.append(f"未导入的列 Columns not imported: {', '.join(result['skipped_columns'])}")
    if result["skipped_rows"]:
        lines.append("跳过合计行 Totals rows skipped: " + ", ".join(
            f"row {r['row']} ({r['text']})" for r in result["skipped_rows"]))
    lines += ["", out, ""]
    n = len(result["records"])
    if result["dry_run"]:
        lines.append(f"试运行 Dry run: {n} record(s) would be imported; nothing was stored.")
    else:
        lines.append(f"已导入 Imported {n} record(s) of {result['form']} (DOCX; make the PDFs "
                     "with `qrec render --all`).")
    return "\n".join(lines)


# -- void -----------------------------------------------------------------------------------


@cli.command("void")
@click.argument("numbers", metavar="NUMBER...", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why the record is void (kept in its history).")
@json_option
@click.pass_context
def void_(ctx, numbers, reason, as_json):
    """Void records issued by mistake 作废 (document controller, signed): all or none."""
    from ..api.void import void
    from .identity import signing_password

    ws = open_workspace(ctx)
    password = signing_password(ws, "void")
    output(void(ws, list(numbers), reason, password=password), as_json, void_text)


def void_text(records: list[dict]) -> str:
    lines = []
    for record in records:
        lines.append(f"{record['number']}  {record['status_label']} · version "
                     f"{record['version']} · kept until {record['retention_until']} "
                     f"({record['retention']})")
        lines += [f"  {path}" for path in record["files"].values() if path]
    return "\n".join(lines)


# -- controlled blank forms ------------------------------------------------------------------

from .records import forms  # noqa: E402  (the `forms` group these commands join)


@forms.command("issue")
@click.argument("form_id", metavar="FORM")
@click.option("--to", "to", required=True, metavar="DEPARTMENT",
              help="The department (id or label in qrecords.yaml).")
@click.option("--copies", default=1, show_default=True, type=int, help="How many copies.")
@json_option
@click.pass_context
def forms_issue(ctx, form_id, to, copies, as_json):
    """Issue controlled blank copies 受控表单 of FORM's current revision (document controller)."""
    from ..api.controlled import issue

    output(issue(open_workspace(ctx), form_id, to, copies), as_json, issue_text)


@forms.command("issued")
@click.argument("form_id", metavar="[FORM]", required=False)
@click.option("--returned", is_flag=True, help="Returned copies too.")
@json_option
@click.pass_context
def forms_issued(ctx, form_id, returned, as_json):
    """Controlled copies out, by department; copies of an older revision are marked 回收."""
    from ..api.controlled import issued

    output(issued(open_workspace(ctx), form_id, include_returned=returned), as_json,
           copies_text)


@forms.command("recall")
@click.argument("form_id", metavar="[FORM]", required=False)
@json_option
@click.pass_context
def forms_recall(ctx, form_id, as_json):
    """Copies of older revisions still out: to recall 回收. Exit 1 when there are some."""
    from ..api.controlled import to_recall

    found = to_recall(open_workspace(ctx), form_id)
    output(found, as_json, lambda c: copies_text(c) if c else
           "无需回收 Nothing to recall: every copy out is of its form's current revision.")
    if found:
        ctx.exit(1)


@forms.command("return")
@click.argument("numbers", nargs=-1, required=True, metavar="DISTRIBUTION_NO...")
@click.option("--note", metavar="TEXT", help="A remark kept with the return.")
@json_option
@click.pass_context
def forms_return(ctx, numbers, note, as_json):
    """Record controlled copies returned 回收 (document controller)."""
    from ..api.controlled import return_copies

    output(return_copies(open_workspace(ctx), list(numbers), note), as_json, copies_text)


def copies_text(copies: list[dict]) -> str:
    if not copies:
        return "无受控表单在外 No controlled copies out."
    rows = [[c["department_label"], c["distribution_number"], c["form"], c["revision"],
             c["issued_on"], " ".join(filter(None, (c["returned_on"], c["return_note"])))
             if c["returned_on"] else "" if c["current"] else "回收 RECALL"] for c in copies]
    return table(["DEPARTMENT 部门", "DISTRIBUTION NO. 分发号", "FORM 表单", "REV 版次",
                  "ISSUED 发放", "RETURN 回收"], rows)


def issue_text(result: dict) -> str:
    lines = [f"已发放 Issued {len(result['copies'])} controlled copy(ies) of {result['form']} "
             f"rev {result['revision']} to {result['department_label']}:"]
    for copy in result["copies"]:
        lines.append(f"  {copy['distribution_number']}")
        lines += [f"    {path}" for path in (copy["docx"], copy["pdf"]) if path]
    if result["to_recall"]:
        lines += ["", "旧版次待回收 Copies of older revisions to recall:",
                  copies_text(result["to_recall"])]
    return "\n".join(lines)
