"""Bilingual documents qrecords issues besides the forms: the reminder 催办单 for an overdue
case, documents a step produces (a nonconformity notice to the customer), and the disposition
lists 记录销毁清单 and 记录移交清单. Made with python-docx; their PDFs are made like any
record's."""

from __future__ import annotations

import io

from ..domain.retention import closed_and_voided

FONT_LATIN, FONT_CJK = "Arial", "SimSun"


def letter_docx(*, org: str, org_en: str, title: str, rows: list[tuple[str, str]],
                body: str) -> bytes:
    """The organisation, a title, a two-column table of labelled values and a paragraph."""
    document = new_document()
    add_title(document, org, org_en, title)
    add_pairs(document, rows)
    document.add_paragraph()
    document.add_paragraph(body)
    return docx_bytes(document)


def reminder_docx(*, org: str, org_en: str, reminder_no: str, case: dict, to: str,
                  reply_to, issued_by: str, issued_on: str) -> bytes:
    """`case`: number, form_title, title, status_label, due_date, days_overdue; `to` the
    department addressed as printed; `reply_to` (a Label) the department the result goes
    back to, as qrecords.yaml names it."""
    days = case["days_overdue"]
    return letter_docx(org=org, org_en=org_en, title="催办单  Reminder: overdue case", rows=[
        ("催办单编号 Reminder no.", reminder_no),
        ("致 To", to),
        ("记录编号 Record", f"{case['number']}  {case['form_title']}"),
        ("事项 Subject", case["title"]),
        ("当前步骤 Step", case["status_label"]),
        ("期限 Due date", case["due_date"]),
        ("逾期天数 Days overdue", f"{days} 天 days"),
        ("签发 Issued", f"{issued_by}  {issued_on}"),
    ], body=f"本案已逾期 {days} 天，请立即处理并将结果回复{reply_to.zh}。This case is {days} days "
            f"overdue: please act on it at once and report the result to "
            f"{reply_to.en or reply_to.zh}.")


def disposition_list_docx(*, org: str, org_en: str, list_number: str, records: list[dict],
                          authorised_by: str, reason: str, on: str, to: str | None = None,
                          chain_head: str | None = None) -> bytes:
    """The disposition list: 记录销毁清单 of records destroyed, or, with `to` (the archive
    they went to), 记录移交清单 of records transferred, with the date each is kept until and
    what is due then (or, for one transferred because its retention here ended, that date and
    the transfer), and a row for the receiver's signature. A void record says 作废 Void and
    the day it was voided where others say when they closed. Who authorised it and why,
    and per record its dates and the SHA-256 of every file destroyed or handed over;
    `records` as api/disposition.py plans them. `chain_head` ('id:sha256') is the audit
    log's head with the disposition in it, a witness for `qrec verify --witness`. Landscape,
    so hashes fit."""
    from docx.shared import Pt

    transfer = to is not None
    document = new_document(font_size=9, landscape=True)
    add_title(document, org, org_en, LIST_TITLES["TL" if transfer else "DL"])
    add_pairs(document, [("清单编号 List no.", list_number), ("日期 Date", on),
                         *([("移交至 Transferred to", to)] if transfer else []),
                         ("批准人 Authorised by", authorised_by), ("理由 Reason", reason),
                         ("记录数 Records", str(len(records))),
                         ("审计链 Audit chain head", chain_head or "")])
    document.add_paragraph()
    headings = ["序号 No.", "记录编号 Record", "表单 Form", "标题 Title",
                "结案/作废 Closed/Void",
                "保存至 Kept until" if transfer else "保存期满 Retained until",
                "期满处置 Then" if transfer else "处置 Action", "文件 SHA-256 Files"]
    table = document.add_table(rows=1 + len(records), cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings):
        cell.text = text
    for index, (row, item) in enumerate(zip(table.rows[1:], records), start=1):
        files = "\n".join(f"{path.rsplit('/', 1)[-1]}  {digest}"
                          for path, digest in item["files"].items())
        values = [str(index), item["number"], item["form_title"], item["title"],
                  ended_text(item), *_kept_and_then(item, transfer, on), files]
        for cell, text in zip(row.cells, values):
            cell.text = text
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(7 if text is files else 9)
    document.add_paragraph()
    if not transfer:
        document.add_paragraph("以上记录已按保存期限销毁，本清单永久保存。The records above were "
                               "destroyed at the end of their retention period; this list is "
                               "kept permanently.")
        return docx_bytes(document)
    document.add_paragraph(f"以上记录及其文件已移交{to}：列有保存期限的，由接收方保存至所列日期，"
                           "期满按所列方式处置；保存期满后移交的，由接收方按其规定保存。本清单永久保存。"
                           f"The records above and their files were transferred to {to}: "
                           "those with a date kept until are kept by the receiver until then "
                           "and handled as listed; those transferred when their retention here "
                           "ended are kept as the receiver's own rules say. This list is kept "
                           "permanently.")
    signoff = document.add_table(rows=2, cols=3)
    signoff.style = "Table Grid"
    for cell, text in zip(signoff.rows[0].cells, ("移交人 Transferred by",
                                                  "接收人 Received by", "接收日期 Date received")):
        cell.text = text
    signoff.rows[1].cells[0].text = f"{authorised_by}  {on}"
    return docx_bytes(document)


def ended_text(item: dict) -> str:
    """How a listed record ended (`item` with closed_on, and voided_on: None unless void):
    '2026-01-15', '作废 Void 2026-03-02', or both on two lines when it closed before it was
    voided."""
    voided = item.get("voided_on")
    closed, voided = closed_and_voided(item["closed_on"], voided, voided is not None)
    return "\n".join(([closed] if closed else []) + ([f"作废 Void {voided}"] if voided else []))


def _kept_and_then(item: dict, transfer: bool, on: str) -> list[str]:
    """The list's 'kept until' and 'then' cells of a record. A record transferred because its
    policy says transfer was kept here until its retention ended: it says so and when it was
    transferred, not a date already past and a transfer still to come."""
    until = f"{item['retention_until']}\n{item['why']}"
    if not transfer:
        return [until, ACTIONS[item["action"]]]
    if item["then"] == "transfer":
        return [f"保存期满 Retention ended {until}", f"移交日期 Transferred on {on}"]
    return [until, ACTIONS[item["then"]]]


LIST_TITLES = {"DL": "记录销毁清单  Record destruction list",
               "TL": "记录移交清单  Record transfer list"}
ACTIONS = {"destroy": "销毁 Destroy", "transfer": "移交 Transfer"}


# -- the parts every such document is made of ----------------------------------------------


def new_document(*, font_size: float = 10.5, landscape: bool = False):
    """An empty python-docx document in Arial and SimSun (the fonts a Chinese Word user has;
    LibreOffice maps them to Noto CJK); A4 landscape with 1.5 cm margins when asked."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    if landscape:
        section = document.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(1.5))
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT_LATIN, Pt(font_size)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT_CJK)
    return document


def add_title(document, org: str, org_en: str, title: str) -> None:
    """The organisation and the document's title, centred."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for text, size, bold in ((f"{org}  {org_en}", 11, False), (title, 16, True)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.font.size, run.bold = Pt(size), bold


def add_pairs(document, rows: list[tuple[str, str]]):
    """A two-column table of labelled values."""
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(table.rows, rows):
        row.cells[0].text, row.cells[1].text = label, value
    return table


def docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
