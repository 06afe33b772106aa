"""Text that people read: forms, records, histories and diffs, aligned and bilingual."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from .. import textfmt
from ..domain.computed import Computed
from ..domain.fields import MASK
from ..domain.forms import Form
from ..domain.retention import policy_text
from ..textfmt import clip, pairs


def terminal_width() -> int | None:
    """The cells of a line of the terminal stdout goes to (shutil.get_terminal_size: COLUMNS,
    else the terminal's own); None when stdout is a file or a pipe (whole cells, for the
    program that reads them)."""
    import shutil  # here: a cold read into a pipe never needs it

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def table(headers: list[str], rows: list[list[str]],
          whole: frozenset[int] = frozenset({0})) -> str:
    """An aligned table (textfmt.table) that fits the terminal's width (the columns at the
    indexes `whole` never cut); to a file or a pipe every cell whole."""
    return textfmt.table(headers, rows, terminal_width(), whole)


def cell(text: str, cells: int) -> str:
    """`text` on one line for a table cell: at a terminal cut to `cells` cells with …
    (textfmt.clip), to a file or a pipe whole (README: "Output to a file or a pipe keeps every
    cell whole")."""
    return clip(text, cells) if terminal_width() is not None else " ".join(text.split())


def forms_table(forms: list[dict]) -> str:
    """The form summaries of api/form_check.list_forms as an aligned table."""
    return table(["FORM", "表单 TITLE", "FORM NO.", "REV", "NUMBERS", "FIELDS", "状态 STATUS"],
                 [[f["id"], f"{f['title']['zh']} {f['title']['en']}", f["form_number"],
                   f["revision"], f["number_pattern"], str(f["fields"]),
                   f"已停用 retired {f['retired']['on']}" if f["retired"] else "在用 in use"]
                  for f in forms])


def form_history_text(history: dict) -> str:
    """A form's revisions and retirements (api/form_revisions.history), one row each."""
    rows = [[e["on"], e["revision"], "冻结 frozen" if e["what"] == "frozen" else
             "停用 retired", f"{e['by_name']} ({e['by']})", e["reason"] or "",
             (e["schema_sha256"] or "")[:16], (e["template_sha256"] or "")[:16]]
            for e in history["events"]]
    head = f"{history['form']}  {history['title']}  current rev {history['current_revision']}"
    if history["retired"]:
        head += f" · 已停用 retired on {history['retired']['on']}"
    elif not history["current_frozen"]:
        head += " · 未冻结 not frozen yet (its first record or issue freezes it)"
    if not rows:
        return head + "\n无冻结版次 No revision frozen yet."
    return head + "\n\n" + table(["DATE 日期", "REV 版次", "EVENT 事件", "BY 操作人",
                                    "REASON 原因", "SCHEMA SHA-256", "TEMPLATE SHA-256"],
                                   rows) + "\n(SHA-256 shortened; --json gives them whole)"


def form_as_dict(form: Form) -> dict:
    """The form as `forms show --json` gives it: every attribute but its YAML text, nested
    values as dicts and lists."""
    as_dict = _plain(form)
    as_dict.pop("source")
    return as_dict


def _plain(value):
    if isinstance(value, Computed):  # as the schema writes it: "quantity * unit_price"
        return value.text
    if hasattr(value, "_asdict"):  # a NamedTuple: Field, Label, Workflow ...
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def form_text(form: Form) -> str:
    head = (f"{form.id}  {form.title}  {form.form_number} rev {form.revision}\n"
            f"numbers {form.number_pattern} · retention {policy_text(form.retention)} · "
            f"template {form.template}\n")
    rows = []
    for field in form.fields:
        rows.append([field.id, str(field.label), _type_text(field), _rules(field)])
        for column in field.columns:
            rows.append(["  ." + column.id, str(column.label), _type_text(column),
                         _rules(column)])
    return head + "\n" + table(["FIELD", "LABEL", "TYPE", "RULES"], rows)


def _type_text(field) -> str:
    if field.type == "choice":
        return "choice: " + " / ".join(c.id for c in field.choices)
    return field.type


def _rules(field) -> str:
    rules = []
    if field.required:
        rules.append("required")
    if field.sensitive:
        rules.append("sensitive")
    for name in ("min", "max", "min_length", "max_length", "pattern", "places", "default",
                 "key"):
        value = getattr(field, name)
        if value is not None:
            rules.append(f"{name}={value}")
    if field.computed is not None:
        rules.append("= " + field.computed.text)
    if field.type == "table" and field.min_rows:
        rules.append(f"min_rows={field.min_rows}")
    return ", ".join(rules)


def record_text(record: dict, form: Form) -> str:
    lines = [
        f"{record['number']}  {record['form_title']}  {record['form_number']} rev "
        f"{record['form_revision']}",
        f"version {record['version']} of {record['current_version']} · "
        f"{record['status_label']} · {record['version_created_at']} by "
        f"{record['author']}" + (f" · reason: {record['reason']}" if record['reason'] else ""),
        pairs([("docx", record["files"]["docx"] or "(missing)"),
               ("pdf", record["files"]["pdf"] or "(not made)"),
               ("保存 kept", _kept_text(record))]),
        "",
    ]
    return "\n".join(lines) + "\n" + pairs(_data_items(form, record["data"]))


def _data_items(form: Form, data: dict) -> list[tuple[str, str]]:
    """(label, value as shown) of every field; a table's rows one per line."""
    items = []
    for field in form.fields:
        value = data.get(field.id)
        if field.type != "table":
            items.append((str(field.label), value if value == MASK else field.display(value)))
            continue
        items.append((str(field.label), f"{len(value)} 行 rows" if value else ""))
        for index, row in enumerate(value or [], start=1):
            items.append((f"  [{index}]", field.row_text(row)))
    return items


def preview_text(preview: dict, form: Form) -> str:
    """What `new` would store (api.records.preview_record): the form, the state it would
    start in, every field; it has no number yet."""
    head = [f"未编号 (no number yet)  {preview['form_title']}  {preview['form_number']} rev "
            f"{preview['form_revision']}",
            f"{preview['status_label']} · {preview['effective_date']} by {preview['author']}"
            + (f" · 期限 due {preview['due_date']}" if preview["due_date"] else ""), ""]
    return "\n".join(head) + "\n" + pairs(_data_items(form, preview["data"]))


def history_text(number: str, story: list[dict]) -> str:
    rows = [[str(v["version"]), v["created_at"], v["effective_date"], v["author_name"],
             cell(v["what"], 30), v["status_label"], cell(v["reason"] or "", 30),
             cell(", ".join(v["changed"]), 40), _signed(v.get("signature"))] for v in story]
    # The version and its time stay whole; the long texts take the cut (README).
    return f"{number}\n" + table(["VER", "AT (UTC)", "DATE", "BY", "STEP", "STATUS",
                                  "REASON / COMMENT", "CHANGED", "签名 SIGNED"], rows,
                                 whole=frozenset({0, 1}))


def _signed(signature: dict | None) -> str:
    """An electronic signature as one cell: name, meaning, local time."""
    if not signature:
        return ""
    local = signature["at_local"]  # 2026-12-07T11:03:27+08:00: shown with its offset
    return f"{signature['name']} {signature['meaning']} {local[:16]}{local[19:]}"


def diff_text(result: dict) -> str:
    head = f"{result['number']}: version {result['from']} → {result['to']}"
    if not result["changes"]:
        return head + "\n(no changes 无变化)"
    rows = [[c["label"], cell(c["from"] or "—", 40), cell(c["to"] or "—", 40)]
            for c in result["changes"]]
    return head + "\n" + table(["FIELD", "FROM", "TO"], rows)


def render_rows(versions: list[dict], what: str) -> str:
    if not versions:
        return "(none 无)"
    return table(["NUMBER", "VER", "STATUS", "缺 MISSING"],
                 [[v["number"], str(v["version"]), v["status_label"], what] for v in versions])


def search_text(found: dict, all_versions: bool) -> str:
    hits = found["hits"]
    if not hits:
        return "未找到记录 No records found."
    rows = [[h["number"] + (f" v{h['version']}" if all_versions else ""), h["form"],
             cell(h["title"], 34), h["status_label"], h["date"], h["retention_until"] or ""]
            for h in hits]
    lines = table(["NUMBER", "FORM", "TITLE", "STATUS", "DATE", "KEPT UNTIL 保存至"],
                  rows).splitlines()
    out = lines[:2]  # heading and rule
    for line, hit in zip(lines[2:], hits):
        out += [line, f"    {cell(hit['snippet'], 100)}"]
    shown = f"{len(hits)} of {found['total']}" if found["total"] > len(hits) else str(len(hits))
    out.append(f"{shown} records 条记录")
    return "\n".join(out)


def index_check_text(report: dict) -> str:
    if not report.get("built", True):
        return ("索引尚未建立 the search index is not built yet on this machine: run `qrec index "
                "rebuild` (any other command builds it)")
    out = [f"{report['documents']} documents in the index 索引文档数"]
    if report["pending"]:
        out.append(f"{report['pending']} catalog events not yet applied (any command applies "
                   "them)")
    out += report["damaged"]
    for item in report["differences"]:
        out.append(f"{item['number']} v{item['version']}: {item['problem']}")
    if report["differences"]:
        out.append(f"{len(report['differences'])} differences: run `qrec index rebuild`")
    elif not report["pending"] and not report["damaged"]:
        out.append("Index matches the catalog. 索引与目录一致。")
    return "\n".join(out)


def actions_text(number: str, steps: list[dict]) -> str:
    if not steps:
        return f"{number}: no further steps (final state) 流程已结束"
    rows = [[s["action"], s["label"], s["to_label"], "ok" if s["problem"] is None
             else cell(s["problem"].split(": ", 1)[-1], 60)] for s in steps]
    return table(["ACTION", "STEP", "TO", "NOW"], rows)


def overdue_text(cases: list[dict], files: bool = False) -> str:
    if not cases:
        return "No overdue cases. 无逾期案件。"
    rows = [[c["number"], cell(c["title"], 30), c["status_label"], c["holder_label"] or "",
             c["due_date"], str(c["days_overdue"])] + ([c["reminder"]] if files else [])
            for c in cases]
    headers = ["NUMBER", "TITLE", "STEP", "HELD BY", "DUE", "DAYS LATE"]
    out = table(headers + (["REMINDER 催办单"] if files else []), rows)
    if files:
        out += "\n" + "\n".join(f"  {c['docx']}" + (f"\n  {c['pdf']}" if c["pdf"] else "")
                                 for c in cases)
    return out


def _kept_text(record: dict) -> str:
    """'until 2029-01-15 (3y from closure on 2026-01-15) · on hold'."""
    text = f"until {record['retention_until']} ({record['retention']})" \
        if record["retention_until"] else record["retention"]
    return text + (" · on hold 保全中" if record["hold"] else "")


def tombstone_text(tombstone: dict) -> str:
    transferred = tombstone["action"] == "transfer"
    to = f" to {tombstone['to']}" if tombstone.get("to") else ""
    lines = [f"{tombstone['number']}  " + (f"记录已移交 Transferred{to}" if transferred else
                                           "记录已销毁 Destroyed"),
             pairs([("表单 form", f"{tombstone['form_id']} rev {tombstone['form_revision']}"),
                    ("标题 title", tombstone["title"]),
                    ("结案 closed", tombstone["closed_on"]),
                    ("保存至 kept until" if transferred else "保存期满 retained until",
                     f"{tombstone['retention_until']} ({tombstone['retention']})"),
                    ("移交 transferred" if transferred else "销毁 destroyed",
                     f"{tombstone['effective_date']}{to} by {tombstone['authorised_by']}"),
                    ("理由 reason", tombstone["reason"]),
                    ("清单 list", tombstone["list_number"]),
                    ("版本 versions", str(tombstone["versions"]))]),
             "files transferred (SHA-256):" if transferred else "files destroyed (SHA-256):"]
    return "\n".join(lines + [f"  {digest}  {path}"
                              for path, digest in tombstone["files"].items()])


def retention_status_text(rows: list[dict]) -> str:
    return table(["FORM", "POLICY", "OPEN 未结", "RETAINED 保存中", "DUE 到期", "ON HOLD 保全",
                  "DESTROYED 已销毁", "TRANSFERRED 已移交"],
                 [[r["form"], r["policy"], str(r["open"]), str(r["retained"]), str(r["due"]),
                   str(r["on_hold"]), str(r["destroyed"]), str(r["transferred"])]
                  for r in rows])


def retention_due_text(rows: list[dict]) -> str:
    if not rows:
        return "Nothing is due to be destroyed or transferred. 无到期记录。"
    return table(["NUMBER", "FORM", "TITLE", "CLOSED/VOID 结案/作废", "ENDED 期满", "ACTION",
                  "HOLD"],
                 [[r["number"], r["form"], cell(r["title"], 30), _ended(r),
                   r["retention_until"], ACTION_LABELS[r["action"]],
                   "on hold 保全" if r["on_hold"] else ""]
                  for r in rows]) + f"\n{len(rows)} records due 条到期"


ACTION_LABELS = {"destroy": "销毁 destroy", "transfer": "移交 transfer"}


def _ended(record: dict) -> str:
    """A listed record's closure, or '作废 Void' and the day it was voided, on one line."""
    from ..render.letters import ended_text

    return " ".join(ended_text(record).split("\n"))


def _kept_and_then(record: dict, transfer: bool) -> list[str]:
    """The retention date and the action of a disposed-of record's row; a record transferred
    because its retention here ended says that it ended, not a transfer still to come."""
    if not transfer:
        return [record["retention_until"], ACTION_LABELS[record["action"]]]
    if record["then"] == "transfer":
        return [f"{record['retention_until']} 已期满 ended", "— 由接收方保存 kept by the archive"]
    return [record["retention_until"], ACTION_LABELS[record["then"]]]


def disposal_text(result: dict) -> str:
    """What `qrec dispose` or `qrec transfer` did (or would do), as it is."""
    transfer = result["action"] == "transfer"
    if not result["records"]:
        out = "Nothing to transfer. 无可移交记录。" if transfer else \
            "Nothing to destroy. 无可销毁记录。"
    else:
        ended = "KEPT UNTIL 保存至" if transfer else "ENDED 期满"
        out = table(["NUMBER", "FORM", "TITLE", ended, "THEN 期满处置" if transfer else
                     "ACTION", "FILES"],
                    [[r["number"], r["form"], cell(r["title"], 30),
                      *_kept_and_then(r, transfer), str(len(r["files"]))]
                     for r in result["records"]])
        to = f" to {result['to']}" if transfer else ""
        if result["dry_run"]:
            out += (f"\n{len(result['records'])} records would be "
                    f"{'transferred' if transfer else 'destroyed'}{to} (dry run: nothing "
                    "changed) 预览")
        else:
            out += (f"\n{len(result['records'])} records "
                    f"{'transferred' if transfer else 'destroyed'}{to} "
                    f"{'已移交' if transfer else '已销毁'} · list {result['list_number']}"
                    f"\n  {result['docx']}" + (f"\n  {result['pdf']}" if result["pdf"] else "")
                    + (f"\n  package 移交包: {result['package']}" if transfer else ""))
    for item in result["skipped"]:
        out += f"\nskipped {item['number']}: {item['why']}"
    return out


def register_text(result: dict) -> str:
    """'台账 Register: 客户投诉处理单 …, 3 records 条记录 → /path/台账.xlsx'."""
    period = f" ({result['from'] or '…'} – {result['to'] or '…'})" \
        if result["from"] or result["to"] else ""
    masked = "\n敏感信息已隐藏 sensitive fields masked (***)" if result["masked"] else ""
    return (f"台账 Register: {result['form_title']}{period}, {result['count']} records 条记录 "
            f"→ {result['out']}{masked}")


def register_table(result: dict) -> str:
    """The register's rows as a table fitting the terminal (a long text on one line), then
    the count."""
    headers = [c["heading"] for c in result["columns"]]
    rows = [[" ".join(str(row[c["id"]]).split()) if row[c["id"]] is not None else ""
             for c in result["columns"]] for row in result["rows"]]
    masked = "  敏感信息已隐藏 sensitive fields masked (***)" if result["masked"] else ""
    return (table(headers, rows) + f"\n{result['count']} 条记录 records · "
            f"{result['form_title']}{masked}")


def complaint_report_text(report: dict) -> str:
    """The report's number, files and headline figures."""
    rate = "—" if report["on_time_percent"] is None else f"{report['on_time_percent']}%"
    days = "—" if report["average_days_to_close"] is None else report["average_days_to_close"]
    return "\n".join([
        f"{report['number']}  客户投诉案件统计表 Customer complaint statistics {report['month']}",
        pairs([("受理 received", str(report["received"])),
               ("结案 closed", f"{report['closed']} (准时 on time {report['closed_on_time']}, "
                              f"逾期 late {report['closed_late']}; {rate})"),
               ("平均天数 average days", str(days)),
               ("作废 voided (not counted)", str(len(report["voided"]))),
               ("金额 amount", report["amount"]),
               ("月末未结 open at month end", f"{report['open_at_month_end']} (逾期 overdue "
                                           f"{report['overdue_at_month_end']})")]),
        f"  {report['files']['docx']}" + (f"\n  {report['files']['pdf']}"
                                          if report["files"]["pdf"] else ""),
        f"→ {report['out']}"])


def audit_pack_text(made: dict) -> str:
    state = "qrec verify: passed 校验通过" if made["verify_ok"] else \
        f"qrec verify: {made['faults']} FAULTS (see verify.json in the pack) 校验未通过"
    return pairs([("审核资料包 pack", made["out"]),
                  ("记录 records", str(made["records"])),
                  ("文件 files", str(made["files"])),
                  ("大小 size", f"{made['size'] / 1e6:.1f} MB"),
                  ("SHA-256", made["sha256"]),
                  ("校验 verify", state),
                  ("核对 check", "unzip it, then: sha256sum -c MANIFEST.sha256")])

