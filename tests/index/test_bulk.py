"""A rebuild's own writer (index/bulk.py): in worker processes, several segments each, it
writes the index Whoosh's writer would (every term, posting, position, length and stored
field), a failing worker fails the rebuild with one line and leaves the live index alone, and
a process with other threads running builds in itself (real Whoosh indexes, real forks)."""

from __future__ import annotations

import json
import os
import threading

import pytest

from qrecords.api import search as api_search
from qrecords.errors import QrecError
from qrecords.index import bulk
from qrecords.index.searchindex import STATE
from tests.conftest import as_user
from tests.index.test_codec import _corpus, _write_index


def _contents(folder) -> dict:
    """Everything an index holds, keyed by document key (segments and docnums aside):
    {"stored": {key: stored fields}, "lengths": {(key, field): length}, "postings":
    {(field, term): {key: (weight, value bytes)}}}."""
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(folder)).searcher() as searcher:
        reader = searcher.reader()
        keys = {docnum: (fields["number"], fields["version"])
                for docnum, fields in reader.iter_docs()}
        stored = {keys[docnum]: fields for docnum, fields in reader.iter_docs()}
        lengths = {(keys[docnum], name): reader.doc_field_length(docnum, name)
                   for docnum in keys for name in ("content", "customer", "fields")}
        postings = {}
        for field, term in reader.all_terms():
            matcher = reader.postings(field, term)
            found = postings[field, term] = {}
            while matcher.is_active():
                found[keys[matcher.id()]] = (matcher.weight(), bytes(matcher.value() or b""))
                matcher.next()
        return {"stored": stored, "lengths": lengths, "postings": postings}


def test_a_rebuild_in_worker_processes_writes_what_whooshs_writer_writes(ws, monkeypatch,
                                                                           tmp_path):
    from qrecords.index.searchindex import whoosh_schema, writer_options

    _corpus(ws, 30, 10, 10)
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)
    monkeypatch.setattr(bulk, "SEGMENT_POSTINGS", 400)  # several segments a worker
    source = ws.index_source()
    reopen = source.reopen
    readers = tmp_path / "readers"
    readers.mkdir()

    def reopened():  # which processes read the catalog (a worker's memory is its own)
        (readers / str(os.getpid())).touch()
        return reopen()

    source.reopen = reopened
    monkeypatch.setattr(ws, "index_source", lambda: source)
    api_search.rebuild_index(ws)
    state = ws.index.state()
    built = ws.index.folder / f"g{state['generation']}"
    _write_index(tmp_path / "whoosh", whoosh_schema(), ws.index_source(), writer_options())

    ours, whooshs = _contents(built), _contents(tmp_path / "whoosh")
    assert ours["stored"] == whooshs["stored"] and len(ours["stored"]) == 50
    assert ours["lengths"] == whooshs["lengths"]
    assert ours["postings"] == whooshs["postings"] and len(ours["postings"]) > 1000
    pids = [int(path.name) for path in readers.iterdir()]
    assert os.getpid() not in pids and len(pids) == min(os.cpu_count(), bulk.MAX_PROCS)
    assert len(list(built.glob("MAIN_*.trm"))) > len(pids)  # segments of 400 postings
    assert not list(built.glob("*.tmp")) and len(list(built.glob("_MAIN_*.toc"))) == 1
    assert api_search.check_index(ws)["differences"] == []


def test_a_failing_worker_fails_the_rebuild_in_one_line_and_leaves_the_index(ws, monkeypatch):
    numbers = _corpus(ws, 6, 2, 2)
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)
    before = json.loads((ws.index.folder / STATE).read_text())
    source = ws.index_source()
    reopen = source.reopen

    def broken():
        mine = reopen()
        mine.documents_of = lambda chunk: (_ for _ in ()).throw(OSError("disk unplugged"))
        return mine

    source.reopen = broken
    monkeypatch.setattr(ws, "index_source", lambda: source)
    with pytest.raises(QrecError) as raised:
        api_search.rebuild_index(ws)
    assert str(raised.value) == "the index rebuild failed 索引重建失败: OSError: disk unplugged"
    assert json.loads((ws.index.folder / STATE).read_text()) == before
    assert sorted(p.name for p in ws.index.folder.iterdir()) == \
        sorted([STATE, ".lock", f"g{before['generation']}"])
    assert api_search.search(as_user(ws, "lina"), numbers[0])["total"] == 1


def test_a_process_with_other_threads_builds_in_itself(ws, monkeypatch):
    _corpus(ws, 6, 2, 2)
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 2)
    source = ws.index_source()
    reopened = []
    source.reopen = lambda: reopened.append(1)  # would fail: the build must not call it
    monkeypatch.setattr(ws, "index_source", lambda: source)
    release = threading.Event()
    other = threading.Thread(target=release.wait)  # a portal's other request threads
    other.start()
    try:
        assert api_search.rebuild_index(ws) == 10
    finally:
        release.set()
        other.join()
    assert reopened == []
    assert api_search.check_index(ws)["differences"] == []
