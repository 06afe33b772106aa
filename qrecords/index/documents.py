"""What the index holds of a record: one document per version, built from the store's data.

Sensitive fields never enter a document. Free text (`content`) holds the words people search
for: text, long text and choice values (both languages) and the text columns of tables. Numbers,
dates and yes/no answers would match nearly every query, so they are only in their own field
(`quantity:500`, `ship_date:2026-11-20`).
"""

from __future__ import annotations

import hashlib
import json
import re

from ..domain.forms import Form
from .packing import pack_content, pack_fields

CONTENT_TYPES = {"text", "longtext", "choice", "table"}
# Long text and tables are only in `content` (a query naming one searches the content): a
# second copy would double the terms every record writes.
LONG_TYPES = {"longtext", "table"}


def field_texts(form: Form, data: dict) -> dict[str, str]:
    """Field id -> searchable text of every non-sensitive field with a value."""
    texts = {}
    for field in form.fields:
        value = data.get(field.id)
        if field.sensitive or value in (None, "", []):
            continue
        if field.type == "table":
            texts[field.id] = "\n".join(
                " ".join(column.display(row.get(column.id)) for column in field.columns
                         if row.get(column.id) is not None)
                for row in value)
        else:
            texts[field.id] = field.display(value)
    return texts


def content_text(types: dict[str, str], number: str, texts: dict[str, str]) -> str:
    """The free text of a version: its number and the values people search for, each a field
    of its own (packing.pack_content); `types` maps the form's field ids to their types."""
    return pack_content([number, *(text for fid, text in texts.items()
                                   if types[fid] in CONTENT_TYPES)])


def record_date(form: Form, data: dict, registered: str) -> str:
    """The date a record is filed under: its form's date_field, else the day it was made."""
    return (data.get(form.date_field) if form.date_field else None) or registered


ORDER_WIDTH = 48  # bytes of order_key(): a fixed width is read without an index of offsets


def order_key(date: str, number: str, version: int) -> bytes:
    """How hits with equal scores are ordered (ranking.py): ORDER_WIDTH bytes, the larger key
    first, that is the newer date, then the later number (its first 32 bytes, each run of
    digits as a number: CC-2603-105 after CC-2603-99), then the later version."""
    number = _DIGITS.sub(lambda run: run.group().rjust(NUMBER_DIGITS, "0"), number)
    return date.encode()[:10].ljust(10, b"\0") + number.encode()[:32].ljust(32, b"\0") + \
        version.to_bytes(6, "big")


_DIGITS = re.compile(r"\d+")
NUMBER_DIGITS = 8  # a run of digits in a record number is ordered as this many


def public_sha256(sensitive: frozenset[str], row: dict) -> str:
    """What the index keeps to tell a stale document: the version's data hash when it holds
    no value of a `sensitive` field, else the hash of its data without them (an unkeyed hash
    of a sensitive value would let a dictionary recover it; issue 14, line 6)."""
    data = row["data"]
    if not any(data.get(fid) is not None for fid in sensitive):
        return row["data_sha256"]
    public = {k: v for k, v in data.items() if k not in sensitive}
    text = json.dumps(public, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(b"public\0" + text.encode()).hexdigest()


def documents(form: Form, number: str, versions: list[dict], current_version: int) -> list[dict]:
    """The index documents of one record; `versions` are store rows, oldest first."""
    registered = versions[0]["effective_date"] if versions else ""
    sensitive = frozenset(f.id for f in form.fields if f.sensitive)
    types = {f.id: f.type for f in form.fields}
    docs = []
    for row in versions:
        data = row["data"]
        texts = field_texts(form, data)
        doc = {
            "number": number,
            "version": row["version"],
            "current": row["version"] == current_version,
            "form": form.id,
            "status": row["status"],
            "date": record_date(form, data, registered),
            "title": form.title_of(data),
            "data_sha256": public_sha256(sensitive, row),
            "content": content_text(types, number, texts),
        }
        doc["order"] = order_key(doc["date"], number, row["version"])
        if form.customer_field and form.customer_field in texts:
            doc["customer"] = texts[form.customer_field]
        short = {fid: text for fid, text in texts.items()
                 if types[fid] not in LONG_TYPES}
        if short:
            doc["fields"] = pack_fields(short)
        docs.append(doc)
    return docs
