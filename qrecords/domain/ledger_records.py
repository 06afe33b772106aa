"""A ledger's data rows grouped into records (DOMAIN.md, "Old records").

A row is one record, unless the ledger fills a table of the form (columns mapped to
`table.column`): then consecutive rows with the same original number, and a row whose only
filled cells are table columns (the rows under a vertically merged cell), continue the record
above, each adding one row to its tables. The record's other cells are those of its first row;
a continuing row may repeat them but not differ.

Pure: the cells arrive as Python values, read by api/ledger_file.py.
"""

from __future__ import annotations

from typing import TypedDict

from . import ledger

# A footer row's first filled cell (normalised): a ledger's totals are no record.
_FOOTERS = ("合计", "总计", "小计", "共计", "total", "subtotal", "grandtotal")


class LedgerRecord(TypedDict):
    rows: list[int]  # the ledger rows it was made from, first row first
    cells: dict  # {target: cell value} of its first row's filled cells (no table columns)
    tables: dict  # {table id: [{column id: cell value}]}, only the tables mapped
    table_rows: dict  # {table id: [ledger row of each table row]}
    notes: list  # [(ledger row, target, problem)] found while grouping
    unsaved: set  # {(ledger row, target)} of its formula cells without a saved result


def group_rows(rows: list[tuple[int, list]], header_row: int, columns: dict,
               unsaved: dict) -> tuple[list[LedgerRecord], list[tuple[int, str]]]:
    """(records, footers) of a ledger whose data rows are `rows` [(row number, cells)]
    below `header_row`, its `columns` {column index: (header, target)} and its formula
    cells without a saved result `unsaved` {(row, column index): formula} (each a note;
    its cell is left out). Empty rows are left out, and so are footer rows, listed as
    [(row, first cell)]: those whose first filled cell says 合计, 总计, 小计 or total."""
    tables = sorted({t.split(".", 1)[0] for _, t in columns.values() if "." in t})
    found: list[LedgerRecord] = []
    footers: list[tuple[int, str]] = []
    for number, cells in rows:
        if number <= header_row or all(_empty(c) for c in cells):
            continue
        first_cell = next(str(c).strip() for c in cells if not _empty(c))
        if is_footer(first_cell):
            footers.append((number, first_cell))
            continue
        own, table_cells, notes, unsaved_here = {}, {}, [], set()
        for index, (_, target) in columns.items():
            value = cells[index] if index < len(cells) else None
            if (number, index) in unsaved:
                notes.append((number, target, "公式无计算结果 a formula without a saved result "
                              f"({unsaved[(number, index)]}); open and save the file in "
                              "Excel/WPS first (先用 Excel/WPS 打开并保存)"))
                unsaved_here.add((number, target))
            elif _empty(value):
                continue
            elif "." in target:
                table, column = target.split(".", 1)
                table_cells.setdefault(table, {})[column] = value
            else:
                own[target] = value
        last = found[-1] if found else None
        if last is not None and tables and table_cells and (not own or _same_number(
                own.get(ledger.NUMBER), last["cells"].get(ledger.NUMBER))):
            for target, value in own.items():
                first = last["cells"].get(target)
                same = _same_number(value, first) if target == ledger.NUMBER else \
                    first is not None and str(first).strip() == str(value).strip()
                if not same:
                    there = f"'{first}' there" if first is not None else "empty there"
                    notes.append((number, target, f"与本记录首行（第 {last['rows'][0]} 行）不同 "
                                  f"differs from row {last['rows'][0]}, where the record "
                                  f"begins ({there})"))
            last["rows"].append(number)
            last["notes"] += notes
            last["unsaved"] |= unsaved_here
            for table, row in table_cells.items():
                last["tables"][table].append(row)
                last["table_rows"][table].append(number)
            continue
        found.append({"rows": [number], "cells": own,
                      "tables": {t: [table_cells[t]] if t in table_cells else []
                                 for t in tables},
                      "table_rows": {t: [number] if t in table_cells else [] for t in tables},
                      "notes": notes, "unsaved": unsaved_here})
    return found, footers


def is_footer(text: str) -> bool:
    """Whether a row's first filled cell marks it as a totals row (合计, 总计：, Total)."""
    key = ledger.normalise(text)
    return key in _FOOTERS or (key.startswith(_FOOTERS[:4]) and len(key) <= 8)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same_number(one, other) -> bool:
    if one is None or other is None:
        return False
    as_text = [str(int(v) if isinstance(v, float) and v.is_integer() else v)
               for v in (one, other)]
    return ledger.number_key(as_text[0]) == ledger.number_key(as_text[1])
