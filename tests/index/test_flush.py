"""What the index flushes to disk before its STATE.json points at it (issue 14, line 11): a
record's commit flushes the files it wrote, and no more (flushing the whole index, about 90
files, made every `qrec new` wait for the disk); a rebuild flushes its new generation whole."""

from __future__ import annotations

import os
import time

import pytest

from qrecords.api import records, search
from tests.conftest import init_workspace, load_example


@pytest.fixture
def flushed(monkeypatch):
    """The paths os.fsync is called on, while the test runs (the real fsync still runs)."""
    paths: list[str] = []
    real = os.fsync

    def fsync(fd):
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return paths


def _files(folder):
    return {str(p) for p in folder.rglob("*") if p.is_file()}


def test_a_record_flushes_its_new_segment_not_the_whole_index(tmp_path, flushed):
    ws = init_workspace(tmp_path / "ws")
    data = load_example("complaint")
    for _ in range(6):  # several segments (they are merged only at sixteen)
        records.new_record(ws, "complaint", data, pdf=False)
        ws.sync_index()
    generation = next((tmp_path / "ws" / "index").glob("g*"))
    before = _files(generation)
    time.sleep(0.05)  # past the kernel's clock tick: the next files are newer than these
    records.new_record(ws, "complaint", data, pdf=False)
    flushed.clear()
    ws.sync_index()
    new = _files(generation) - before
    index_flushes = {p for p in flushed if p.startswith(str(generation))}
    assert new and new <= index_flushes  # every file this commit wrote is on disk
    assert not index_flushes & before  # the older segments were flushed when written
    assert search.search(ws, "包装")["total"] == 7
    ws.close()


def test_a_rebuild_flushes_its_whole_generation(tmp_path, flushed):
    ws = init_workspace(tmp_path / "ws")
    for _ in range(3):
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    ws.sync_index()
    flushed.clear()
    search.rebuild_index(ws)
    generation = max((tmp_path / "ws" / "index").glob("g*"), key=lambda p: int(p.name[1:]))
    assert _files(generation) <= set(flushed)
    ws.close()
