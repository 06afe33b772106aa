"""Running searches against the index, and comparing the index with the catalog."""

from __future__ import annotations

import re

from . import query as queries
from .analysis import is_cjk
from .documents import LONG_TYPES, field_texts
from .searchindex import IndexBroken

SENSITIVE_NOTE = "（匹配敏感字段 matched a sensitive field）"
_SYNTAX = re.compile(r'[:"()\[\]{}*?^~]|\b(AND|OR|NOT|TO)\b')


def is_plain(text: str) -> bool:
    """Words only, no query syntax, and long enough to name someone: a Chinese name has two
    characters, anything else (a phone number) at least three."""
    bare = text.replace(" ", "").replace("-", "")
    shortest = 2 if bare and all(is_cjk(c) for c in bare) else 3
    return len(bare) >= shortest and not _SYNTAX.search(text)


def run(index, text: str, field_types: dict, sensitive_ids, *, form, status, customer,
        date_from, date_to, limit, all_versions, snippet_of) -> dict:
    """Search the live index; `field_types` maps the forms' (non-sensitive) field ids to their
    type; `snippet_of(number, version)` gives (form, data) of a hit."""
    from .collect import top_and_total
    from .snippets import needles, snippet

    date_from = queries.check_date(date_from, "date_from") if date_from else None
    date_to = queries.check_date(date_to, "date_to") if date_to else None
    if date_from and date_to and date_from > date_to:
        raise queries.QueryError(f"{date_from} is after the end of the period {date_to}",
                                 param="date_from")
    if limit < 1:
        raise queries.QueryError("must be at least 1", param="limit")
    schema = queries.query_schema(field_types)
    parsed = queries.parse(text, schema, field_types, sensitive_ids)
    wanted = needles(parsed)
    searcher = index.searcher()
    long_ids = {fid for fid, kind in field_types.items() if kind in LONG_TYPES}
    top, total = top_and_total(searcher, queries.to_index(parsed, long_ids), limit,
                               **queries.filters(form, status, customer, date_from, date_to,
                                                 all_versions))
    hits = []
    for hit in top:
        record_form, data = snippet_of(hit["number"], hit["version"])
        hits.append(_hit(hit, round(hit.score, 3),
                         snippet(record_form, field_texts(record_form, data), wanted)))
    return {"total": total, "hits": hits}


def sensitive_hits(index, numbers, found, *, form, status, customer, date_from, date_to,
                   limit) -> list[dict]:
    """Hits for records matched by a sensitive value that the options let through and the
    index search did not find already."""
    from whoosh import query

    seen = {hit["number"] for hit in found["hits"]}
    wanted = [n for n in numbers if n not in seen]
    room = limit - len(found["hits"])
    if not wanted:
        return []
    searcher = index.searcher()
    options = queries.filters(form, status, customer, date_from, date_to, False)
    results = searcher.search(query.Or([query.Term("number", n) for n in wanted]),
                              limit=None, **options)
    order = {n: i for i, n in enumerate(wanted)}
    hits = sorted((_hit(hit, 0.0, SENSITIVE_NOTE) for hit in results),
                  key=lambda h: order[h["number"]])
    return hits[:max(0, room)]


def _hit(hit, score: float, snippet: str) -> dict:
    return {"number": hit["number"], "form": hit["form"], "status": hit["status"],
            "title": hit["title"], "date": hit["date"], "version": hit["version"],
            "current": hit["current"], "score": score, "snippet": snippet}


def compare_index(index, store, source) -> dict:
    """{"pending": catalog events not yet applied, "differences": [{number, version,
    problem}]} between what the catalog says the index should hold and what it holds."""
    state = index.state()
    if state is None:
        raise IndexBroken("the search index is missing; run `qrec index rebuild`")
    expected = {}
    for number in source.all_numbers():
        for doc in source.documents(number):
            expected[doc["key"]] = doc
    differences = []
    with index.open(state["generation"]).searcher() as searcher:
        held = {fields["key"]: fields for fields in searcher.all_stored_fields()}
    for key in sorted(expected.keys() | held.keys(), key=_key_order):
        number, version = key.rsplit("#", 1)
        want, have = expected.get(key), held.get(key)
        if have is None:
            problem = "missing from the index"
        elif want is None:
            problem = "in the index but not in the catalog"
        else:
            stale = [f"{name} is {have[name]!r} in the index, {want[name]!r} in the catalog"
                     for name in ("status", "current", "data_sha256", "form", "date")
                     if have.get(name) != want[name]]
            if not stale:
                continue
            problem = "; ".join(stale)
        differences.append({"number": number, "version": int(version), "problem": problem})
    return {"pending": store.changes_after(state["applied"]),
            "documents": len(held), "differences": differences}


def _key_order(key: str):
    number, version = key.rsplit("#", 1)
    return number, int(version)
