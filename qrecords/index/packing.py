"""How several fields' text becomes one value of an index field, with no Whoosh import:
documents.py packs, analysis.py reads the separators back (terms(), FieldsTokenizer)."""

from __future__ import annotations

FIELD_SEP, VALUE_SEP = "\x1e", "\x1f"
FIELD_GAP = 1000  # positions between fields: no phrase, nor one with the largest proximity
# a query may give (query.MAX_SLOP), spans two of them


def pack_content(texts) -> str:
    """Several fields' text as one value of a free-text field: terms() puts FIELD_GAP
    positions between them, so that no phrase matches the end of one and the start of the
    next."""
    return FIELD_SEP.join(texts)


def pack_fields(texts: dict[str, str]) -> str:
    """Every field's text in one value for the `fields` index field (see FieldsTokenizer)."""
    return FIELD_SEP.join(f"{fid}{VALUE_SEP}{text}" for fid, text in texts.items())
