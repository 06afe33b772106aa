"""Crash safety at every fault point: the real `qrec`, killed by SIGKILL (QREC_FAULT, see
qrecords/faults.py) inside a risky window, leaves a workspace that `qrec verify` passes after
the next ordinary command, with nothing that had committed lost and no number used twice or
skipped. `qrec verify --repair` runs first only where the catalog itself says something was in
flight (a disposal's tombstone whose files are still on disk).

Every entry of faults.POINTS has at least one scenario here, and every scenario names a real
point: a new point without a scenario fails test_every_fault_point_has_a_scenario.

The setup is made in-process without PDFs (fast); the killed command and the next one run the
installed `qrec` in a subprocess, without LibreOffice (QREC_SOFFICE points nowhere) except in
the scenarios whose window is about a PDF.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from qrecords import faults
from qrecords.workspace import Workspace
from tests.conftest import TODAY, as_user, example, init_workspace, load_example
from qrecords.api import records as api_records, steps

QREC = str(Path(sys.executable).parent / "qrec")
CLOSED = "2026-01-15"   # a complaint closed then is due for disposal on 2029-01-15
DUE = "2029-01-15"
LATE = "2026-12-02"     # the example complaint (received 2026-11-16, domestic) is overdue


def qrec(root: Path, *args: str, user: str = "lina", today: str = TODAY,
         fault: str | None = None, office: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(root), QREC_USER=user, QREC_TODAY=today)
    if fault:
        env["QREC_FAULT"] = fault
    if not office:  # as on a machine without LibreOffice: the DOCX only, with a warning
        env["QREC_SOFFICE"] = "/nonexistent/soffice"
    return subprocess.run([QREC, *args], capture_output=True, text=True, env=env, timeout=300)


@contextmanager
def effective(day: str):
    old = os.environ.get("QREC_TODAY")
    os.environ["QREC_TODAY"] = day
    try:
        yield
    finally:
        os.environ["QREC_TODAY"] = old if old is not None else TODAY


# -- workspaces to crash in (made in-process, no PDFs) ---------------------------------------


def a_complaint(ws: Workspace) -> None:
    """CC-2611-01, registered."""
    api_records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"), pdf=False)


def a_review_under_way(ws: Workspace) -> None:
    """CR-2026-0001, submitted for review (v2)."""
    number = api_records.new_record(as_user(ws, "lina"), "contract_review",
                                    load_example("contract_review"), pdf=False)["number"]
    steps.transition(as_user(ws, "lina"), number, "submit", pdf=False)


def a_failed_delivery(ws: Workspace) -> None:
    """CP-2026-0001, received, its inspection failed: `reject` produces a notice."""
    api_records.new_record(as_user(ws, "lina"), "customer_property", {**load_example("customer_property"),
                                        "inspection_result": "fail"}, pdf=False)


def a_closed_complaint(ws: Workspace) -> None:
    """CC-2601-01, closed on 2026-01-15: due for disposal on 2029-01-15."""
    with effective(CLOSED):
        number = api_records.new_record(as_user(ws, "lina"), "complaint", {**load_example("complaint"),
                                             "received_date": CLOSED}, pdf=False)["number"]
        steps.transition(as_user(ws, "zhaomin"), number, "close_unfounded",
                         {"disposition": "unfounded"}, comment="非质量问题", pdf=False)


def three_records(ws: Workspace) -> None:
    for form_id in ("complaint", "contract_review", "customer_property"):
        api_records.new_record(as_user(ws, "lina"), form_id, load_example(form_id), pdf=False)


NEW = ("new", "complaint", "--data", str(example("complaint")))
AMEND = ("amend", "CC-2611-01", "--set", "product=铝合金外壳", "--reason", "客户更正品名")
REJECT = ("do", "CP-2026-0001", "reject")
DISPOSE = ("dispose", "CC-2601-01", "--reason", "保存期满")
# closed on 2026-01-15 under a destroy policy: transferred to an archive before its period ends
TRANSFER = ("transfer", "CC-2601-01", "--to", "集团档案室", "--reason", "合同终止，移交")
VOID = ("void", "CC-2611-01", "--reason", "重复登记")
NOTICE = "customer_property/CP-2026-0001/CP-2026-0001_nonconformity_notice_v2"
REMINDER = f"reminders/{LATE}/RM-{LATE.replace('-', '')}-CC-2611-01"


@dataclass(frozen=True)
class Crash:
    id: str
    point: str
    prepare: Callable[[Workspace], None]
    command: tuple            # the command killed at `point`
    committed: bool           # whether its catalog transaction had committed when killed
    then: tuple               # the next ordinary command (a retry, where one is natural)
    user: str = "lina"        # of both commands
    today: str = TODAY        # of both commands
    repair: bool = False      # the catalog says something was in flight: verify --repair
    office: bool = False      # LibreOffice for both commands (the windows about PDFs)
    versions: tuple = ()      # (number, version) there at the end
    pdfs: tuple = ()          # (number, version) with a PDF row at the end
    written: tuple = ()       # files (under records/) some event names at the end
    disposed: tuple = ()      # numbers that are tombstones at the end


CRASHES = [
    # -- after a catalog commit: the index (and the PDF) are behind ------------------------
    Crash("new", "new.after_commit", a_complaint, NEW, True, ("search", "*"),
          versions=(("CC-2611-02", 1),)),
    Crash("amend", "amend.after_commit", a_complaint, AMEND, True,
          ("show", "CC-2611-01"), versions=(("CC-2611-01", 2),)),
    Crash("transition", "transition.after_commit", a_complaint,
          ("do", "CC-2611-01", "investigate"), True, ("search", "包装破损"), user="zhaomin",
          versions=(("CC-2611-01", 2),)),
    Crash("void", "transition.after_commit", a_complaint, VOID, True, ("search", "*"),
          user="wangwen", versions=(("CC-2611-01", 2),)),
    Crash("sign", "sign.after_commit", a_review_under_way, ("sign", "CR-2026-0001", "feasible"),
          True, ("history", "CR-2026-0001"), user="chengang",
          versions=(("CR-2026-0001", 3),)),
    Crash("index-state", "index.after_whoosh_commit", a_complaint, NEW, True,
          ("search", "CC-2611-02"), versions=(("CC-2611-02", 1),)),
    # the next command is no disposal: the tombstone says files are still to be removed
    Crash("dispose-then-search", "dispose.after_commit", a_closed_complaint, DISPOSE, True,
          ("search", "*"), user="wangwen", today=DUE, repair=True, disposed=("CC-2601-01",)),
    # the next disposal finishes it itself
    Crash("dispose-then-dispose", "dispose.after_commit", a_closed_complaint, DISPOSE, True,
          ("dispose", "--due", "--reason", "保存期满"), user="wangwen", today=DUE,
          disposed=("CC-2601-01",)),
    Crash("transfer-then-search", "dispose.after_commit", a_closed_complaint, TRANSFER, True,
          ("search", "*"), user="wangwen", repair=True, disposed=("CC-2601-01",)),

    # -- before the commit: files written, the transaction rolled back; the retry reuses
    #    the number and the file names --------------------------------------------------
    Crash("docx-new", "version.after_docx", a_complaint, NEW, False, NEW,
          versions=(("CC-2611-02", 1),)),
    Crash("docx-amend", "version.after_docx", a_complaint, AMEND, False, AMEND,
          versions=(("CC-2611-01", 2),)),
    Crash("docx-produced-notice", "version.after_docx", a_failed_delivery, REJECT, False,
          REJECT, user="zhaomin", versions=(("CP-2026-0001", 2),),
          written=(f"{NOTICE}.docx",)),
    Crash("list-docx", "dispose.after_list_written", a_closed_complaint, DISPOSE, False,
          ("dispose", "CC-2601-01", "--reason", "保存期满，按程序销毁"), user="wangwen",
          today=DUE, office=True, disposed=("CC-2601-01",),
          written=("disposals/DL-2029-001.docx", "disposals/DL-2029-001.pdf")),
    # the package written before the commit is debris the retry replaces
    Crash("transfer-list-docx", "dispose.after_list_written", a_closed_complaint, TRANSFER,
          False, TRANSFER, user="wangwen", office=True, disposed=("CC-2601-01",),
          written=("disposals/TL-2026-001.docx", "disposals/TL-2026-001.pdf")),

    # -- PDFs: on disk, not yet in the catalog -----------------------------------------------
    Crash("version-pdf", "pdf.after_write", a_complaint, NEW, True, ("render", "CC-2611-02"),
          office=True, versions=(("CC-2611-02", 1),), pdfs=(("CC-2611-02", 1),)),
    Crash("notice-pdf", "letter.after_pdf", a_failed_delivery, REJECT, True,
          ("render", "CP-2026-0001", "--version", "2"), user="zhaomin", office=True,
          versions=(("CP-2026-0001", 2),), pdfs=(("CP-2026-0001", 2),),
          written=(f"{NOTICE}.docx", f"{NOTICE}.pdf")),
    Crash("list-pdf", "letter.after_pdf", a_closed_complaint, DISPOSE, True,
          ("dispose", "--due", "--reason", "保存期满"), user="wangwen", today=DUE, office=True,
          disposed=("CC-2601-01",),
          written=("disposals/DL-2029-001.docx", "disposals/DL-2029-001.pdf")),
    Crash("reminder-pdf", "letter.after_pdf", a_complaint, ("remind",), True, ("remind",),
          user="wangwen", today=LATE, office=True,
          written=(f"{REMINDER}.docx", f"{REMINDER}.pdf")),

    # -- an index rebuild killed before it switched generations ------------------------------
    Crash("rebuild", "index.rebuild_midway", three_records, ("index", "rebuild"), False,
          ("search", "*")),
]


def test_every_fault_point_has_a_scenario():
    assert {crash.point for crash in CRASHES} == set(faults.POINTS)


def catalog(root: Path) -> dict:
    """What the catalog holds, read directly: versions, PDFs, numbers, counters, events."""
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    try:
        versions = {(n, v): sha for n, v, sha in db.execute(
            "SELECT r.number, v.version, v.data_sha256 FROM versions v "
            "JOIN records r ON r.id = v.record_id")}
        pdfs = {(n, v) for n, v in db.execute(
            "SELECT r.number, f.version FROM files f JOIN records r ON r.id = f.record_id "
            "WHERE f.kind = 'pdf'")}
        tombstones = {n: json.loads(files) for n, files in
                      db.execute("SELECT number, files FROM tombstones")}
        records = [n for (n,) in db.execute("SELECT number FROM records")]
        counters = dict(db.execute("SELECT period, last_seq FROM counters"))
        events = [(i, a, json.loads(d)) for i, a, d in
                  db.execute("SELECT id, action, detail FROM events ORDER BY id")]
    finally:
        db.close()
    return {"versions": versions, "pdfs": pdfs, "tombstones": tombstones, "records": records,
            "counters": counters, "events": events}


def in_flight(root: Path, state: dict) -> list[str]:
    """What the catalog says an interrupted command left to do: files of disposed records."""
    return [path for files in state["tombstones"].values() for path in files
            if (root / "records" / path).exists()]


def assert_kept(earlier: dict, later: dict) -> None:
    """Nothing that had committed is lost: every version is there, unchanged, unless its
    record became a tombstone; every tombstone stays; the event log only grows."""
    for (number, version), digest in earlier["versions"].items():
        if number not in later["tombstones"]:
            assert later["versions"].get((number, version)) == digest, (number, version)
    assert set(earlier["tombstones"]) <= set(later["tombstones"])
    assert later["events"][:len(earlier["events"])] == earlier["events"]


def assert_numbers_unique_and_gapless(state: dict) -> None:
    """Records, tombstones and disposition lists: every number once, and per period the
    serials 1..n with the counter at n."""
    lists = [d["list"] for _, action, d in state["events"]
             if action in ("disposal.listed", "transfer.listed")]
    numbers = state["records"] + list(state["tombstones"]) + lists
    assert len(numbers) == len(set(numbers)), numbers
    serials: dict[str, list[int]] = {}
    for number in numbers:
        prefix, serial = number.rsplit("-", 1)
        serials.setdefault(prefix + "-", []).append(int(serial))
    counters = {period.split("{seq")[0]: last for period, last in state["counters"].items()}
    assert set(serials) == set(counters), (serials, counters)
    for prefix, found in serials.items():
        assert sorted(found) == list(range(1, counters[prefix] + 1)), (prefix, found)


def assert_letters_follow_what_they_document(state: dict) -> None:
    """A disposition list's PDF is logged only after its list was committed (never the PDF of
    a list whose disposal rolled back)."""
    listed = {}
    for event_id, action, detail in state["events"]:
        if action in ("disposal.listed", "transfer.listed"):
            listed[detail["list"]] = event_id
        if action == "file.pdf_made" and "list" in detail:
            assert detail["list"] in listed, f"event {event_id}: PDF of an uncommitted list"


@pytest.mark.parametrize("crash", CRASHES, ids=lambda c: f"{c.point}:{c.id}")
def test_a_kill_leaves_a_workspace_that_verifies(crash: Crash, tmp_path):
    ws = init_workspace(tmp_path / "ws")
    crash.prepare(ws)
    ws.close()
    root = ws.root
    before = catalog(root)

    killed = qrec(root, *crash.command, user=crash.user, today=crash.today, fault=crash.point,
                  office=crash.office)
    assert killed.returncode == -9, f"not killed at {crash.point}:\n{killed.stderr}"
    crashed = catalog(root)
    assert_kept(before, crashed)
    if crash.committed:
        assert len(crashed["events"]) > len(before["events"])
    else:
        assert crashed == before, "a transaction killed before its commit left rows"

    then = qrec(root, *crash.then, user=crash.user, today=crash.today, office=crash.office)
    assert then.returncode == 0, then.stderr
    assert "Traceback" not in then.stderr and "database is locked" not in then.stderr
    pending = in_flight(root, catalog(root))
    if crash.repair:
        assert pending, "the catalog should say what is left to do"
        repaired = qrec(root, "verify", "--repair", "--json", user="wangwen",
                        today=crash.today)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    else:
        assert pending == []

    verified = qrec(root, "verify", "--json", user="wangwen", today=crash.today)
    faults_found = json.loads(verified.stdout)["faults"] if verified.stdout else verified.stderr
    assert verified.returncode == 0, faults_found
    final = catalog(root)
    assert_kept(crashed, final)
    assert_numbers_unique_and_gapless(final)
    assert_letters_follow_what_they_document(final)
    for key in crash.versions:
        assert key in final["versions"], key
    for key in crash.pdfs:
        assert key in final["pdfs"], key
    named = {path for _, _, detail in final["events"] for path in detail.get("written", {})}
    for path in crash.written:
        assert path in named and (root / "records" / path).is_file(), path
    for number in crash.disposed:
        assert number in final["tombstones"] and not in_flight(root, final)
    assert not list((root / "records").rglob(".*.tmp"))
    manifests = list((root / "transfers").glob("*/MANIFEST.sha256"))  # transfers' packages
    assert bool(manifests) == (crash.command[0] == "transfer")
    for manifest in manifests:
        checked = subprocess.run(["sha256sum", "-c", "--strict", manifest.name],
                                 cwd=manifest.parent, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        listed = {line.split("  ", 1)[1] for line in manifest.read_text().splitlines()}
        present = {p.relative_to(manifest.parent).as_posix()
                   for p in manifest.parent.rglob("*") if p.is_file()}
        assert present == listed | {"MANIFEST.sha256"}, present ^ listed
