"""The order of search hits: the same for the same documents however the index was written.

Whoosh's BM25F takes its statistics (how many documents, how many have a term, their average
length) from every document a segment holds, deleted ones included. A record re-indexed one
change at a time leaves its earlier documents deleted in older segments until they are
merged, so the same query scored differently on that index than on one rebuilt from the
catalog, and documents with equal scores came in the order they were written. Here:

- LiveBM25F is BM25F over the live documents only: the documents that have a term and the
  total field length, less the deleted documents' share.
- Hits with equal scores (to ORDER_DIGITS decimals) come newest first: by the record's date,
  then its number, then its version, all descending, read from the `order` column that
  documents.order_key() fills.

(Imported only by a search: it imports Whoosh.)
"""

from __future__ import annotations

from heapq import heappush, heapreplace
from math import log

from whoosh.collectors import TopCollector
from whoosh.matching import FilterMatcher
from whoosh.scoring import BM25F, BM25FScorer, WeightScorer

ORDER_DIGITS = 6  # scores equal to this many decimals are ties


class LiveBM25F(BM25F):
    """BM25F (Whoosh's defaults B=0.75, K1=1.2) with statistics of the live documents."""

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        count = live_count(parent, fieldname, text)
        if count is None:
            count = parent.doc_frequency(fieldname, text)
        return log(max(parent.doc_count(), 1) / (count + 1)) + 1

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        return _LiveScorer(searcher, fieldname, text, self._field_B.get(fieldname, self.B),
                           self.K1, qf=qf)


class _LiveScorer(BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf=1):
        parent = searcher.get_parent()
        self.idf = parent.idf(fieldname, text)  # LiveBM25F.idf, cached by the searcher
        self.avgfl = _live_average_length(parent, fieldname) or 1
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)


def _live_average_length(searcher, fieldname: str) -> float:
    """The average length of the field over the live documents (the deleted ones' lengths
    are Whoosh's one-byte approximations: off by a few percent of a few documents)."""
    cache = searcher.__dict__.setdefault("_qrec_average_length", {})
    if fieldname not in cache:
        total = searcher.field_length(fieldname)
        for leaf, _ in searcher.leaf_searchers():
            reader = leaf.reader()
            if reader.has_deletions():
                total -= sum(reader.doc_field_length(d, fieldname, 0)
                             for d in reader.deleted_docs_set)
        cache[fieldname] = total / (searcher.doc_count() or 1)
    return cache[fieldname]


def live_count(searcher, fieldname: str, text, restrict=frozenset()) -> int | None:
    """Live documents with the term, less those in `restrict` (top-level document numbers);
    None if a segment does not tell its deleted documents."""
    field = searcher.schema[fieldname]
    text = field.to_bytes(text) if isinstance(text, str) else text
    total = 0
    for leaf, offset in searcher.leaf_searchers():
        reader = leaf.reader()
        if (fieldname, text) not in reader:
            continue
        end = offset + reader.doc_count_all()
        excluded = {d - offset for d in restrict if offset <= d < end}
        if reader.has_deletions():
            deleted = getattr(reader, "deleted_docs_set", None)  # Whoosh's SegmentReader
            if deleted is None:
                return None
            excluded.update(deleted)
        count = reader.doc_frequency(fieldname, text)  # deleted documents included
        if excluded:
            postings = reader.postings(fieldname, text)
            if isinstance(postings, FilterMatcher):
                # A segment with deletions hides them behind a filter, which has already
                # stepped its postings past the first ones: back to the start, unfiltered.
                postings = postings.child
                postings.reset()
            for docnum in sorted(excluded):
                if not postings.is_active():
                    break
                postings.skip_to(docnum)
                if postings.is_active() and postings.id() == docnum:
                    count -= 1
        total += count
    return total


class RankedCollector(TopCollector):
    """Whoosh's TopCollector with ties broken by the `order` column instead of the document
    number, leaving out the documents in `restrict` (a set of top-level document numbers).
    With `usequality`, blocks of postings that cannot reach the top hits are skipped, but not
    those that could tie with the last of them."""

    def __init__(self, limit, restrict=frozenset(), usequality=True):
        super().__init__(limit, usequality=usequality)
        self.restrict = restrict
        self._order = None

    def set_subsearcher(self, subsearcher, offset):
        super().set_subsearcher(subsearcher, offset)
        self._order = subsearcher.reader().column_reader("order", translate=False)

    def collect(self, sub_docnum):
        if self.offset + sub_docnum in self.restrict:
            return 0
        return super().collect(sub_docnum)

    def _collect(self, global_docnum, score):
        items = self.items
        self.total += 1
        score = round(score, ORDER_DIGITS)
        if len(items) < self.limit:
            heappush(items, (score, self._order[global_docnum - self.offset], global_docnum))
        elif score >= items[0][0]:
            item = (score, self._order[global_docnum - self.offset], global_docnum)
            if item <= items[0]:
                return 0
            heapreplace(items, item)
            # Whoosh skips blocks whose best score is at most minscore: keep the ties.
            self.minscore = max(0.0, items[0][0] - 10 ** -ORDER_DIGITS)
        else:
            return 0
        return 0 - score

    def results(self):
        items = sorted(self.items, reverse=True)
        return self._results([(score, docnum) for score, _, docnum in items])
