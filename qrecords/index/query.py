"""From what a user types to a Whoosh query: Whoosh's query language over our fields, with the
mistakes it would silently misread (unknown fields, unbalanced brackets, malformed dates)
turned into one-line errors, and the filters of `qrec search` as a separate filter query."""

from __future__ import annotations

import datetime as dt
import re

from ..errors import QrecError
from .analysis import is_cjk, terms

# Fields a query may name besides the forms' own field ids.
CORE_FIELDS = ("number", "form", "status", "date", "customer", "content")
_FIELD_REF = re.compile(r'"[^"]*"|(?<![\w.-])([A-Za-z_]\w*):')
_DATE_RANGE = re.compile(r"(?<!\w)date:\s*([\[{])([^\]}]*)([\]}])")
_DATE_VALUE = re.compile(r"(?<!\w)date:\s*([^\s\[{()]+)")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


class QueryError(QrecError):
    """A query that cannot be read; the message says where."""


def query_schema(field_ids):
    """What queries are parsed against: the index's fields plus one f_<id> field per form
    field, analysed like the text; to_index() then maps those onto the `fields` field."""
    from .searchindex import text_field, whoosh_schema

    schema = whoosh_schema()
    for fid in sorted(field_ids):
        schema.add(f"f_{fid}", text_field(compound=False))  # as `fields` holds them
    return schema


def to_index(parsed, long_ids=frozenset()):
    """The parsed query with f_<id>:term as the index holds it: fields:"<id>:term", or the
    content field for long text and tables (documents.LONG_TYPES)."""
    from whoosh import query

    def onto(node):
        name = getattr(node, "fieldname", None)
        if not (isinstance(name, str) and name.startswith("f_")):
            return node.apply(onto)
        fid = name[2:]
        if fid in long_ids:
            node = node.copy()
            node.fieldname = "content"
            return node
        if isinstance(node, query.Phrase):
            return query.Phrase("fields", [f"{fid}:{w}" for w in node.words], slop=node.slop,
                                boost=node.boost)
        if isinstance(node, query.TermRange):
            return query.TermRange("fields", f"{fid}:{node.start or ''}",
                                   f"{fid}:{node.end}" if node.end else f"{fid}:\uffff",
                                   boost=node.boost)
        if isinstance(node, (query.Term, query.Prefix, query.Wildcard)):
            return type(node)("fields", f"{fid}:{node.text}", boost=node.boost)
        raise QueryError(f"query: this kind of query cannot be used on field '{fid}'")

    return onto(parsed)


def parse(text: str, schema, field_ids, sensitive_ids=()) -> object:
    """The Whoosh query for `text` (against query_schema(field_ids)); raises QueryError
    naming what is wrong."""
    from whoosh import qparser, query

    text = (text or "").strip()
    if not text:
        raise QueryError("the query is empty: give words to search for, or * for every record")
    _check_brackets(text)
    aliases = {f"f_{fid}": [fid] for fid in field_ids if fid not in CORE_FIELDS}
    known = set(CORE_FIELDS) | set(field_ids)
    for match in _FIELD_REF.finditer(text):
        name = match.group(1)
        if name in sensitive_ids:
            raise QueryError(f"query: '{name}' is a sensitive field and is not in the index; "
                             "users with the privacy role find a sensitive value by typing "
                             "it as plain words")
        if name and name not in known:
            from ..errors import suggest
            raise QueryError(f"query: unknown field '{name}'{suggest(name, known)}; use "
                             f"{', '.join(CORE_FIELDS)} or a field id of a form (`qrec forms "
                             "show FORM`), or put text with a colon in quotes")
    for match in _DATE_RANGE.finditer(text):
        for end in re.split(r"\s*\bTO\b\s*", match.group(2).strip()):
            if end == "*":
                raise QueryError("query: leave an open end of a date range empty, e.g. "
                                 "date:[2026-06-01 TO]")
            if end:
                check_date(end, where="query date range")
    for match in _DATE_VALUE.finditer(text):
        check_date(match.group(1).strip('"'), where="query date")
    parser = qparser.QueryParser("content", schema, group=qparser.AndGroup)
    parser.add_plugin(qparser.FieldAliasPlugin(aliases))
    parsed = parser.parse(text)
    if parsed is query.NullQuery:
        raise QueryError(f"query '{text}' has nothing to search for")
    return _fix_terms(parsed)


def _check_brackets(text: str) -> None:
    if text.count('"') % 2:
        raise QueryError(f"query: a quote \" is not closed in: {text}")
    stack = []
    outside_quotes = re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), text)
    for at, char in enumerate(outside_quotes, 1):
        if char in _PAIRS:
            stack.append((char, at))
        elif char in _PAIRS.values():
            if not stack or _PAIRS[stack[-1][0]] != char:
                raise QueryError(f"query: '{char}' at character {at} closes nothing")
            stack.pop()
    if stack:
        char, at = stack[-1]
        raise QueryError(f"query: '{char}' at character {at} is not closed")


def _fix_terms(parsed):
    """One Chinese character matches the bigrams it starts and a run's last character (see
    analysis.py); record numbers are upper case however they were typed; `*` is every
    document."""
    from whoosh import query

    def fix(node):
        if isinstance(node, query.Every) and node.fieldname == "content":
            # `*`: every document has content (its number), and Whoosh finds the documents
            # with a field by reading every term of the field.
            return query.Every(boost=node.boost)
        if isinstance(node, (query.Term, query.Prefix, query.Wildcard)) and \
                node.fieldname == "number":
            return type(node)("number", str(node.text).upper(), boost=node.boost)
        if isinstance(node, query.Term) and isinstance(node.text, str) and \
                len(node.text) == 1 and is_cjk(node.text):
            return query.Or([node, query.Prefix(node.fieldname, node.text)])
        return node.apply(fix)

    return fix(parsed)


def filters(form=None, status=None, customer=None, date_from=None, date_to=None,
            all_versions=False) -> dict:
    """Whoosh search() arguments for the search options: earlier versions are masked out (few
    documents, so cheap), the options become a filter."""
    from whoosh import query

    parts = []
    if form:
        parts.append(query.Term("form", form))
    if status:
        parts.append(query.Term("status", status))
    if customer:
        words = [term for term, *_ in terms(customer, "query", compound=False)]
        if not words:
            raise QueryError(f"--customer '{customer}' has no letters, digits or Chinese "
                             "characters to look for")
        parts.append(_fix_terms(query.Term("customer", words[0]) if len(words) == 1
                                else query.Phrase("customer", words)))
    if date_from or date_to:
        parts.append(query.TermRange("date", date_from, date_to))
    return {"filter": query.And(parts) if parts else None,
            "mask": None if all_versions else query.Term("current", False)}


def check_date(value: str, param: str | None = None, where: str | None = None) -> str:
    """`value` if it is a YYYY-MM-DD date; QueryError naming the parameter (or, for a date
    inside a query, `where`) otherwise."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise QueryError(f"{where + ': ' if where else ''}'{value}' is not a date (YYYY-MM-DD)",
                         param=param) from None
