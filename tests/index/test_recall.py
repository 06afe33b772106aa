"""Recall and precision of search over a generated corpus of 210 bilingual records, measured
against an oracle that knows nothing of the index (tests/corpus.py)."""

from __future__ import annotations

import pytest

from tests.conftest import TODAY, as_user, init_workspace
from tests import corpus
from qrecords.api import records as api_records
from qrecords.api import search as api_search


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """(workspace, {number: (form, data)}) with the corpus stored and indexed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QREC_TODAY", TODAY)
        ws = init_workspace(tmp_path_factory.mktemp("corpus") / "ws")
        records = {}
        for form_id, data in corpus.generate():
            made = api_records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)
            records[made["number"]] = (ws.forms.current(form_id), data)
        yield ws, records
        ws.close()


def found(ws, text, **options) -> set[str]:
    return {hit["number"] for hit in api_search.search(as_user(ws, "zhangwei"), text, limit=1000,
                                                       **options)["hits"]}


def test_recall_and_precision_over_the_corpus(indexed):
    ws, records = indexed
    assert len(records) >= 200
    values = {number: corpus.searchable(form, data) for number, (form, data) in
              records.items()}
    queries = corpus.queries(sorted(records))
    assert len(queries) >= 60
    relevant = retrieved = correct = 0
    misses = []
    for text, matcher in queries:
        expected = {n for n in records if matcher(n, values[n])}
        assert expected, f"query {text!r} has no expected hit: the corpus does not test it"
        got = found(ws, text)
        relevant, retrieved, correct = (relevant + len(expected), retrieved + len(got),
                                        correct + len(got & expected))
        if got != expected:
            misses.append(f"{text!r}: missed {sorted(expected - got)[:3]}, "
                          f"extra {sorted(got - expected)[:3]}")
    recall, precision = correct / relevant, correct / retrieved
    print(f"\n{len(queries)} queries, {relevant} expected hits: recall {recall:.4f}, "
          f"precision {precision:.4f}")
    assert not misses, "\n".join(misses)
    assert recall == precision == 1.0


def test_filters_and_date_ranges(indexed):
    ws, records = indexed
    complaints = {n for n, (form, _) in records.items() if form.id == "complaint"}
    assert found(ws, "*", form="complaint") == complaints
    huadong = {n for n, (form, data) in records.items() if data["customer"].startswith("华东")}
    assert found(ws, "*", customer="华东") == huadong
    spring = {n for n, (form, data) in records.items()
              if "2026-03-01" <= data.get("received_date", TODAY) <= "2026-05-31"}
    assert found(ws, "*", date_from="2026-03-01", date_to="2026-05-31") == spring
    assert found(ws, "date:[2026-03-01 TO 2026-05-31]") == spring
    assert found(ws, "包装破损", form="complaint", customer="华东") == {
        n for n in complaints & huadong if "包装破损" in records[n][1]["description"]}
    assert found(ws, "*", status="registered") == complaints  # a new complaint's state
    assert found(ws, "*", status="closed") == set()


def test_query_language(indexed):
    ws, records = indexed
    damaged = found(ws, "包装破损")
    short = found(ws, "数量短缺")
    assert found(ws, "包装破损 OR 数量短缺") == damaged | short
    assert found(ws, "form:complaint AND NOT 包装破损") == {
        n for n, (form, _) in records.items() if form.id == "complaint"} - damaged
    part = {n for n, (_, data) in records.items() if data.get("part_no") == "SS-FL-200"}
    assert found(ws, "part_no:SS-FL-200") == part
    assert found(ws, 'part_no:"SS-FL-200" form:complaint') == part
    assert found(ws, "quantity:500") == {n for n, (form, data) in records.items()
                                         if form.id == "complaint" and data["quantity"] == 500}


def test_snippets_mark_the_match_and_results_are_best_first(indexed):
    ws, _ = indexed
    result = api_search.search(as_user(ws, "zhangwei"), "焊点虚焊")
    assert result["hits"], "the corpus has this defect"
    for hit in result["hits"]:
        assert "【焊点虚焊】" in hit["snippet"] and hit["snippet"].startswith("异常描述:")
    both = found(ws, "华东 包装破损")
    hits = api_search.search(as_user(ws, "zhangwei"), "华东 OR 包装破损", limit=1000)["hits"]
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True) and len(hits) > len(both) >= 1
    assert {hit["number"] for hit in hits[:len(both)]} == both  # matching both ranks first


def test_snippets_are_the_same_when_chinese_words_are_found_without_analysis(indexed,
                                                                             monkeypatch):
    """snippets.py skips analysing a field whose normalised text holds none of the Chinese
    terms looked for (nor every Chinese character of a term that mixes them with a code:
    "6型"), and finds Chinese terms with str.find; every corpus query gets the same snippets
    as with every field analysed, and both shortcuts are taken."""
    from qrecords.index import snippets

    ws, records = indexed
    texts = [text for text, _ in corpus.queries(sorted(records))]
    texts += ["華東", "包装", "包装破损 OR 锈", "运输*", "PCB-4451-A 包装破损", "6型", "2型 OR 3件",
              "齿轮 1型"]
    checked = snippets._may_hold
    passed = []

    def counted(text, looked_for):
        held = checked(text, looked_for)
        passed.append(not held)
        return held

    find = snippets._found_spans
    found = []

    def finding(text, looked_for):
        spans = find(text, looked_for)
        found.append(spans is not None)
        return spans

    shown = {}
    for shortcut in (True, False):
        monkeypatch.setattr(snippets, "_may_hold", counted if shortcut else
                            lambda text, looked_for: True)
        monkeypatch.setattr(snippets, "_found_spans", finding if shortcut else
                            lambda text, looked_for: None)
        shown[shortcut] = [[(h["number"], h["snippet"]) for h in
                            api_search.search(as_user(ws, "zhangwei"), text, limit=50)["hits"]]
                           for text in texts]
    assert shown[True] == shown[False]
    assert sum(passed) > len(texts)  # fields were passed over, not only analysed
    assert sum(found) > len(texts)  # and words found without analysis


@pytest.mark.parametrize("text", ["哈哈哈哈哈", "包装破损，包装破损包装", "華東電力 华东", "a包装b装破",
                                  "包装\n破损 包装破损破损"])
def test_chinese_words_found_with_find_are_where_analysis_finds_them(text):
    from qrecords.index import snippets
    from qrecords.index.analysis import COMPOUND

    for looked_for in ([("哈哈", False)], [(COMPOUND + "哈哈哈哈", False)], [("包装", False)],
                       [("装破", False), (COMPOUND + "包装破损", False)], [("华东", False)],
                       [("破损", False), ("损包", False)], [(COMPOUND + "包装", False)]):
        assert snippets._found_spans(text, looked_for) == snippets._spans(text, looked_for)
