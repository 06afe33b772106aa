"""DOCX files in tests, with python-docx: read all text and table rows; edit a template."""

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


def edit_template(ws, form_id, old, new):
    """Replace placeholder text in a workspace template, keeping the DOCX valid."""
    path = ws.root / "templates" / f"{form_id}.docx"
    document = Document(path)
    hits = 0
    for paragraph in all_paragraphs(document):
        for run_ in paragraph.runs:
            if old in run_.text:
                run_.text = run_.text.replace(old, new)
                hits += 1
    assert hits, f"{old!r} not found in {path.name}"
    document.save(path)


def all_paragraphs(document):
    yield from document.paragraphs
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
    for section in document.sections:
        yield from section.header.paragraphs
        yield from section.footer.paragraphs
        for table in section.header.tables:
            for row in table.rows:
                for cell in row.cells:
                    yield from cell.paragraphs
