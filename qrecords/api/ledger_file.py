"""Reading a ledger file (XLSX or CSV) into numbered rows of cell values, and its map file.

XLSX through openpyxl (dates arrive as datetime, numbers as int or float, merged title rows
as a value in their first cell); CSV as UTF-8 (with or without a BOM) or, as Excel saves it
on Chinese Windows, GB18030. Rows keep the numbers the spreadsheet shows (1-based).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import TypedDict

from ..errors import QrecError


class Ledger(TypedDict):
    name: str  # the file's name, as events and messages cite it
    sha256: str  # of the file's bytes
    sheet: str | None  # the worksheet read (None for CSV)
    sheets: list[str]  # every worksheet of the workbook, in order ([] for CSV)
    rows: list[tuple[int, list]]  # (row number as the spreadsheet shows it, cell values)
    # {(row number, column index): formula} of the formula cells the file holds no result
    # of (openpyxl cannot compute one): their value in `rows` is None
    unsaved: dict[tuple[int, int], str]


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: a column as spreadsheets name it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 (.xls) workbook begins so


def read_ledger(path: str, sheet: str | None = None) -> Ledger:
    """The rows of an .xlsx (the named sheet, else the first) or .csv file (comma, tab or
    semicolon separated: csv.Sniffer tells). Raises QrecError (param "file") for another
    kind (an .xls workbook: save it as .xlsx), UTF-16 text, an unreadable file or an
    unknown sheet."""
    file = Path(path)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise QrecError(f"{path}: 无法读取 cannot read: {exc.strerror or exc}",
                        param="file") from None
    suffix = file.suffix.lower()
    unsaved: dict = {}
    sheets: list[str] = []
    if suffix == ".xls" or (suffix == ".xlsx" and content.startswith(_OLE)):
        raise QrecError(f"{path}: 旧版 Excel 工作簿 an Excel 97-2003 workbook, which cannot be "
                        "read: open it in Excel or WPS and save it as .xlsx (另存为 .xlsx), "
                        "then import that", param="file")
    if suffix == ".xlsx":
        name, rows, unsaved, sheets = _xlsx_rows(content, path, sheet)
    elif suffix == ".csv":
        name, rows = None, _csv_rows(content, path)
    else:
        raise QrecError(f"{path}: 台账须为 .xlsx 或 .csv a ledger is an .xlsx or .csv file",
                        param="file")
    return {"name": file.name, "sha256": hashlib.sha256(content).hexdigest(), "sheet": name,
            "sheets": sheets, "rows": rows, "unsaved": unsaved}


def _xlsx_rows(content: bytes, path: str, sheet: str | None):
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise QrecError(f"{path}: 无法读取的 XLSX 文件 not a readable XLSX file ({exc})",
                        param="file") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise QrecError(f"{path}: 无此工作表 no sheet '{sheet}'; sheets: "
                            f"{', '.join(book.sheetnames)}", param="file")
        found = book[sheet] if sheet is not None else book.worksheets[0]
        rows = [(number, list(values)) for number, values in
                enumerate(found.iter_rows(values_only=True), start=1)]
        title, sheets = found.title, list(book.sheetnames)
    finally:
        book.close()
    return title, rows, _unsaved_formulas(content, title, rows), sheets


def _unsaved_formulas(content: bytes, title: str, rows: list) -> dict[tuple[int, int], str]:
    """{(row, column index): formula} of the sheet's formula cells without a saved result
    (a file written by a program, never opened in Excel or WPS): read with data_only they
    are None. The formulas are read (a second pass) only when the file has any."""
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        if not any(b"<f" in archive.read(n) for n in archive.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml")):
            return {}
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    try:
        found = {}
        for (number, values), formulas in zip(rows, book[title].iter_rows(values_only=True)):
            for index, formula in enumerate(formulas):
                if formula is None or (index < len(values) and values[index] is not None):
                    continue
                text = formula if isinstance(formula, str) else getattr(formula, "text", None)
                if text is not None and str(text).startswith("="):
                    found[(number, index)] = str(text)
        return found
    finally:
        book.close()


def _csv_rows(content: bytes, path: str) -> list[tuple[int, list]]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or content[:200].count(b"\x00") > 10:
        raise QrecError(f"{path}: 文件为 UTF-16 编码 UTF-16 text (Excel's \"Unicode Text\"), "
                        "which a CSV ledger is not: save it from Excel or WPS as \"CSV UTF-8 "
                        "(逗号分隔)\" (另存为 CSV UTF-8) or as .xlsx, then import that",
                        param="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # gb18030 decodes nearly anything; kept for the shape of the loop
        raise QrecError(f"{path}: 不是 UTF-8 或 GB18030 文本 not UTF-8 or GB18030 text",
                        param="file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise QrecError(f"{path}: CSV 格式错误 line {reader.line_num}: {exc}",
                        param="file") from None


def _delimiter(text: str) -> str:
    """The CSV's delimiter, as csv.Sniffer tells from its first lines: a comma, a tab (Excel's
    "Text (Tab delimited)" saved as .csv) or a semicolon; a comma when it cannot tell."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        return ","


class LedgerMap(TypedDict):
    sheet: str | None
    header_row: int | None
    columns: dict  # header as written -> field id, number, status, closed_on, or None (skip)


def read_map(path: str) -> LedgerMap:
    """A map file: YAML `{sheet, header_row, columns: {header: field id | null}}`, its
    scalars read as text (a header `2024` stays "2024"). Raises QrecError (param "map")
    when it is not that shape, or gives a key twice (YAML would keep the last)."""
    import yaml

    from ..inputs import DataShapeError, load_yaml_text

    try:
        data = load_yaml_text(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise QrecError(f"{path}: 无法读取 cannot read: {exc.strerror or exc}",
                        param="map") from None
    except DataShapeError as exc:
        raise QrecError(f"{path}: 映射文件键重复 {exc}", param="map") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise QrecError(f"{path}: 不是 YAML 映射文件 not a YAML map file "
                        f"({str(exc).splitlines()[0]})", param="map") from None
    if not isinstance(data, dict):
        raise QrecError(f"{path}: 映射文件格式 a map file is a mapping with columns:",
                        param="map")
    unknown = sorted(set(data) - {"sheet", "header_row", "columns"})
    if unknown:
        raise QrecError(f"{path}: 未知的键 unknown key(s) {', '.join(unknown)}; a map has "
                        "sheet, header_row and columns", param="map")
    columns = data.get("columns") or {}
    header_row = data.get("header_row")
    if not isinstance(columns, dict) or any(v is not None and not isinstance(v, str)
                                            for v in columns.values()):
        raise QrecError(f"{path}: 列映射格式 columns must map each header to a field id (or "
                        "null to skip it)", param="map")
    if header_row is not None and not (str(header_row).isdigit() and int(header_row) >= 1):
        raise QrecError(f"{path}: 表头行号 header_row must be a row number (1, 2, ...)",
                        param="map")
    sheet = data.get("sheet")
    return {"sheet": None if sheet is None else str(sheet),
            "header_row": None if header_row is None else int(header_row),
            "columns": {str(k): v for k, v in columns.items()}}

