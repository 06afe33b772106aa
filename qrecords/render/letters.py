"""One-page bilingual documents that workflows send out: the reminder 催办单 for an overdue
case, and documents a step produces (a nonconformity notice to the customer). Made with
python-docx; their PDFs are made like any record's."""

from __future__ import annotations

import io

FONT_LATIN, FONT_CJK = "Arial", "SimSun"


def letter_docx(*, org: str, org_en: str, title: str, rows: list[tuple[str, str]],
                body: str) -> bytes:
    """The organisation, a title, a two-column table of labelled values and a paragraph."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT_LATIN, Pt(10.5)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT_CJK)
    for text, size, bold in ((f"{org}  {org_en}", 11, False), (title, 16, True)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.font.size, run.bold = Pt(size), bold
    table = document.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(table.rows, rows):
        row.cells[0].text, row.cells[1].text = label, value
    document.add_paragraph()
    document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def reminder_docx(*, org: str, org_en: str, reminder_no: str, case: dict, to: str,
                  issued_by: str, issued_on: str) -> bytes:
    """`case`: number, form_title, title, status_label, due_date, days_overdue."""
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
    ], body=f"本案已逾期 {days} 天，请立即处理并将结果回复质量部。This case is {days} days "
            "overdue: please act on it at once and report the result to the quality "
            "department.")
