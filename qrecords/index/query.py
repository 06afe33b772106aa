"""From what a user types or pastes to a Whoosh query: Whoosh's query language over our fields,
and the filters of `qrec search` as a separate filter query.

What Whoosh would misread is searched as the text it is instead (literal.py): an unknown field
name (`ISO9001:2015`, `时间:13:58`), an unbalanced quote or bracket, brackets inside words
(`第(三)条`); a note says so. Fields may be named by their Chinese label (`客户:华东`,
`产品名称:防静电服`). Every word is analysed as the records are (analysis.py), and looked for
with its variants: without the punctuation pasted text puts between Chinese characters, and
with each synonym of the workspace's list (`品质` finds 质量 too). Prefixes (`ISO*`, `顾客满*`)
are folded like words."""

from __future__ import annotations

import datetime as dt
import re
import threading

from ..errors import QrecError
from .analysis import is_cjk, normalise, terms, unpunctuated
from .literal import (OPERATORS, literal_reason, question_marks, typographic_spaces,
                      with_field_names)

# Fields a query may name besides the forms' own field ids, and their Chinese names.
CORE_FIELDS = ("number", "form", "status", "date", "customer", "content")
CORE_LABELS = {"客户": "customer", "内容": "content"}
_DATE_RANGE = re.compile(r"(?<!\w)date:\s*([\[{])([^\]}]*)([\]}])")
_DATE_VALUE = re.compile(r"(?<!\w)date:\s*([^\s\[{()]+)")
_TEXT_FIELDS = ("content", "customer")
MAX_VARIANTS = 8  # of one word: as typed, without punctuation, with synonyms
MAX_SLOP = 100  # words of a proximity phrase (`"a b"~N`): far less than packing.FIELD_GAP


class QueryError(QrecError):
    """A query that cannot be read; the message says where."""


_SCHEMAS = threading.local()  # each thread's schemas: Whoosh objects stay in one thread


def query_schema(field_ids, groups=()):
    """What queries are parsed against: the index's fields plus one f_<id> field per form
    field, analysed like the text (to_index() then maps those onto the `fields` field), and
    one f_<name> per name in `groups` (a label several fields share, see parse()). Made once
    per thread for the same fields (a portal worker parses a query at every request)."""
    key = (frozenset(field_ids), tuple(sorted(groups)))
    made = _SCHEMAS.__dict__.setdefault("made", {})
    if key not in made:
        if len(made) >= 16:  # forms changed many times in one long-lived process
            made.clear()
        made[key] = _new_query_schema(field_ids, groups)
    return made[key]


def _new_query_schema(field_ids, groups):
    from .analysis import analyzer
    from .searchindex import text_field, whoosh_schema

    schema = whoosh_schema()
    for fid in sorted(field_ids) + sorted(groups):  # as `fields` holds them
        schema.add(f"f_{fid}", text_field(analyzer(compound=False), multitoken_query="phrase"))
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
            start, end = (_range_end(fid, value) for value in (node.start, node.end))
            return type(node)("fields", f"{fid}:{start}", f"{fid}:{end}" if end else
                              f"{fid}:\uffff", boost=node.boost)
        if isinstance(node, (query.Term, query.Prefix, query.Wildcard)):
            return type(node)("fields", f"{fid}:{node.text}", boost=node.boost)
        raise QueryError(f"query: this kind of query cannot be used on field '{fid}'")

    return onto(parsed)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _range_end(fid: str, value: str | None) -> str:
    """One end of a range on a record field, as the field's terms are written: a date
    YYYY-MM-DD as its digits (analysis joins a code's parts: 2026-11-18 is 20261118). Terms
    compare as text, so a range of numbers would find 500 outside [100 TO 1000]: refused
    (QueryError)."""
    if not value:
        return ""
    if _ISO_DATE.fullmatch(value):
        return value.replace("-", "")
    if value.isdigit() and len(value) != 8:
        raise QueryError(f"{fid}:[… TO …]: 范围检索只用于日期 a range works on dates "
                         f"(YYYY-MM-DD), not on numbers such as '{value}'")
    return value.lower()


def parse(text: str, field_ids, sensitive_ids=(), labels=None, synonyms=(),
          together=True, named=None) -> tuple:
    """(Whoosh query, notes) for `text`, against query_schema(field_ids); notes are one-line
    sentences for the user (why the text was searched as the text it is). `labels` maps
    Chinese labels to field ids (searching.field_labels()); `synonyms` are groups of
    interchangeable words; `together`: Chinese and a code with a space between them are
    searched as written together (literal.typographic_spaces); `named(field, value)` gives
    the id a `status:` or `form:` value names (its label, in either language), or raises.
    Raises QueryError for an empty query, a malformed date or nothing to look for, and
    QrecError for the name of a sensitive field or what `named` refuses."""
    from whoosh import qparser, query

    text = question_marks((text or "").strip())
    if not text:
        raise QueryError("检索词为空 the query is empty: give words to search for, or * for "
                         "every record")
    names, groups = dict(CORE_LABELS), {}
    for label, ids in (labels or {}).items():
        if len(ids) == 1:
            names[label] = ids[0]
        else:  # one label, several fields: searched in each
            groups[f"_{len(groups) + 1}"] = list(ids)
            names[label] = f"f__{len(groups)}"
    known = set(CORE_FIELDS) | set(field_ids) | set(sensitive_ids)
    text = with_field_names(text, names, known)
    schema = query_schema(field_ids, groups)
    words = _Words(schema, synonyms)
    reason = literal_reason(text, known | {f"f_{name}" for name in groups}, sensitive_ids)
    if together:
        text = typographic_spaces(text)
    if reason is None:
        _check_dates(text)
        parser = _parser(schema, text, words)
        parser.add_plugin(qparser.FieldAliasPlugin(
            {f"f_{fid}": [fid] for fid in field_ids if fid not in CORE_FIELDS}))
        parsed, notes = parser.parse(text), []
    else:
        pieces = text.split()
        words_only = [piece for piece in pieces if piece not in OPERATORS] or pieces
        found = [q for piece in words_only
                 if (q := words.query("content", piece, query.Term)) is not None]
        parsed = None if not found else found[0] if len(found) == 1 else query.And(found)
        notes = [f"{reason[0]}，按原文检索 — {reason[1]}: searched as the text it is"]
    if parsed is None or parsed is query.NullQuery:
        raise QueryError(f"无可检索内容 query '{text}' has nothing to search for")
    return _limit_slop(_fix_terms(_in_groups(parsed, groups), named), notes), notes


def _limit_slop(parsed, notes: list[str]):
    """Phrases with a proximity (`"华东 控制板"~150`) of at most MAX_SLOP words: a larger one
    would reach into the next field (packing.FIELD_GAP positions away); a note says so."""
    from whoosh import query

    def limit(node):
        if isinstance(node, query.Phrase) and node.slop > MAX_SLOP:
            if not any(note.startswith("近邻距离最多") for note in notes):
                notes.append(f"近邻距离最多 {MAX_SLOP} 个词 — a proximity of {node.slop} words "
                             f"searched as {MAX_SLOP} (words of one field)")
            return query.Phrase(node.fieldname, node.words, slop=MAX_SLOP, boost=node.boost)
        return node.apply(limit)

    return limit(parsed)


def _parser(schema, text: str, words):
    """Whoosh's parser, with the words and quoted phrases of text fields made by _Words from
    the text as typed instead of by Whoosh."""
    from whoosh import qparser, query

    class Parser(qparser.QueryParser):
        def term_query(self, fieldname, text, termclass, boost=1.0, tokenize=True,
                       removestops=True):
            if _is_text(fieldname) and termclass in (query.Term, query.Wildcard, query.Prefix):
                return words.query(fieldname, text, termclass, boost)
            return super().term_query(fieldname, text, termclass, boost, tokenize,
                                      removestops)

    def phrase(fieldname, found, slop=1, boost=1.0, char_ranges=None):
        if _is_text(fieldname) and slop == 1 and found and char_ranges and \
                char_ranges[0][0] is not None:
            quoted = text[char_ranges[0][0]:char_ranges[-1][1]]
            return words.query(fieldname, quoted, query.Term, boost) or query.NullQuery
        return query.Phrase(fieldname, found, slop=slop, boost=boost,
                            char_ranges=char_ranges) if found else query.NullQuery

    parser = Parser("content", schema, group=qparser.AndGroup)
    parser.phraseclass = phrase
    return parser


def _in_groups(parsed, groups):
    """A query on a group's field (f__<n>) as the OR of the same query on each of its fields."""
    if not groups:
        return parsed
    from whoosh import query

    def expand(node):
        name = getattr(node, "fieldname", None)
        if not (isinstance(name, str) and name[2:] in groups):
            return node.apply(expand)
        copies = []
        for fid in groups[name[2:]]:
            copy = node.copy()
            copy.fieldname = f"f_{fid}"
            copies.append(copy)
        return query.Or(copies)

    return expand(parsed)


def _is_text(fieldname) -> bool:
    return fieldname in _TEXT_FIELDS or str(fieldname).startswith("f_")


class _Words:
    """The query of one word (a piece of text without spaces) or phrase in a text field."""

    def __init__(self, schema, synonyms):
        self.schema = schema
        self.synonyms = [[normalise(w) for w in group] for group in synonyms]

    def query(self, fieldname, text: str, termclass, boost=1.0):
        from whoosh import query

        if termclass is query.Wildcard:
            return query.Wildcard(fieldname, normalise(text), boost=boost)
        if termclass is query.Prefix:  # Whoosh has taken the "*" off
            if not any(map(is_cjk, text)):
                # A code is a prefix of its joined form ("PCB-44*" of pcb4451a).
                key = normalise(re.sub(r"[-_/.\s]", "", text))
                return query.Prefix(fieldname, key, boost=boost) if key else None
            # Chinese: any substring is found, so a prefix is the text itself.
        found, seen = [], set()
        for variant in self._variants(text):
            words = tuple(t.text for t in self.schema[fieldname].analyzer(variant,
                                                                          mode="query"))
            if words and words not in seen:
                seen.add(words)
                found.append(query.Term(fieldname, words[0], boost=boost) if len(words) == 1
                             else query.Phrase(fieldname, list(words), boost=boost))
        return None if not found else found[0] if len(found) == 1 else query.Or(found)

    def _variants(self, text: str) -> list[str]:
        variants = [normalise(text)]
        bare = unpunctuated(text)
        if bare:
            variants.append(bare)
        for group in self.synonyms:
            for variant in list(variants):
                for word in group:
                    if word and word in variant:
                        variants += [variant.replace(word, other) for other in group
                                     if other != word]
        return list(dict.fromkeys(variants))[:MAX_VARIANTS]


def _check_dates(text: str) -> None:
    for match in _DATE_RANGE.finditer(text):
        for end in re.split(r"\s*\bTO\b\s*", match.group(2).strip()):
            if end == "*":
                raise QueryError("query: leave an open end of a date range empty, e.g. "
                                 "date:[2026-06-01 TO]")
            if end:
                check_date(end, where="query date range")
    for match in _DATE_VALUE.finditer(text):
        check_date(match.group(1).strip('"'), where="query date")


def _fix_terms(parsed, named=None):
    """`status:调查中` and `form:客户投诉处理单` as the ids the index holds
    (status:investigating), as `named` (parse's) gives them; one Chinese character matches the
    bigrams it starts and a run's last character (see analysis.py); record numbers are upper
    case however they were typed; `*` is every
    document; prefix, wildcard and range queries score the same on any index
    (ranking.stable). A word that begins with * or ? is refused (QueryError): Whoosh would
    match it against every term of the field, 2 to 40 s at 100,000 records (`**`, `*损*`),
    as Lucene refuses it unless told otherwise (allowLeadingWildcard)."""
    from whoosh import query

    from .ranking import stable

    def fix(node):
        if named is not None and isinstance(node, query.Term) and isinstance(node.text, str) \
                and node.fieldname in ("status", "form"):
            return query.Term(node.fieldname, named(node.fieldname, node.text),
                              boost=node.boost)
        if isinstance(node, (query.Prefix, query.Wildcard)) and str(node.text)[:1] in "*?":
            raise QueryError(f"'{node.text}': 通配符不能在词首 a word may not begin with * or ? "
                             "(it would read every word indexed; Chinese is found inside a "
                             "text without *)")
        if isinstance(node, query.Every) and node.fieldname == "content":
            # `*`: every document has content (its number), and Whoosh finds the documents
            # with a field by reading every term of the field.
            return query.Every(boost=node.boost)
        if isinstance(node, (query.Term, query.Prefix, query.Wildcard)) and \
                node.fieldname == "number":
            fixed = type(node)("number", str(node.text).upper(), boost=node.boost)
            return fixed if isinstance(node, query.Term) else stable(fixed)
        if isinstance(node, query.Term) and isinstance(node.text, str) and \
                len(node.text) == 1 and is_cjk(node.text):
            return query.Or([node, stable(query.Prefix(node.fieldname, node.text))])
        if isinstance(node, (query.Prefix, query.Wildcard, query.TermRange)):
            return stable(node)
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
            raise QueryError(f"'{customer}' has no letters, digits or Chinese characters to "
                             "look for", param="customer")
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