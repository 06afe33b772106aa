"""A controlled blank copy 受控表单 of a form: the template rendered without data, with the
control line (受控 CONTROLLED, form number, revision, distribution number 分发号, to whom
and when) at the top of every page. The PDF adds the diagonal 受控 CONTROLLED stamp."""

from __future__ import annotations

import io

CONTROLLED_MARK = "受控 CONTROLLED"


def control_line(*, form_number: str, revision: str, distribution_number: str,
                 department: str, issued_on: str) -> str:
    return (f"【{CONTROLLED_MARK}】 表单编号 Form {form_number}   版次 Rev. {revision}   "
            f"分发号 Distribution No. {distribution_number}   发放至 To {department}   "
            f"发放日期 Issued {issued_on}")


def controlled_copy_docx(blank: bytes, line: str) -> bytes:
    """`blank` (a rendered DOCX) with `line` in bold red at the top of every page: in the
    header of each section that has its own."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document(io.BytesIO(blank))
    for index, section in enumerate(document.sections):
        header = section.header
        if index and header.is_linked_to_previous:
            continue
        paragraph = header.paragraphs[0].insert_paragraph_before() if header.paragraphs \
            else header.add_paragraph()
        run = paragraph.add_run(line)
        run.bold, run.font.size = True, Pt(8)
        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
