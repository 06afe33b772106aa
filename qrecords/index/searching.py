"""Running searches against the index, and comparing the index with the catalog."""

from __future__ import annotations

import re

from . import query as queries
from .analysis import is_cjk
from .documents import LONG_TYPES, field_texts
from .literal import code_chinese_apart, typographic_spaces
from .searchindex import IndexBroken, damaged_files

SENSITIVE_NOTE = "（匹配敏感字段 matched a sensitive field）"
SEPARATE_NOTE = "没有记录把这些词连在一起写，按分开的词检索 — no record has these words " \
    "written together: searched for them anywhere in a record"
_SYNTAX = re.compile(r'[:"()\[\]{}*?^~]|\b(AND|OR|NOT|TO)\b')


def is_plain(text: str) -> bool:
    """Words only, no query syntax, and long enough to name someone: a Chinese name has two
    characters, anything else (a phone number) at least three."""
    bare = text.replace(" ", "").replace("-", "")
    shortest = 2 if bare and all(is_cjk(c) for c in bare) else 3
    return len(bare) >= shortest and not _SYNTAX.search(text)


def field_labels(forms) -> dict[str, list[str]]:
    """Chinese label -> the ids of the fields (of any of `forms`) that have it, sensitive ones
    included (naming one is refused as naming its id is)."""
    labels: dict[str, list[str]] = {}
    for form in forms:
        for field in form.fields:
            ids = labels.setdefault(field.label.zh, [])
            if field.id not in ids:
                ids.append(field.id)
    return labels


def run(index, text: str, field_types: dict, sensitive_ids, *, form, status, customer,
        date_from, date_to, limit, all_versions, sources_of, forms=(), synonyms=(),
        named=None) -> dict:
    """Search the live index: {"total", "hits", "notes"}, notes being one-line sentences for
    the user (the query was searched as the text it is, and why). `field_types` maps the
    forms' (non-sensitive) field ids to their type; `sources_of([(number, version)])` gives
    {(number, version): (form, data)} of the hits, for their snippets; the fields of `forms`
    may be named by their Chinese labels; `synonyms` are groups of words searched as one
    (config search.synonyms); `named` resolves status: and form: values (queries.parse)."""
    from .collect import top_and_total
    from .snippets import needles, snippet

    date_from = queries.check_date(date_from, "date_from") if date_from else None
    date_to = queries.check_date(date_to, "date_to") if date_to else None
    if date_from and date_to and date_from > date_to:
        raise queries.QueryError(f"{date_from} is after the end of the period {date_to}",
                                 param="date_from")
    if limit < 1:
        raise queries.QueryError("must be at least 1", param="limit")
    searcher = index.searcher()
    long_ids = {fid for fid, kind in field_types.items() if kind in LONG_TYPES}
    chosen = queries.filters(form, status, customer, date_from, date_to, all_versions)
    labels = field_labels(forms)
    # First the words as written together (`8D 报告` as 8D报告); when no record has them so,
    # the same words anywhere in a record, however they were spaced.
    apart = text if typographic_spaces(text) != text else code_chinese_apart(text)
    for together, asked in ((True, text), (False, apart)):
        parsed, notes = queries.parse(asked, field_types, sensitive_ids, labels, synonyms,
                                      together, named)
        top, total = top_and_total(searcher, queries.to_index(parsed, long_ids), limit,
                                   **chosen)
        if total or apart == text and typographic_spaces(text) == text:
            break
    if total and not together:  # `华东 PCB-4451-A`: not written together, but both are there
        notes.append(SEPARATE_NOTE)
    wanted = needles(parsed)
    sources = sources_of([(hit["number"], hit["version"]) for hit in top])
    hits = []
    for hit in top:
        record_form, data = sources[hit["number"], hit["version"]]
        hits.append(_hit(hit, round(hit.score, 3),
                         snippet(record_form, field_texts(record_form, data), wanted)))
    return {"total": total, "hits": hits, "notes": notes}


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
    """{"pending": catalog events not yet applied, "documents": how many it holds,
    "differences": [{number, version, problem}] between what the catalog says the index
    should hold and what it holds, "damaged": [one line per index file whose content is not
    what was written]}."""
    state = index.state()
    if state is None:
        raise IndexBroken("the search index is missing; run `qrec index rebuild`")
    damaged = damaged_files(index.folder / f"g{state['generation']}", state["files"])
    expected = {(doc["number"], doc["version"]): doc
                for docs in source.documents_of(source.all_numbers()).values() for doc in docs}
    differences = []
    try:
        with index.open(state["generation"]).searcher() as searcher:
            held = {(fields["number"], fields["version"]): fields
                    for fields in searcher.all_stored_fields()}
    except Exception as exc:  # Whoosh raises many kinds for a damaged segment
        if not damaged:
            raise IndexBroken(f"the search index is unreadable ({type(exc).__name__}); run "
                              "`qrec index rebuild`") from None
        return {"pending": store.changes_after(state["applied"]), "documents": 0,
                "differences": [], "damaged": damaged}
    for number, version in sorted(expected.keys() | held.keys()):
        want, have = expected.get((number, version)), held.get((number, version))
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
        differences.append({"number": number, "version": version, "problem": problem})
    return {"pending": store.changes_after(state["applied"]),
            "documents": len(held), "differences": differences, "damaged": damaged}
