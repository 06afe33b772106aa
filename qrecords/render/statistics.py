"""The DOCX of the monthly complaint statistics 客户投诉案件统计表: a controlled document with
its number on every page, the figures in tables, a chart of the causes, the cases, and the
sign-off rows. Made with python-docx like the other letters; its PDF comes from LibreOffice."""

from __future__ import annotations

import decimal

from ..domain.fields import MASK
from ..textfmt import clip
from .chart import add_bar_chart
from .letters import add_pairs, add_title, docx_bytes, new_document

NONE = "—"


def complaint_statistics_docx(*, org: str, org_en: str, title: str, number: str, stats: dict,
                              prepared_by: str, issued_on: str,
                              chain_head: str | None = None) -> bytes:
    """`stats` as reports.complaint_statistics returns it; `chain_head` ('id:sha256') the
    audit log's head when it was made, a witness for `qrec verify --witness`."""
    document = new_document(font_size=9, landscape=True)
    _footer(document, f"{number}  {title}")
    add_title(document, org, org_en, title)
    add_pairs(document, [
        ("报表编号 Report no.", number),
        ("统计月份 Month", f"{stats['month']}  ({stats['from']} – {stats['to']})"),
        ("数据截至 Data as of", stats["as_of"]),
        ("依据 Source", f"{stats['form_title']}  {stats['form_number']}"),
        ("编制 Prepared by", f"{prepared_by}  {issued_on}"),
        ("审计链 Audit chain head", chain_head or ""),
    ])

    _heading(document, "一、概况  Summary")
    summary = [
        ("本月受理 Received", str(stats["received"])),
        ("本月结案 Closed", str(stats["closed"])),
        ("准时结案 On time", str(stats["closed_on_time"])),
        ("逾期结案 Late", str(stats["closed_late"])),
        ("准时率 On-time rate", _percent(stats["on_time_percent"])),
        ("平均结案天数 Average days to close", _number(stats["average_days_to_close"])),
        ("结案金额 Amount (closed)", money(stats["amount"])),
        ("月末未结 Open at month end", str(stats["open_at_month_end"])),
        ("其中逾期 Of which overdue", str(stats["overdue_at_month_end"])),
        ("作废（不计） Voided (not counted)", str(len(stats["voided"]))),
    ]
    _table(document, [label for label, _ in summary], [[value for _, value in summary]])

    categories = stats["by_category"]
    _heading(document, "二、按原因（责任部门）与类别  By cause (responsible department) and "
                       "category — 本月受理 complaints received in the month")
    rows = [[d["label"], *map(str, d["by_category"]), str(d["count"])]
            for d in stats["by_department"]]
    rows.append(["合计 Total", *(str(c["count"]) for c in categories), str(stats["received"])])
    _table(document, ["责任部门 Responsible department", *(c["label"] for c in categories),
                      "合计 Total"], rows, bold_last=True)
    caused = [d for d in stats["by_department"] if d["count"]]
    if caused:
        add_bar_chart(document, title="投诉原因（责任部门） Causes (responsible department)",
                      categories=[d["label"] for d in caused],
                      series=[(c["label"], [d["by_category"][i] for d in caused])
                              for i, c in enumerate(categories) if c["count"]],
                      width_cm=max(18.0, min(26.0, 3.2 * len(caused))), height_cm=7.5)
    else:
        document.add_paragraph("本月无受理投诉。 No complaints were received in the month.")

    _heading(document, "三、按处理方式  By disposition — 本月结案 complaints closed in the month")
    rows = [[d["label"], str(d["count"]), money(d["amount"])] for d in stats["by_disposition"]]
    rows.append(["合计 Total", str(stats["closed"]), money(stats["amount"])])
    _table(document, ["处理方式 Disposition", "件数 Cases", "金额 Amount"], rows,
           bold_last=True)

    _heading(document, "四、案件明细  Cases received or closed in the month")
    if stats["cases"]:
        _table(document, ["编号 Number", "受理 Received", "客户 Customer", "类别 Category",
                          "原因分析 Cause", "责任部门 Department", "处理方式 Disposition",
                          "金额 Amount", "状态 Status", "结案 Closed", "天数 Days",
                          "准时 On time"],
               [[c["number"], c["received_date"], c["customer"] or "", c["category_label"],
                 clip(c["cause_analysis"] or "", 40), c["responsible_department_label"],
                 c["disposition_label"], money(c["disposition_amount"]), c["status_label"],
                 c["closed_on"] or "", _number(c["days_taken"], ""), _on_time(c["late"])]
                for c in stats["cases"]], size=8)
    else:
        document.add_paragraph("本月无案件。 No cases in the month.")
    if stats["voided"]:
        document.add_paragraph(
            "本月受理后作废、不计入以上统计 Registered in the month and voided, counted in none "
            "of the above: " + "; ".join(f"{v['number']} (作废 voided {v['closed_on']})"
                                         for v in stats["voided"]))

    document.add_paragraph(
        "说明：准时指在期限内结案（自受理日起国内 13 天、国外 17 天）；原因按调查确定的责任部门"
        "统计；金额为本月结案案件的处理金额。 Notes: on time means closed by the deadline (13 "
        "days after receipt for domestic customers, 17 for foreign); causes are counted by the "
        "responsible department the investigation named; amounts are those of the complaints "
        "closed in the month.")
    _table(document, ["编制 Prepared by", "审核 Reviewed by", "批准 Approved by"],
           [[f"{prepared_by}  {issued_on}", "", ""]])
    return docx_bytes(document)


def money(amount: str | None) -> str:
    """'23000.00' → '23,000.00'; empty or masked stays as it is."""
    return f"{decimal.Decimal(amount):,.2f}" if amount and amount != MASK else (amount or "")


def _percent(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f}%"


def _number(value, empty: str = NONE) -> str:
    return empty if value is None else str(value)


def _on_time(late: bool | None) -> str:
    return {False: "准时 On time", True: "逾期 Late"}.get(late, "")


def _heading(document, text: str) -> None:
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(8)
    run = paragraph.add_run(text)
    run.bold, run.font.size = True, Pt(10.5)


def _table(document, headings: list[str], rows: list[list[str]], size: float = 9,
           bold_last: bool = False) -> None:
    """A grid with a bold heading row (repeated on each page) and, if asked, a bold total."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = document.add_table(rows=1 + len(rows), cols=len(headings))
    table.style = "Table Grid"
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    last = len(rows)
    for index, (row, values) in enumerate(zip(table.rows, [headings, *rows])):
        for cell, text in zip(row.cells, values):
            run = cell.paragraphs[0].add_run(text)
            run.font.size = Pt(size)
            run.bold = index == 0 or (bold_last and index == last)


def _footer(document, text: str) -> None:
    """'<number> <title>        第 X 页 共 Y 页 Page X of Y' on every page."""
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.oxml import parse_xml
    from docx.shared import Pt

    section = document.sections[0]
    paragraph = section.footer.paragraphs[0]
    stops = paragraph.paragraph_format.tab_stops
    for inherited in document.styles["Footer"].paragraph_format.tab_stops:  # portrait ones
        stops.add_tab_stop(inherited.position, WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(section.page_width - section.left_margin - section.right_margin,
                       WD_TAB_ALIGNMENT.RIGHT)
    namespace = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    for part in (text, "\t第 ", "PAGE", " 页 共 ", "NUMPAGES", " 页  Page ", "PAGE", " of ",
                 "NUMPAGES"):
        if part in ("PAGE", "NUMPAGES"):
            paragraph._p.append(parse_xml(
                f'<w:fldSimple {namespace} w:instr=" {part} "><w:r><w:rPr><w:sz w:val="16"/>'
                '</w:rPr><w:t>1</w:t></w:r></w:fldSimple>'))
        else:
            paragraph.add_run(part).font.size = Pt(8)
