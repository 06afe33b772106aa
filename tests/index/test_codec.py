"""The index's own codec (index/codec.py): rare terms' postings inline, positions packed, and
an index written before it (Whoosh's W3 defaults, FORMAT 6) rebuilt with one line (real
Whoosh indexes on disk, the real `qrec` for the rebuild)."""

from __future__ import annotations

import json
import os
import subprocess

from tests import corpus
from tests.conftest import as_user
from tests.index.test_index import QREC
from qrecords.api import records as api_records
from qrecords.api import search as api_search


def _with_whoosh_defaults(schema):
    """The schema as the code before codec.py wrote it: Whoosh's own Positions format."""
    from whoosh.formats import Positions

    for name in ("content", "customer", "fields"):
        schema[name].format = Positions(field_boost=schema[name].format.field_boost)
    return schema


def _write_index(folder, schema, source, options) -> int:
    """Every document of `source` into a new Whoosh index in `folder`; returns its bytes."""
    from whoosh import index as whoosh_index

    folder.mkdir(parents=True)
    ix = whoosh_index.create_in(str(folder), schema)
    writer = ix.writer(**options)
    for docs in source.documents_of(source.all_numbers()).values():
        for doc in docs:
            writer.add_document(**doc)
    writer.commit()
    return sum(path.stat().st_size for path in folder.iterdir())


def _corpus(ws, *sizes) -> list[str]:
    return [api_records.new_record(as_user(ws, "lina"), form_id, data, pdf=False)["number"]
            for form_id, data in corpus.generate(*sizes, seed=5)]


def test_an_index_written_by_the_previous_format_is_rebuilt_with_one_line(ws):
    from qrecords.index.searchindex import FORMAT, STATE, whoosh_schema

    number = _corpus(ws, 1, 0, 0)[0]
    source, folder = ws.index_source(), ws.index.folder
    for path in folder.glob("g*"):
        os.rename(path, folder / f"old-{path.name}")
    _write_index(folder / "g9", _with_whoosh_defaults(whoosh_schema()), source,
                 {"compound": False})
    (folder / STATE).write_text(json.dumps({"format": 6, "generation": 9,
                                            "applied": source.latest_change()}))
    env = {**os.environ, "QREC_WORKSPACE": str(ws.root), "QREC_USER": "lina"}
    result = subprocess.run([*QREC, "search", number, "--json"], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert [hit["number"] for hit in json.loads(result.stdout)["hits"]] == [number]
    assert result.stderr.splitlines() == [
        "Warning: the search index was missing (or of an older format): rebuilt it from the "
        "catalog (1 records)"]
    state = json.loads((folder / STATE).read_text())
    assert state["format"] == FORMAT and state["generation"] == 10


def test_a_term_of_few_records_has_its_postings_inline_and_is_found(ws):
    from whoosh.query import Term

    numbers = _corpus(ws, 12, 4, 4)
    api_search.rebuild_index(ws)
    lina = as_user(ws, "lina")
    with ws.index.open().searcher() as searcher:
        reader = searcher.reader()
        rare = [(term, reader.doc_frequency("number", term))
                for term in reader.lexicon("number")]
        assert len(rare) == len(numbers) and all(df == 1 for _, df in rare)
        for term, _ in rare:
            assert reader.term_info("number", term).is_inlined()
        assert [searcher.stored_fields(d)["number"]
                for d in searcher.search(Term("number", numbers[3])).docs()] == [numbers[3]]
    for number in numbers:  # its number is in `content` too, a term of one record
        assert [hit["number"] for hit in api_search.search(lina, number)["hits"]] == [number]


def test_the_index_is_smaller_than_with_whooshs_defaults(ws, tmp_path):
    from qrecords.index.searchindex import whoosh_schema, writer_options

    _corpus(ws, 60, 20, 20)
    source = ws.index_source()
    before = _write_index(tmp_path / "defaults", _with_whoosh_defaults(whoosh_schema()),
                          source, {"compound": False})
    now = _write_index(tmp_path / "ours", whoosh_schema(), source, writer_options())
    assert now < 0.8 * before, (now, before)


def test_positions_past_65535_are_kept_for_phrases(tmp_path):
    from whoosh import index as whoosh_index
    from whoosh.query import Phrase

    from qrecords.index.searchindex import whoosh_schema, writer_options

    ix = whoosh_index.create_in(str(tmp_path), whoosh_schema())
    writer = ix.writer(**writer_options())
    far = " ".join(["filler"] * 70000)
    for n, content in enumerate([f"{far} alpha beta", f"alpha {far} beta", "beta alpha"]):
        writer.add_document(number=f"D-{n}", version=1, current=True,
                            form="complaint", status="draft", date="2026-11-23", title="",
                            content=content, order=bytes(48))
    writer.commit()
    with ix.searcher() as searcher:
        found = searcher.search(Phrase("content", ["alpha", "beta"]), limit=None)
        assert [hit["number"] for hit in found] == ["D-0"]
        assert searcher.search(Phrase("content", ["beta", "alpha"]), limit=None)[0]["number"] \
            == "D-2"


def test_term_positions_are_what_the_tokenizers_yield_when_indexing(ws):
    from qrecords.index.analysis import FieldsTokenizer, analyzer
    from qrecords.index.packing import pack_content, pack_fields
    from qrecords.index.documents import field_texts

    checked = 0
    for form_id, data in corpus.generate(30, 10, 10, seed=3, wide=True):
        texts = field_texts(ws.forms.current(form_id), data)
        for tokenizer, value in ((analyzer(), pack_content(texts.values())),
                                 (analyzer(compound=False), next(iter(texts.values()))),
                                 (FieldsTokenizer(), pack_fields(texts))):
            expected = [(t.text, t.pos) for t in tokenizer(value, positions=True, mode="index")]
            assert list(tokenizer.term_positions(value)) == expected
            checked += len(expected)
    assert checked > 5000


def test_segments_with_inline_postings_are_merged(tmp_path):
    """At MERGE_AT segments Whoosh merges the small ones, reading their postings back through
    the codec: inline postings of a field without values must read as bytes."""
    from qrecords.api import records, search
    from qrecords.index.searchindex import MERGE_AT
    from tests.conftest import init_workspace, load_example

    ws = init_workspace(tmp_path / "ws")
    for _ in range(MERGE_AT + 1):  # a segment a record: the last commit merges
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
        ws.sync_index()
    # merged in place: not found unreadable and rebuilt (a new generation, a notice)
    assert [p.name for p in (tmp_path / "ws" / "index").glob("g*")] == ["g1"]
    assert not [n for n in ws.notices if "index" in n]
    generation = tmp_path / "ws" / "index" / "g1"
    assert len({p.name.split(".")[0] for p in generation.glob("MAIN_*.trm")}) < MERGE_AT
    assert search.search(ws, "包装")["total"] == MERGE_AT + 1
    report = search.check_index(ws)
    assert report["differences"] == report["damaged"] == [] and not report["pending"]
    ws.close()


def test_the_term_tables_are_four_fifths_full_and_every_term_is_found(ws):
    """...and a term in one document takes 8 bytes and its value (W3: 23 and a pickle)."""
    from whoosh.query import Term

    _corpus(ws, 30, 10, 10)
    api_search.rebuild_index(ws)
    with ws.index.open().searcher() as searcher:
        reader = searcher.reader()
        table = reader._terms._tindex  # the segment's term file (Whoosh's OrderedHashReader)
        terms = list(reader.all_terms())
        slots = sum(count for _, count in table.tables)
        assert len(terms) < slots <= len(terms) * 5 // 4 + 256  # W3 writes 2 slots a term
        for field, term in terms:  # every one found through the hash tables
            assert reader.term_info(field, term).doc_frequency() >= 1
            assert (field, term) in reader
        numbers = [(key, value) for key, value in table.items()
                   if key[:2] == table.extras["fieldmap"]["number"].to_bytes(2, "big")]
        assert len(numbers) == 50 and {len(value) for _, value in numbers} == {8}
        for absent in ("不存在的词", "zzzz", "cc-9999-000000"):
            assert ("content", absent) not in reader
            assert searcher.search(Term("content", absent)).is_empty()
