"""A bar chart inside a DOCX, as Word itself stores one: a DrawingML chart part holding the
figures, drawn by Word or LibreOffice when the document is shown or converted to PDF.

No plotting library and no image: the chart stays vector (sharp when printed), its Chinese
labels are set in the document's fonts (SimSun → Noto CJK, as for the forms), and the numbers
are in the file, so what is drawn is what the tables say. The figures are kept as literal
values (c:strLit, c:numLit) rather than a reference into an embedded workbook: the chart
shows and prints in Word and LibreOffice; editing its data in Word would need the workbook.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CHART_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
COLOURS = ("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47")
EMU_PER_CM = 360000


def add_bar_chart(document, *, title: str, categories: list[str],
                  series: list[tuple[str, list[int]]], width_cm: float = 16,
                  height_cm: float = 8) -> None:
    """A column chart with one bar per category, the series stacked in it, each segment
    labelled with its value (zeros left out), appended to the document in its own paragraph."""
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    package = document.part.package
    taken = {str(part.partname) for part in package.iter_parts()}
    index = next(n for n in range(1, len(taken) + 2) if f"/word/charts/chart{n}.xml" not in taken)
    part = Part(PackURI(f"/word/charts/chart{index}.xml"), CHART_CT,
                _chart_xml(title, categories, series).encode("utf-8"), package)
    rid = document.part.relate_to(part, CHART_RT)
    width, height = int(width_cm * EMU_PER_CM), int(height_cm * EMU_PER_CM)
    drawing = (
        f'<w:drawing xmlns:w="{_W}" xmlns:wp="{_WP}" xmlns:a="{_A}" xmlns:c="{_C}" '
        f'xmlns:r="{_R}"><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{width}" cy="{height}"/><wp:docPr id="{1000 + index}" '
        f'name="Chart {index}"/><a:graphic><a:graphicData uri="{_C}"><c:chart r:id="{rid}"/>'
        '</a:graphicData></a:graphic></wp:inline></w:drawing>')
    document.add_paragraph().add_run()._r.append(parse_xml(drawing))


def _chart_xml(title: str, categories: list[str], series: list[tuple[str, list[int]]]) -> str:
    """The chart part; elements in the order the schema requires (Word is strict)."""
    font = '<a:latin typeface="Arial"/><a:ea typeface="SimSun"/>'
    text = (f'<c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="900">{font}'
            '</a:defRPr></a:pPr><a:endParaRPr lang="zh-CN"/></a:p></c:txPr>')
    labels = ('<c:dLbls><c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
              '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>'
              '</c:dLbls>')
    names = "".join(f'<c:pt idx="{i}"><c:v>{escape(name)}</c:v></c:pt>'
                    for i, name in enumerate(categories))
    tallest = max((sum(column) for column in zip(*(values for _, values in series))),
                  default=0)
    unit = '<c:majorUnit val="1"/>' if tallest <= 10 else ""  # whole cases, not 0.5
    bars = ""
    for order, (name, values) in enumerate(series):
        points = "".join(f'<c:pt idx="{i}"><c:v>{value}</c:v></c:pt>'
                         for i, value in enumerate(values) if value)  # no "0" labels
        bars += (
            f'<c:ser><c:idx val="{order}"/><c:order val="{order}"/>'
            f'<c:tx><c:v>{escape(name)}</c:v></c:tx>'
            f'<c:spPr><a:solidFill><a:srgbClr val="{COLOURS[order % len(COLOURS)]}"/>'
            f'</a:solidFill></c:spPr><c:invertIfNegative val="0"/>{labels}'
            f'<c:cat><c:strLit><c:ptCount val="{len(categories)}"/>{names}</c:strLit></c:cat>'
            f'<c:val><c:numLit><c:formatCode>General</c:formatCode>'
            f'<c:ptCount val="{len(values)}"/>{points}</c:numLit></c:val></c:ser>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{_C}" xmlns:a="{_A}" xmlns:r="{_R}">'
        '<c:roundedCorners val="0"/><c:chart>'
        f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1100" b="1">'
        f'{font}</a:defRPr></a:pPr><a:r><a:rPr lang="zh-CN" sz="1100" b="1">{font}</a:rPr>'
        f'<a:t>{escape(title)}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
        '<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        '<c:barChart><c:barDir val="col"/><c:grouping val="stacked"/><c:varyColors val="0"/>'
        f'{bars}<c:gapWidth val="80"/><c:overlap val="100"/>'
        '<c:axId val="1001"/><c:axId val="1002"/></c:barChart>'
        '<c:catAx><c:axId val="1001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        f'{text}<c:crossAx val="1002"/><c:crosses val="autoZero"/><c:auto val="1"/>'
        '<c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="1002"/><c:scaling><c:orientation val="minMax"/><c:min val="0"/>'
        '</c:scaling><c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
        '<c:numFmt formatCode="0" sourceLinked="0"/><c:majorTickMark val="out"/>'
        f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>{text}'
        '<c:crossAx val="1001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/>'
        f'{unit}</c:valAx></c:plotArea>'
        f'<c:legend><c:legendPos val="r"/><c:overlay val="0"/>{text}</c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')
