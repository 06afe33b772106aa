"""index/collect.py against Whoosh scoring every match: the same best hits and the exact total,
over an index with several segments, deleted documents and earlier versions."""

from __future__ import annotations

import pytest

from qrecords.index import query as queries
from qrecords.index.collect import top_and_total
from qrecords.index.documents import LONG_TYPES
from tests import corpus
from qrecords.api import records
from tests.conftest import as_user

QUERIES = ["包装破损", "华东", "锈", "运输途中堆码", "铝合金", "控制板组件 包装破损", "PCB-4451-A",
           "PCB4451A", "damaged", '"cartons damaged"', "包装破损 OR 数量短缺",
           "form:complaint AND NOT 包装破损", "华东 包装破损", "pcb*", "*", "CC-2611", "A级品",
           "customer:华东", "part_no:SS-FL-200", "date:[2026-03-01 TO 2026-05-31]", "不存在的词",
           "包装破损 不存在"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A workspace whose index has earlier versions and deleted documents in older segments."""
    from tests.conftest import init_workspace

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QREC_TODAY", "2026-11-23")
        ws = init_workspace(tmp_path_factory.mktemp("collect") / "ws")
        complaints = []
        for form_id, data in corpus.generate(60, 15, 15, seed=3):
            number = records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)["number"]
            if form_id == "complaint":
                complaints.append(number)
        ws.sync_index()
        for number in complaints[::3]:  # a second version each
            records.amend(as_user(ws, "lina"), number, {"description": "到货后发现包装破损，A级品混入"},
                          reason="更正", pdf=False)
        ws.sync_index()
        yield ws
        ws.close()


def _parsed(ws, text):
    forms = ws.forms.all_current()
    types = {f.id: f.type for form in forms.values() for f in form.fields if not f.sensitive}
    long_ids = {fid for fid, kind in types.items() if kind in LONG_TYPES}
    return queries.to_index(queries.parse(text, types)[0], long_ids)


@pytest.mark.parametrize("options", [{}, {"all_versions": True}, {"form": "complaint"}])
def test_best_hits_and_totals_are_whooshs_over_every_match(indexed, options):
    searcher = indexed.index.searcher()
    segments = searcher.leaf_searchers()
    assert len(segments) >= 2 and any(s.reader().has_deletions() for s, _ in segments)
    checked = 0
    for text in QUERIES:
        q = _parsed(indexed, text)
        chosen = queries.filters(options.get("form"), None, None, None, None,
                                 options.get("all_versions", False))
        every = [(round(h.score, 6), h.docnum)
                 for h in searcher.search(q, limit=None, optimize=False, **chosen)]
        top, total = top_and_total(searcher, q, 5, **chosen)
        assert total == len(every), text
        ours = [(round(h.score, 6), h.docnum) for h in top]
        assert [s for s, _ in ours] == [s for s, _ in every[:5]], text
        # The same documents, but among equal scores any of them may come first.
        cut = every[4][0] if len(every) >= 5 else None
        assert {d for s, d in ours if s != cut} == {d for s, d in every[:5] if s != cut}, text
        checked += bool(every)
    assert checked == len(QUERIES) - 2  # all but the two with a word no record has


@pytest.mark.parametrize("options", [{}, {"all_versions": True}, {"form": "complaint"}])
def test_postings_scored_by_block_give_whooshs_hits_in_whooshs_order(indexed, options,
                                                                     monkeypatch):
    """index/postings.py scores plain terms, ANDs and ORs from decoded blocks: the same hits,
    in the same order, with the same scores and totals as Whoosh stepping through them."""
    from qrecords.index import postings

    taken = []
    scored = postings.scored

    def counted(*args, **kwargs):
        found = scored(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(postings, "scored", counted)
    searcher = indexed.index.searcher()
    chosen = queries.filters(options.get("form"), None, None, None, None,
                             options.get("all_versions", False))
    for text in QUERIES + ["华东 OR 锈", "包装破损 数量短缺 华东", "(华东 OR 华南) 包装破损"]:
        q = _parsed(indexed, text)
        results = {}
        for enabled in (True, False):
            monkeypatch.setattr(postings, "ENABLED", enabled)
            top, total = top_and_total(searcher, q, 50, **chosen)
            results[enabled] = ([(h.score, h.docnum) for h in top], total)
        assert results[True] == results[False], text
    assert sum(taken) >= len(QUERIES) // 2  # the block path was taken, not only Whoosh's


def test_blocks_that_cannot_reach_the_best_hits_are_passed_over_and_the_hits_stay(
        tmp_path, monkeypatch):
    """One term in 3,000 documents of many lengths in two segments, some deleted, some
    earlier versions: the block path passes over blocks by their best possible score and
    still gives Whoosh's hits in Whoosh's order (ties broken by the order column)."""
    import random

    from whoosh import index as whoosh_index
    from whoosh.query import Term

    from qrecords.index import postings
    from qrecords.index.documents import ORDER_WIDTH
    from qrecords.index.ranking import LiveBM25F
    from qrecords.index.searchindex import whoosh_schema, writer_options

    rng = random.Random(11)
    ix = whoosh_index.create_in(str(tmp_path), whoosh_schema())
    for part in range(2):  # two segments
        writer = ix.writer(**writer_options())
        for i in range(1500):
            number = f"CC-2611-{part}{i:04d}"
            # the first documents of each segment short, the others long: the blocks of
            # long ones cannot reach the best (short) ones
            words = ["华东"] * rng.choice([1, 1, 1, 2]) + \
                ["破损"] * (rng.randint(0, 2) if i < 40 else rng.randint(20, 60))
            writer.add_document(number=number, version=1,
                                current=rng.random() > 0.1, form="complaint",
                                status="registered", date="2026-11-23", title=number,
                                content=" ".join(rng.sample(words, len(words))),
                                order=rng.randbytes(ORDER_WIDTH // 2) * 2)
        writer.commit(merge=False)
    writer = ix.writer(**writer_options())
    for i in range(0, 1500, 7):
        writer.delete_by_term("number", f"CC-2611-0{i:04d}")
    writer.commit(merge=False)
    decoded = []
    block_ids = postings._block_ids
    monkeypatch.setattr(postings, "_block_ids", lambda p: decoded.append(1) or block_ids(p))
    with ix.searcher(weighting=LiveBM25F()) as searcher:
        assert len(searcher.leaf_searchers()) >= 2
        results = {}
        for enabled in (True, False):
            monkeypatch.setattr(postings, "ENABLED", enabled)
            top, total = top_and_total(searcher, Term("content", "华东"), 20,
                                       mask=Term("current", False))
            results[enabled] = ([(h.score, h.docnum) for h in top], total)
    assert results[True] == results[False]
    assert 0 < len(decoded) < 3000 / 128 / 2  # most blocks passed over
