"""File store keys of the documents the verbs write: one place names them."""

from __future__ import annotations

from pathlib import PurePosixPath


def version_key(form_id: str, number: str, version: int, suffix: str = "docx") -> str:
    """The key of a version's DOCX or PDF: complaint/CC-2611-01/CC-2611-01_v1.docx."""
    return f"{form_id}/{number}/{number}_v{version}.{suffix}"


def pdf_key(docx_key: str) -> str:
    """The key of the PDF made from a DOCX: the same name, ending .pdf."""
    return str(PurePosixPath(docx_key).with_suffix(".pdf"))
