"""The order of search hits: the same for the same documents however the index was written.

Whoosh's BM25F takes its statistics (how many documents, how many have a term, their average
length) from every document a segment holds, deleted ones included. A record re-indexed one
change at a time leaves its earlier documents deleted in older segments until they are
merged, so the same query scored differently on that index than on one rebuilt from the
catalog, and documents with equal scores came in the order they were written. Here:

- LiveBM25F is BM25F over the live documents only: how many there are, how many have a
  term and their average length.
- Prefix, wildcard and range queries score a constant for each match (stable()).
- Hits with equal scores (to ORDER_DIGITS decimals) come newest first: by the record's date,
  then its number, then its version, all descending, read from the `order` column that
  documents.order_key() fills.

(Imported only by a search: it imports Whoosh.)
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from heapq import heappush, heapreplace
from math import log

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh.collectors import TopCollector
from whoosh.matching import FilterMatcher, WrappingMatcher
from whoosh.query import Prefix, TermRange, Wildcard
from whoosh.scoring import BM25F, BM25FScorer, WeightScorer

from . import postings

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
    """Whoosh's BM25F scorer with LiveBM25F's statistics, reading a segment's document lengths
    from its length column loaded at once rather than from the file for each document."""

    def __init__(self, searcher, fieldname, text, B, K1, qf=1):
        parent = searcher.get_parent()
        self.idf = parent.idf(fieldname, text)  # LiveBM25F.idf, cached by the searcher
        self.avgfl = _live_average_length(parent, fieldname) or 1
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)
        raw = _length_bytes(searcher.reader(), fieldname) if searcher.is_atomic() else None
        # (the segment's length bytes, byte -> length): postings.py scores from them too
        self.lengths = None
        if raw is not None:
            table, size = _byte_lengths(), len(raw)
            self.dfl = lambda docnum: table[raw[docnum]] if docnum < size else 0
            self.lengths = (raw, table)


def _live_average_length(searcher, fieldname: str) -> float:
    """The average length of the field over the live documents, as Whoosh stores each one
    (a byte). Not from Whoosh's total per segment: a merged segment's total still counts the
    documents deleted before the merge."""
    cache = searcher.__dict__.setdefault("_qrec_average_length", {})
    if fieldname not in cache:
        total = sum(_live_lengths(leaf.reader(), fieldname)
                    for leaf, _ in searcher.leaf_searchers())
        cache[fieldname] = total / (searcher.doc_count() or 1)
    return cache[fieldname]


@lru_cache(maxsize=1)
def _byte_lengths() -> list[int]:
    from whoosh.util.numeric import byte_to_length

    return [byte_to_length(b) for b in range(256)]


def _length_bytes(reader, fieldname: str) -> bytes | None:
    """A segment's column of one-byte document lengths of the field (Whoosh's W3 codec:
    documents past its end have none), read once per reader; None for another codec."""
    cache = reader.__dict__.setdefault("_qrec_lengths", {})
    if fieldname not in cache:
        try:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

            column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            cache[fieldname] = bytes(column._dbfile.get(column._basepos, column._count)) \
                if column else b""
        except AttributeError:  # another codec or reader
            cache[fieldname] = None
    return cache[fieldname]


def _live_lengths(reader, fieldname: str) -> int:
    """The sum of the field's lengths over a segment's live documents."""
    raw = _length_bytes(reader, fieldname)
    if raw is None:
        lengths = (reader.doc_field_length(d, fieldname, 0) or 0
                   for d in range(reader.doc_count_all()))
        total = sum(lengths)
    else:
        table = _byte_lengths()
        total = sum(table[b] * n for b, n in Counter(raw).items())
    if reader.has_deletions():
        total -= sum(reader.doc_field_length(d, fieldname, 0) or 0
                     for d in reader.deleted_docs_set)
    return total


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
        self._roundings: dict[float, float] = {}

    def set_subsearcher(self, subsearcher, offset):
        super().set_subsearcher(subsearcher, offset)
        self._order = subsearcher.reader().column_reader("order", translate=False)

    def collect(self, sub_docnum):
        if self.offset + sub_docnum in self.restrict:
            return 0
        return super().collect(sub_docnum)

    def collect_matches(self):
        """The segment's matches scored a block at a time where postings.py can (the same
        scores, so the same hits), else stepped through by Whoosh. With `usequality` (one
        term, its total counted apart: top_and_total), a block whose best possible score
        cannot reach the best hits so far is passed over undecoded, as Whoosh does."""
        if self.usequality:
            blocks = postings.leaf_blocks(self.matcher, self._local(self.restrict),
                                          self._floor)
            if blocks is not None:
                for found in blocks:
                    self._offer(found)
                return
        found = postings.scored(self.matcher, *self._admitted())
        if found is None:
            return super().collect_matches()
        self._offer(found)

    def _floor(self) -> float | None:
        """A score a document must exceed to be among the best so far (with room for
        rounding, so ties are kept), or None while there is room."""
        return self.items[0][0] - 10 ** -ORDER_DIGITS if len(self.items) >= self.limit \
            else None

    def _offer(self, found: dict) -> None:
        """Collect {segment document number: exact score}: each counted, the best kept."""
        floor = self._floor()
        if floor is not None:  # only those above the floor can be among the best
            candidates = [(d, e) for d, e in found.items() if e >= floor]
        elif len(found) > self.limit:
            # Few distinct scores: only the documents scoring at least the limit-th best
            # among them (rounded, ties kept) can be among the best.
            counts = Counter(found.values())
            tally = Counter()
            for exact, count in counts.items():
                tally[self._rounded(exact)] += count
            room, lowest = self.limit, None
            for lowest in sorted(tally, reverse=True):
                room -= tally[lowest]
                if room <= 0:
                    break
            kept = {exact for exact in counts if self._rounded(exact) >= lowest}
            candidates = [(d, e) for d, e in found.items() if e in kept]
        else:
            candidates = found.items()
        self.total += len(found) - len(candidates)  # counted, but not among the best
        offset, items, limit = self.offset, self.items, self.limit
        for docnum, exact in candidates:
            score = self._rounded(exact)
            if len(items) >= limit and score < items[0][0]:
                self.total += 1
            else:
                self._collect(offset + docnum, score)

    def _rounded(self, exact: float) -> float:
        """round(exact, ORDER_DIGITS), each distinct score rounded once."""
        try:
            return self._roundings[exact]
        except KeyError:
            score = self._roundings[exact] = round(exact, ORDER_DIGITS)
            return score

    def _admitted(self) -> tuple:
        """postings.scored's leave_out, only and wanted for this segment: what collect()
        would refuse."""
        return self._local(self.restrict), None, None

    def _local(self, docnums) -> set:
        """The top-level document numbers that fall in this segment, as segment numbers."""
        start, end = self.offset, self.offset + self.subsearcher.reader().doc_count_all()
        return {d - start for d in docnums if start <= d < end}

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


class _ConstantScore(WrappingMatcher):
    """Its child's matches, each scoring `boost`."""

    def replace(self, minquality=0):
        found = self.child.replace(0)
        return self if found is self.child else self._replacement(found)

    def supports_block_quality(self):
        return False

    def skip_to_quality(self, minquality):
        return 0

    def max_quality(self):
        return self.boost

    def block_quality(self):
        return self.boost

    def score(self):
        return self.boost


class _StableMultiTerm:
    """A prefix, wildcard or range query whose every match scores its boost. Whoosh scores
    them by BM25 or by a constant depending on how many terms they expand to (terms of
    deleted documents included) and how large each segment is, so the same query scored
    differently before and after a rebuild."""

    def matcher(self, searcher, context=None):
        from whoosh import matching
        from whoosh.query import Or, Term
        from whoosh.scoring import Frequency
        from whoosh.searching import SearchContext

        fieldname = self.field()
        found = [Term(fieldname, word) for word in self._btexts(searcher.reader()) if word]
        if not found:
            return matching.NullMatcher()
        # Frequency: the expansions need no statistics (their scores are not used).
        context = (context or SearchContext()).set(weighting=Frequency())
        return _ConstantScore(Or(found).matcher(searcher, context), self.boost)


class StablePrefix(_StableMultiTerm, Prefix):
    pass


class StableWildcard(_StableMultiTerm, Wildcard):
    pass


class StableTermRange(_StableMultiTerm, TermRange):
    pass


def stable(node):
    """A prefix, wildcard or range query as one of the Stable classes above."""
    if isinstance(node, _StableMultiTerm):
        return node
    if isinstance(node, TermRange):
        return StableTermRange(node.fieldname, node.start, node.end, node.startexcl,
                               node.endexcl, boost=node.boost)
    cls = StablePrefix if isinstance(node, Prefix) else StableWildcard
    return cls(node.fieldname, node.text, boost=node.boost)
