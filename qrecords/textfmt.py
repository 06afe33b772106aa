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


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Rows aligned under their headers, two spaces between columns."""
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("─" * w for w in widths))
    return "\n".join(lines)


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
