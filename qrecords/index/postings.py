"""A query's matches scored from its postings decoded a block at a time.

Whoosh steps through the matches of a query one document at a time: the matcher's next(),
id() and score() and the collector's collect() for each, about 4 µs a match in Python, so
16 ms of the 4,000 matches of one place name at 100,000 records, and most of a portal
request. For what people type most — one term, or terms joined by AND or OR — the same
scores are computed here from the postings, a block of ids and term frequencies at a time,
each distinct (term frequency, field length) pair scored once by the term's own scorer: the
same floats, added in the order Whoosh's matcher tree adds them, so the same hits come in
the same order with the same total.

Only a tree of IntersectionMatcher and UnionMatcher over terms of the W3 codec (a term whose
postings are inline, codec.py, read as one block) scored by
ranking._LiveScorer (deleted documents filtered out, no boost) is taken; anything else (a
prefix, a NOT, a boost, a phrase, another codec) is left to Whoosh: scored() returns None.

(Imported only by a search: it imports Whoosh.)
"""

from __future__ import annotations

from array import array
from itertools import accumulate, filterfalse, repeat

from . import whoosh_first  # noqa: F401  (before any Whoosh import)
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher, IntersectionMatcher, UnionMatcher

from .codec import _InlineMatcher

ENABLED = True  # tests compare the scores here with Whoosh's by turning this off


def scored(matcher, leave_out=frozenset(), only=None, wanted=None) -> dict[int, float] | None:
    """{segment document number: score} of every match of `matcher` (a fresh matcher of one
    segment), ascending by document number, or None when the matcher is not one this module
    scores. Documents in `leave_out` (a set of segment document numbers) are left out, and
    so are those not in `only` (a set, or None for all); `wanted(docnum) -> bool`, if given,
    is asked of the others, once each, in ascending order, before they are scored."""
    tree = _tree(matcher) if ENABLED else None
    if tree is None:
        return None
    if isinstance(tree, _Leaf) and only is None and wanted is None:
        tree.read()
        return tree.scores(leave_out)
    docs = _docs(tree, only) - leave_out
    found = {}
    for docnum in sorted(docs):
        if wanted is None or wanted(docnum):
            found[docnum] = _score(tree, docnum)
    return found


def leaf_blocks(matcher, leave_out, floor):
    """{segment document number: score} of the matches of `matcher`, one term's, a block at a
    time, ascending, less those in `leave_out`; a block whose best possible score (its
    highest term frequency at its shortest length) is below floor() (a score, or None for
    no floor), asked before each block, is passed over undecoded. None when the matcher is
    not one this module scores, or not one term's."""
    tree = _tree(matcher) if ENABLED else None
    return tree.blocks(leave_out, floor) if isinstance(tree, _Leaf) else None


class _Leaf:
    """The postings of one term in one segment, less its deleted documents."""

    def __init__(self, postings: W3LeafMatcher, excluded):
        self.postings, self.excluded = postings, excluded
        self.weights: dict[int, float] = {}
        self._memo: dict = {}

    def size(self) -> int:
        """How large the postings are (bytes): which side of an AND to read first."""
        length = self.postings._length  # W3's term info, read back, gives it as a 1-tuple
        return length[0] if isinstance(length, tuple) else length

    def read(self, within=None) -> None:
        """Decode the blocks into {document number: term frequency}, ascending: every block,
        or only those that hold a document of `within` (a set), the others passed over by
        their headers (an AND of a rare term and a common one reads little of the common
        one's postings, as Whoosh's skip_to would)."""
        postings, weights = self.postings, self.weights
        wanted = sorted(within) if within is not None else None
        at = 0  # wanted[:at] lie in blocks already passed
        postings.reset()
        while postings.is_active():
            if wanted is not None:
                if at == len(wanted):
                    break
                last = postings.block_max_id()
                if wanted[at] > last:
                    postings._next_block()
                    continue
                while at < len(wanted) and wanted[at] <= last:
                    at += 1
            weights.update(zip(_block_ids(postings), _block_weights(postings)))
            postings._next_block()
        for docnum in self.excluded:
            weights.pop(docnum, None)

    def blocks(self, leave_out, floor):
        """leaf_blocks() of this term."""
        postings, scorer = self.postings, self.postings.scorer
        postings.reset()
        while postings.is_active():
            least = floor()
            # The block's stored highest frequency as its weights array holds it (float32),
            # so no document in it scores above this.
            best = None if least is None else scorer._score(
                array("f", (postings.block_max_weight(),))[0], postings.block_min_length())
            if best is None or best >= least:
                self.weights = dict(zip(_block_ids(postings), _block_weights(postings)))
                for docnum in self.excluded.intersection(self.weights):
                    del self.weights[docnum]
                yield self.scores(leave_out)
            postings._next_block()

    def scores(self, leave_out) -> dict[int, float]:
        """{document number: score} of every document with the term but those in
        `leave_out`, ascending (as score() gives each, in one loop)."""
        raw, table = self.postings.scorer.lengths
        docs = list(self.weights)
        if leave_out:
            docs = list(filterfalse(leave_out.__contains__, docs))
        if docs and docs[-1] < len(raw):  # (ascending) every one has its length byte
            lengths = map(table.__getitem__, map(raw.__getitem__, docs))
        else:
            lengths = (table[raw[d]] if d < len(raw) else 0 for d in docs)
        keys = list(zip(map(self.weights.__getitem__, docs), lengths))
        memo, score_of = self._memo, self.postings.scorer._score
        for key in set(keys).difference(memo):
            memo[key] = score_of(*key)
        return dict(zip(docs, map(memo.__getitem__, keys)))

    def score(self, docnum: int) -> float | None:
        """The document's score as the term's scorer gives it for the document's term
        frequency and field length (WeightLengthScorer.score), or None without the term."""
        weight = self.weights.get(docnum)
        if weight is None:
            return None
        raw, table = self.postings.scorer.lengths
        key = (weight, table[raw[docnum]] if docnum < len(raw) else 0)
        score = self._memo.get(key)
        if score is None:
            score = self._memo[key] = self.postings.scorer._score(*key)
        return score


def _block_ids(postings: W3LeafMatcher):
    """The current block's document numbers (W3LeafMatcher._read_ids, its delta decoding done
    by itertools.accumulate rather than a Python generator)."""
    if postings._ids is None:
        if postings._data is None:
            postings._read_data()
        ids = postings._data[0]
        postings._ids = ids if postings._byteids else tuple(accumulate(ids))
    return postings._ids


def _block_weights(postings: W3LeafMatcher):
    """The current block's term frequencies, as W3LeafMatcher._read_weights gives them (one
    value for the whole block repeated, not written out one by one)."""
    if postings._weights is not None:
        return postings._weights
    if postings._data is None:
        postings._read_data()
    weights = postings._data[1]
    if weights is None:
        return repeat(1.0, postings._blocklength)
    if isinstance(weights, float):  # stored once for the block, read back as a float32
        return repeat(array("f", (weights,))[0], postings._blocklength)
    return weights


def _tree(matcher):
    """("and" | "or", a, b) nodes over _Leaf leaves, as Whoosh built the matcher; or None."""
    kind = type(matcher)
    if kind is IntersectionMatcher or kind is UnionMatcher:
        a, b = _tree(matcher.a), _tree(matcher.b)
        if a is None or b is None:
            return None
        return ("and" if kind is IntersectionMatcher else "or", a, b)
    excluded = frozenset()
    if kind is FilterMatcher:  # a segment's deleted documents
        if not matcher._exclude or matcher.boost != 1.0:
            return None
        excluded, matcher = matcher._ids, matcher.child
    if type(matcher) is _InlineMatcher:
        matcher = _InlineBlock(matcher)
    elif type(matcher) is not W3LeafMatcher:
        return None
    if getattr(matcher.scorer, "lengths", None) is None:
        return None
    return _Leaf(matcher, excluded)


class _InlineBlock:
    """The postings of a term held inline in its term info (codec.py) as the one block of a
    W3LeafMatcher: the parts of it that _Leaf, _block_ids and _block_weights read."""

    _byteids = False

    def __init__(self, matcher: _InlineMatcher):
        self.scorer, self._terminfo = matcher._scorer, matcher._terminfo
        self._ids, self._weights = tuple(matcher._ids), tuple(matcher._weights)
        self._length = 8 * len(self._ids)  # about what its postings would take in a block
        self._blocklength = len(self._ids)
        self._done = False

    def reset(self) -> None:
        self._done = False

    def is_active(self) -> bool:
        return not self._done

    def _next_block(self) -> None:
        self._done = True

    def block_max_id(self) -> int:
        return self._ids[-1]

    def block_max_weight(self) -> float:
        return max(self._weights)

    def block_min_length(self) -> int:
        return self._terminfo.min_length()


def _size(tree) -> int:
    if isinstance(tree, _Leaf):
        return tree.size()
    kind, a, b = tree
    return min(_size(a), _size(b)) if kind == "and" else _size(a) + _size(b)


def _docs(tree, within=None) -> set[int]:
    """The documents of `within` (a set, or None for all) that the tree matches. An AND reads
    its smaller side first and the larger only where the smaller has documents."""
    if isinstance(tree, _Leaf):
        tree.read(within)
        return set(tree.weights) if within is None else within.intersection(tree.weights)
    kind, a, b = tree
    if kind == "or":
        return _docs(a, within) | _docs(b, within)
    small, large = sorted((a, b), key=_size)
    first = _docs(small, within)
    return first & _docs(large, first)


def _score(tree, docnum: int) -> float | None:
    """The score Whoosh's matcher gives the document: a leaf's own, an intersection's the sum
    of both sides (AdditiveBiMatcher), a union's the sum of the sides at the document."""
    if isinstance(tree, _Leaf):
        return tree.score(docnum)
    kind, a, b = tree
    left, right = _score(a, docnum), _score(b, docnum)
    if kind == "and":
        return None if left is None or right is None else left + right
    if left is None:
        return right
    return left if right is None else left + right
