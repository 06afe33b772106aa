"""A query's best hits and its exact total, in one pass over its matches at most. (Imported
only by a search: it imports Whoosh.)

What Whoosh's own search() costs at 100,000 records, and what is done here instead:

- For the total, Whoosh scores every match. A one-term query (most of what people type is one
  term, see analysis.py) gets its best hits from Whoosh's block-max optimisation, which skips
  blocks of postings that cannot reach the current top hits (the same hits in the same order),
  and its total from the term's document frequency, less the deleted and masked documents
  that have it (few: earlier versions).
- A phrase is checked by Whoosh in every document that has its words, even where the rest of
  the query rules the document out, and the intersection that finds them stops at every such
  document. Here a query whose top level is an AND of words and phrases runs as the AND of all
  its words, and each phrase is checked, by its words' positions, only in the documents that
  match everything else. A phrase scores as the sum of its words, so the scores are the same.
- Whoosh's total of a query with an OR is too low: while collecting it drops the parts of the
  OR that cannot reach the top hits, and their matches go uncounted. Here nothing is dropped.
"""

from __future__ import annotations

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh import query
from whoosh.reading import TermNotFound

from .ranking import RankedCollector, live_count


def top_and_total(searcher, q, limit: int, filter=None, mask=None) -> tuple[list, int]:
    """([whoosh Hit], exact number of matches) of `q`, only documents matching `filter` (a
    query, or None) and none matching `mask` (a query, or None), best first."""
    if searcher.doc_count_all() == 0:  # a new workspace: Whoosh's empty reader has no columns
        return [], 0
    allow = set(_ids(searcher, filter)) if filter is not None else None
    restrict = set(_ids(searcher, mask)) if mask is not None else set()
    if allow is not None and not allow:
        return [], 0
    if isinstance(q, query.Term) and allow is None:
        total = live_count(searcher, q.fieldname, q.text, restrict)
        if total is not None:
            collector = RankedCollector(limit, restrict)
            searcher.search_with_collector(q, collector)
            # results[:], not list(results): list() asks len(), which runs the query again.
            return collector.results()[:], total
    q, phrases = _without_phrases(q)
    collector = _Collector(limit, phrases, allow, restrict)
    searcher.search_with_collector(q, collector)
    return collector.results()[:], collector.total


def _ids(searcher, q):
    """The documents matching q, ascending."""
    for leaf, offset in searcher.leaf_searchers():
        try:
            matcher = q.matcher(leaf, leaf.boolean_context())
        except TermNotFound:
            continue
        steps = 0
        while matcher.is_active():
            yield matcher.id() + offset
            matcher.next()
            steps += 1
            if steps % 16 == 0:  # as Whoosh does: drop the finished parts of an OR
                matcher = matcher.replace()


def _without_phrases(q):
    """(q with each phrase at its top level replaced by the AND of its words, [those
    phrases]), when q is a phrase or an AND (of ANDs) holding one; else (q, [])."""
    conjuncts = list(_conjuncts(q))
    phrases = [c for c in conjuncts if type(c) is query.Phrase and c.slop == 1 and
               c.boost == 1.0 and not c.char_ranges]
    if not phrases:
        return q, []
    words = [query.Term(p.fieldname, w) for p in phrases for w in p.words] + \
        [c for c in conjuncts if not any(c is p for p in phrases)]
    return (words[0] if len(words) == 1 else query.And(words)), phrases


def _conjuncts(q):
    if type(q) is query.And and q.boost == 1.0:
        for sub in q.subqueries:
            yield from _conjuncts(sub)
    else:
        yield q


def _in_order(postings, docnum: int) -> bool:
    """Whether the words (their postings, in phrase order) are consecutive in the document."""
    starts = None
    for i, words in enumerate(postings):
        if not words.is_active():
            return False
        words.skip_to(docnum)
        if not words.is_active() or words.id() != docnum:
            return False
        here = {p - i for p in words.value_as("positions")}
        starts = here if starts is None else starts & here
        if not starts:
            return False
    return True


class _Collector(RankedCollector):
    """The ranked collector without block skipping, that keeps only documents where the
    phrases are and that pass `allow` and `restrict` (sets of document numbers), and counts
    every one of them."""

    def __init__(self, limit, phrases, allow, restrict):
        super().__init__(limit, restrict, usequality=False)
        self.phrases, self.allow = phrases, allow
        self._postings = []

    def set_subsearcher(self, subsearcher, offset):
        super().set_subsearcher(subsearcher, offset)
        reader = subsearcher.reader()
        try:
            self._postings = [[reader.postings(p.fieldname, w) for w in p.words]
                              for p in self.phrases]
        except TermNotFound:  # then the AND of the words matches nothing here either
            self._postings = None

    def collect(self, sub_docnum):
        docnum = self.offset + sub_docnum
        if docnum in self.restrict or (self.allow is not None and docnum not in self.allow):
            return 0
        if not self._phrases_in(sub_docnum):
            return 0
        return super().collect(sub_docnum)

    def _phrases_in(self, sub_docnum) -> bool:
        return self._postings is not None and \
            all(_in_order(words, sub_docnum) for words in self._postings)

    def _admitted(self) -> tuple:
        return (self._local(self.restrict),
                None if self.allow is None else self._local(self.allow),
                self._phrases_in if self.phrases else None)

    def _collect(self, global_docnum, score):
        found = super()._collect(global_docnum, score)
        # Now and then the collector replaces its matcher with a leaner one for this minimum
        # score, which drops the parts of an OR that cannot reach it; with 0 it drops only the
        # finished ones, so every match is counted.
        self.minscore = 0
        return found
