"""Aligned text for people: column widths that count CJK characters as two cells."""

from __future__ import annotations

import functools
import unicodedata


def width(text: str) -> int:
    """Terminal cells: 2 for wide (CJK) characters, 1 for the rest. Tables of tens of
    thousands of rows call this per cell, hence the ASCII fast path and the cache."""
    if text.isascii():
        return len(text)
    return _width(text)


@functools.lru_cache(maxsize=65536)
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * max(cells - width(text), 0)


def clip(text: str, cells: int) -> str:
    """One line of at most `cells` cells, with … where it was cut."""
    text = " ".join(text.split())
    if width(text) <= cells:
        return text
    used = 0
    for end, ch in enumerate(text):
        used += width(ch)
        if used > cells - 1:
            return text[:end] + "…"
    return text  # not reached: the whole text is wider than cells


def table(headers: list[str], rows: list[list[str]], max_width: int | None = None,
          whole: frozenset[int] = frozenset({0})) -> str:
    """Rows aligned under their headers, two spaces between columns. With `max_width`
    (terminal cells), the widest columns are narrowed until the lines fit (none below
    MIN_COLUMN cells; the columns at the indexes `whole` never, by default the first — the
    number or id a row is known by) and the cells cut with … (CJK characters count two
    cells); columns that still do not fit are left out from the right, and a last line says
    how many. Without `max_width` (a file or a pipe) no cell is cut."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    hidden = 0
    if max_width is not None:
        while len(widths) > 1 and \
                sum(_floors(widths, whole)) + 2 * (len(widths) - 1) > max_width:
            widths.pop()
            hidden += 1
        widths = _fitted(widths, max_width, whole)
        cells = [[c if width(c) <= w else clip(c, w) for c, w in zip(row, widths)]
                 for row in cells]
    lines = ["  ".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("─" * w for w in widths))
    if hidden:
        lines.append(f"（另有 {hidden} 列未显示 {hidden} more columns not shown）")
    return "\n".join(lines)


MIN_COLUMN = 10  # cells a narrowed column keeps: a date, a number (narrower ones stay so)


def _floors(widths: list[int], whole: frozenset[int]) -> list[int]:
    return [w if i in whole else min(w, MIN_COLUMN) for i, w in enumerate(widths)]


def _fitted(widths: list[int], max_width: int, whole: frozenset[int]) -> list[int]:
    """Column widths whose line (two cells between columns) fits `max_width`, narrowing the
    widest column one cell at a time (those at the indexes `whole` never); as close as
    MIN_COLUMN allows when it cannot fit."""
    widths = list(widths)
    floors = _floors(widths, whole)
    while sum(widths) + 2 * (len(widths) - 1) > max_width:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= floors[widest]:
            break
        widths[widest] -= 1
    return widths


def pairs(items: list[tuple[str, str]], indent: str = "") -> str:
    """label  value lines, labels padded to one width; multi-line values stay indented."""
    if not items:
        return ""
    label_width = max(width(label) for label, _ in items)
    lines = []
    for label, value in items:
        first, *rest = (value or "").split("\n") or [""]
        lines.append(f"{indent}{pad(label, label_width)}  {first}".rstrip())
        lines += [f"{indent}{' ' * label_width}  {line}".rstrip() for line in rest]
    return "\n".join(lines)


def counted(count: int, noun: str) -> str:
    """"1 fault", "2 faults": `count` and the English `noun`, plural (an s) unless 1."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
