"""Tracked changes and comments left in a DOCX template (`qrec forms check`).

A template saved with change tracking on keeps its deleted text in w:del runs and its new text
in w:ins runs; docxtpl renders both (a deleted placeholder still prints) and LibreOffice draws
change bars. Comments print in the margin of the PDF. Either is a mistake in a controlled form.
"""

from __future__ import annotations

import io
import zipfile

from ..errors import FormError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# The elements of tracked changes, as Word names them in its review pane.
CHANGES = {"ins": "insertion", "del": "deletion", "moveFrom": "move (from)",
           "moveTo": "move (to)", "rPrChange": "formatting change",
           "pPrChange": "paragraph formatting change"}
COMMENT_PARTS = ("word/comments.xml", "word/commentsExtended.xml", "word/commentsIds.xml")


def revision_marks(template: bytes, name: str = "template") -> dict[str, int]:
    """How many tracked changes and comments a DOCX holds, by kind, over every part of word/
    (body, headers, footers, footnotes): {"deletion": 2, "comment": 1, ...}; kinds absent are
    left out, so an empty dict means a clean template. Raises FormError for a file that is no
    readable DOCX (zip)."""
    from lxml import etree

    counts: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(template)) as docx:
            names = docx.namelist()
            parts = [n for n in names if n.startswith("word/") and n.endswith(".xml")
                     and n not in COMMENT_PARTS]
            comments = anchors = 0
            if "word/comments.xml" in names:
                comments = len(etree.fromstring(docx.read("word/comments.xml"))
                               .findall(f"{_W}comment"))
            for part in parts:
                root = etree.fromstring(docx.read(part))
                for tag, kind in CHANGES.items():
                    found = len(root.findall(f".//{_W}{tag}"))
                    if found:
                        counts[kind] = counts.get(kind, 0) + found
                anchors += max(len(root.findall(f".//{_W}commentRangeStart")),
                               len(root.findall(f".//{_W}commentReference")))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise FormError(f"{name}: not a readable DOCX file ({type(exc).__name__}: {exc})") \
            from None
    if max(comments, anchors):
        counts["comment"] = max(comments, anchors)
    return counts


def marks_problem(template: bytes, name: str) -> str | None:
    """One line naming the tracked changes and comments of a template, or None when it has
    none. Raises FormError for a file that is no readable DOCX."""
    counts = revision_marks(template, name)
    if not counts:
        return None
    found = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.items())
    return (f"{name}: 模板含修订或批注 has tracked changes or comments ({found}): "
            "接受或拒绝所有修订并删除批注 accept or reject the changes and remove comments, "
            "then save it again")
