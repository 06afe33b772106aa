"""PDF finishing with pypdf: document metadata and the diagonal status watermark.

The watermark is a one-line stamp page ("草稿 DRAFT") that LibreOffice renders from a tiny
DOCX — so its Chinese uses a real, embedded CJK font like the rest of the record — merged onto
every page, rotated 45° about the page centre.
"""

from __future__ import annotations

import io

STAMP_SIZE = (700, 110)  # points: the stamp page, wide enough for 受控 CONTROLLED at 64 pt
# (its corners stay on an A4 page when turned 45°: (700 + 110) / √2 < 595)
STAMP_GREY = (0xC0, 0xC0, 0xC0)
STAMP_POINTS = 64
STAMP_FONT = "SimHei"
# Everything that decides how a stamp looks: the key of the rendered stamps' disk cache.
STAMP_DESIGN = f"{STAMP_SIZE}|{STAMP_GREY}|{STAMP_POINTS}|{STAMP_FONT}"

DRAFT_MARK, VOID_MARK = "草稿 DRAFT", "作废 VOID"


def watermark_for(state) -> str | None:
    """The watermark of a version in a workflow state: void, none once released (approved or
    closed), else draft."""
    if state.void:
        return VOID_MARK
    return None if state.released else DRAFT_MARK


def stamp_docx(text: str) -> bytes:
    """A DOCX of one page holding `text`, large, grey and centred: the watermark's source."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Pt(STAMP_SIZE[0]), Pt(STAMP_SIZE[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Pt(0))
    section.header_distance = section.footer_distance = Pt(0)
    paragraph = document.paragraphs[0] if document.paragraphs else document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.font.size, run.font.bold = Pt(STAMP_POINTS), True
    run.font.color.rgb = RGBColor(*STAMP_GREY)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), STAMP_FONT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def finish_pdf(raw: bytes, metadata: dict[str, str], stamp: bytes | None) -> bytes:
    """Add metadata (keys without the leading slash) and, if given, the stamp to every page."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    if stamp is not None:
        stamp_page = PdfReader(io.BytesIO(stamp)).pages[0]
        width, height = float(stamp_page.mediabox.width), float(stamp_page.mediabox.height)
        for page in writer.pages:
            centre_x = float(page.mediabox.left) + float(page.mediabox.width) / 2
            centre_y = float(page.mediabox.bottom) + float(page.mediabox.height) / 2
            placement = (Transformation().translate(-width / 2, -height / 2).rotate(45)
                         .translate(centre_x, centre_y))
            page.merge_transformed_page(stamp_page, placement)
    writer.add_metadata({f"/{key}": value for key, value in metadata.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
