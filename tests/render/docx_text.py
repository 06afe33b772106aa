"""Read a DOCX back with python-docx: all text, and the rows of every table."""

from docx import Document


def docx_rows(path) -> list[list[str]]:
    """Every table row of body, headers and footers, as cell texts (merged cells once)."""
    document = Document(path)
    tables = list(document.tables)
    for section in document.sections:
        tables += section.header.tables + section.footer.tables
    rows = []
    for table in tables:
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    cells.append(cell.text)
            rows.append(cells)
    return rows


def docx_text(path) -> str:
    document = Document(path)
    parts = [p.text for p in document.paragraphs]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    parts += ["\t".join(row) for row in docx_rows(path)]
    return "\n".join(parts)
