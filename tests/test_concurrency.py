"""Several `qrec` processes at once in one workspace: creating, amending (one shared record
and their own), taking workflow steps, signing and searching. Nobody sees "database is
locked" or any failure; numbers are unique and gapless per period; every amendment is a
version; the index matches the catalog and `qrec verify` passes afterwards.

The default run is the fast variant (6 streams of commands, a few rounds each, no PDFs: as on a
machine without LibreOffice). QREC_HEAVY=1 runs the heavy one (more streams and rounds, every
version's PDF made by LibreOffice), for nightly runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import TODAY, as_user, example, init_workspace, load_example, open_workspace
from qrecords.api import records
from qrecords.api import search as api_search

QREC = str(Path(sys.executable).parent / "qrec")
HEAVY = os.environ.get("QREC_HEAVY") == "1"
STREAMS, ROUNDS = (8, 8) if HEAVY else (6, 3)
NAMES = "甲乙丙丁戊己庚辛壬癸"
SHARED = "CC-2611-01"


class Stream:
    """One user at a terminal: qrec commands one after another, each checked."""

    def __init__(self, root: Path, index: int):
        self.root, self.index = root, index
        self.customer = f"并发{NAMES[index]}号客户"
        self.log: list[str] = []
        self.complaints: list[str] = []
        self.reviews: list[str] = []
        self.amendments: list[str] = []  # reasons given on the shared record

    def qrec(self, user: str, *args: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
        env.update(QREC_WORKSPACE=str(self.root), QREC_TODAY=TODAY)
        if not HEAVY:
            env["QREC_SOFFICE"] = "/nonexistent/soffice"
        done = subprocess.run([QREC, "--as", user, *args, "--json"], capture_output=True,
                              text=True, env=env, timeout=600)
        shown = f"stream {self.index}: qrec {' '.join(args)} -> {done.returncode}\n{done.stderr}"
        self.log.append(shown)
        assert done.returncode == 0, shown
        assert "locked" not in done.stderr.lower() and "Traceback" not in done.stderr, shown
        return json.loads(done.stdout)

    def run(self) -> "Stream":
        for round_ in range(ROUNDS):
            if (self.index + round_) % 2 == 0:
                made = self.qrec("lina", "new", "complaint", "--data",
                                 str(example("complaint")), "--set",
                                 f"customer={self.customer}")
                self.complaints.append(made["number"])
                self.qrec("zhaomin", "do", made["number"], "investigate")
            else:
                made = self.qrec("lina", "new", "contract_review", "--data",
                                 str(example("contract_review")), "--set",
                                 f"customer={self.customer}")
                self.reviews.append(made["number"])
                self.qrec("lina", "do", made["number"], "submit")
                signed = self.qrec("chengang", "sign", made["number"], "feasible")
                assert signed["version"] == 3
            reason = f"stream {self.index} round {round_}"
            self.qrec("lina", "amend", SHARED, "--set",
                      f"defective_quantity={100 * (self.index + 1) + round_}",
                      "--reason", reason)
            self.amendments.append(reason)
            found = self.qrec("zhangwei", "search", NAMES[self.index] + "号", "--limit", "1000")
            mine = sorted(self.complaints + self.reviews)
            assert sorted(hit["number"] for hit in found["hits"]) == mine, self.log[-1]
        return self


def gapless(numbers: list[str], prefix: str) -> None:
    serials = sorted(int(n[len(prefix):]) for n in numbers if n.startswith(prefix))
    assert serials == list(range(1, len(serials) + 1)), (prefix, serials)


def test_streams_of_commands_at_once_lose_nothing(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                       pdf=False)  # SHARED
    ws.close()
    root = ws.root

    with ThreadPoolExecutor(STREAMS) as pool:
        streams = list(pool.map(lambda i: Stream(root, i).run(), range(STREAMS)))

    complaints = [SHARED] + [n for s in streams for n in s.complaints]
    reviews = [n for s in streams for n in s.reviews]
    assert len(set(complaints)) == len(complaints) and len(set(reviews)) == len(reviews)
    gapless(complaints, "CC-2611-")
    gapless(reviews, "CR-2026-")
    assert len(complaints) + len(reviews) == 1 + STREAMS * ROUNDS

    after = open_workspace(root)  # reading back in-process: quicker than a qrec per record
    try:
        history = records.history(after, SHARED)
        assert [step["version"] for step in history] == list(range(1, len(history) + 1))
        assert sorted(step["reason"] for step in history[1:]) == \
            sorted(r for s in streams for r in s.amendments)
        for number in complaints[1:]:
            shown = records.show(as_user(after, "zhangwei"), number)
            assert (shown["version"], shown["status"]) == (2, "investigating"), number
        for number in reviews:
            shown = records.show(as_user(after, "zhangwei"), number)
            assert (shown["version"], shown["status"]) == (3, "under_review"), number
        assert api_search.search(as_user(after, "zhangwei"), "*", limit=1000)["total"] == \
            len(complaints) + len(reviews)
    finally:
        after.close()
    verified = Stream(root, 0).qrec("wangwen", "verify")  # the index against the catalog too
    assert verified["ok"] and verified["counts"]["records"] == len(complaints) + len(reviews)
