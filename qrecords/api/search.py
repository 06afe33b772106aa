"""Search verbs: finding records, and checking or rebuilding the index they are found in.

The index (index/) is derived from the catalog and brought up to date before every search.
Sensitive fields are never indexed (DOMAIN.md, Confidentiality): a privacy user who types a
sensitive value also finds the records holding it, looked up in the catalog and logged.
"""

from __future__ import annotations

from typing import Callable, TypedDict

from ..domain import names
from ..errors import QrecError
from ..files.base import sha256_bytes
from ..index import searching
from ..index.searchindex import IndexBroken
from ..workspace import Workspace

MAX_QUERY = 1000  # characters; far more than any search, far less than SQLite's LIKE limit


class Hit(TypedDict):
    number: str
    form: str
    status: str
    status_label: str
    title: str
    date: str
    version: int
    current: bool
    score: float
    snippet: str
    retention_until: str | None


class Found(TypedDict):
    total: int  # every match, exact
    hits: list[Hit]  # best first, at most `limit`


def search(ws: Workspace, text: str, form: str | None = None, status: str | None = None,
           customer: str | None = None, date_from: str | None = None,
           date_to: str | None = None, limit: int = 20,
           all_versions: bool = False) -> Found:
    """Records matching `text` (the query language of the README), best first, filtered by
    form, status (ids or labels, domain/names.py), customer and date (YYYY-MM-DD,
    inclusive). Raises QrecError naming the
    parameter at fault (param "text", "form", "status", "date_from" ...)."""
    if len(text) > MAX_QUERY:
        raise QrecError(f"检索词过长 the query is longer than {MAX_QUERY} characters "
                        f"({len(text)})", param="text")
    forms = ws.forms.all_usable(ws.notices)
    if form is not None:
        form = names.form_id(forms, form)
    if status is not None:
        status = names.status_id([forms[form]] if form else forms.values(), status)
    ws.sync_index()
    fields = [f for each in forms.values() for f in each.fields]
    types = {}
    for f in fields:  # an id that is long text in any form is searched in the content
        if not f.sensitive and types.get(f.id) not in ("longtext", "table"):
            types[f.id] = f.type
    def named(field: str, given: str) -> str:  # status:调查中, form:客户投诉处理单
        if field == "form":
            return names.form_id(forms, given, "text")
        return names.status_id([forms[form]] if form else forms.values(), given, "text")

    def run():
        return searching.run(ws.index, text, types, {f.id for f in fields if f.sensitive},
                             form=form, status=status, customer=customer,
                             date_from=date_from, date_to=date_to, limit=limit,
                             all_versions=all_versions,
                             sources_of=lambda keys: _snippet_sources(ws, keys),
                             forms=forms.values(), synonyms=ws.settings.synonyms,
                             named=named)
    try:
        found = run()
    except Exception as exc:  # a damaged segment (truncated postings ...): rebuilt, once
        if isinstance(exc, QrecError) and not isinstance(exc, IndexBroken):
            raise  # the query's own fault
        count = ws.index.rebuild(ws.index_source())
        ws.notices.append(f"the search index was unreadable ({type(exc).__name__}): rebuilt "
                          f"it from the catalog ({count} records)")
        found = run()
    if ws.sees_personal_data() and searching.is_plain(text):
        numbers = ws.catalog.sensitive_matches(text)
        extra = searching.sensitive_hits(ws.index, numbers, found, form=form, status=status,
                                         customer=customer, date_from=date_from,
                                         date_to=date_to, limit=limit)
        if numbers:  # the catalog told this user which records hold the value: logged
            with ws.catalog.write():
                # The query is a sensitive value itself: the log keeps its hash, not it.
                ws.log("search.sensitive", detail={"query_sha256": sha256_bytes(text.encode()),
                                                   "records": numbers})
        found["hits"] += extra
        found["total"] += len(extra)
    kept = ws.catalog.retention_until([hit["number"] for hit in found["hits"]])
    for hit in found["hits"]:
        hit["status_label"] = ws.forms.status_label(hit["form"], hit["status"])
        hit["retention_until"] = kept.get(hit["number"])
    return found


def _snippet_sources(ws: Workspace, keys: list[tuple[str, int]]) -> dict:
    """{(number, version): (form revision, data)} of the hits, in one catalog statement for a
    page of hits. A hit the catalog does not hold (the index is behind it) is read alone,
    which raises as before: Disposed or NotFound for its record, for its version an error
    the search verb takes for a damaged index."""
    found = {key: (ws.forms.frozen(revision_id)[0], data)
             for key, (revision_id, data) in ws.catalog.versions_data(keys).items()}
    for number, version in keys:
        if (number, version) not in found:
            record = ws.record_row(number)
            found[number, version] = (ws.forms.frozen(record["form_revision_id"])[0],
                                      ws.catalog.version(record["id"], version)["data"])
    return found


class IndexReport(TypedDict):
    built: bool  # False: this machine has no index yet (any command but `index check` builds it)
    pending: int  # events the index has not applied yet
    documents: int  # documents in the index
    differences: list[dict]  # {number, version, problem}
    damaged: list[str]  # one line per index file whose content is not what was written


def check_index(ws: Workspace) -> IndexReport:
    """Every difference between catalog and index (see index.searching.compare_index):
    {built, pending, documents, differences, damaged}. An index not built yet on this machine
    (a new machine joining a shared archive) is no fault: {built: False}, nothing else.
    Raises IndexBroken for an index that is there but unreadable."""
    if ws.index.state() is None:
        return {"built": False, "pending": 0, "documents": 0, "differences": [], "damaged": []}
    return {"built": True, **searching.compare_index(ws.index, ws.catalog, ws.index_source())}


def rebuild_index(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the index from the catalog; `progress(done, total)` per record. Returns how
    many records it holds."""
    return ws.index.rebuild(ws.index_source(), progress)
