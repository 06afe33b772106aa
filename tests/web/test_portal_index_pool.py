"""The portal's search indexes kept open between requests (index/pool.py): a searcher is
reused while nothing changed, and a record changed by another unit of work between two
requests — as the CLI changes it — is found by the next search."""

from __future__ import annotations

import threading
import time

import pytest

from qrecords.api import records
from qrecords.index.pool import IndexPool
from qrecords.workspace import Workspace
from tests.conftest import as_user, init_workspace, load_example
from tests.web.portal import client, log_in, post

WORD = "蜂鸣器"  # in no example: only the record made between the requests has it


@pytest.fixture
def portal(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)
    ws.close()
    c = log_in(client(tmp_path / "ws"), "zhangwei")
    return tmp_path / "ws", c


def _search(c, text: str) -> str:
    response = post(c, "/search", {"q": text}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def _idle(c) -> list:
    return [index for indexes in c.application.extensions["qrec_indexes"]._idle.values()
            for index in indexes]


def _new_complaint(root, description: str, sync: bool = True) -> str:
    """A complaint made by another unit of work (as `qrec new` makes it). Without `sync`,
    its process ends before it brings the index up to date (killed after the commit)."""
    ws = Workspace.open(root, "lina")
    made = records.new_record(ws, "complaint", {**load_example("complaint"),
                                                "description": description}, pdf=False)
    if sync:
        ws.close()
    else:
        ws.index.close()
        ws.catalog.close()
    return made["number"]


def test_a_searcher_is_kept_between_requests_while_nothing_changes(portal):
    _, c = portal
    assert "共 1 条" in _search(c, "华东")
    [index] = _idle(c)
    kept = index._searcher
    assert kept is not None  # given back open, not closed
    assert "共 1 条" in _search(c, "包装破损")
    assert _idle(c) == [index] and index._searcher is kept


@pytest.mark.parametrize("synced", [True, False], ids=["index-synced", "catalog-only"])
def test_a_record_made_by_another_unit_of_work_is_found_by_the_next_search(portal, synced):
    root, c = portal
    assert "共 0 条" in _search(c, WORD)
    [index] = _idle(c)
    kept = index._searcher
    number = _new_complaint(root, f"{WORD}外壳开裂", sync=synced)
    found = _search(c, WORD)
    assert number in found and "共 1 条" in found
    assert index._searcher is not kept  # reopened on the index as it now is
    assert "共 2 条" in _search(c, "华东")


def test_an_amended_record_is_found_by_its_new_words_and_not_its_old(portal):
    root, c = portal
    number = _new_complaint(root, "外壳开裂")
    assert number in _search(c, "外壳开裂")
    ws = Workspace.open(root, "lina")
    records.amend(ws, number, {"description": f"{WORD}失灵"}, reason="更正", pdf=False)
    ws.close()
    assert number in _search(c, WORD)
    assert number not in _search(c, "外壳开裂")


def test_an_index_is_lent_to_one_unit_of_work_at_a_time(tmp_path):
    pool = IndexPool(keep=2)
    folder = tmp_path / "index"
    in_use: set[int] = set()
    clashes: list[int] = []
    lock = threading.Lock()

    def borrower():
        for _ in range(200):
            index = pool.lend(folder)
            with lock:
                if id(index) in in_use:
                    clashes.append(id(index))
                in_use.add(id(index))
            time.sleep(0)
            with lock:
                in_use.discard(id(index))
            pool.give_back(index)

    threads = [threading.Thread(target=borrower) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clashes == []
    assert len(pool._idle[folder]) <= 2  # the rest were closed, not kept


def test_closing_a_workspace_twice_gives_its_index_back_once(portal):
    root, _ = portal
    pool = IndexPool()
    ws = Workspace.open(root, "lina", pool)
    ws.close()
    ws.close()
    assert len(pool._idle[ws.index.folder]) == 1
    first, second = pool.lend(ws.index.folder), pool.lend(ws.index.folder)
    assert first is ws.index and second is not first
