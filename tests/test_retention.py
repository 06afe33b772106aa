"""Retention: periods and their end dates, holds, and disposal with tombstones and the
disposition list, through the CLI with QREC_TODAY moving time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from qrecords.domain.retention import period_end
from tests.conftest import as_json, example, snapshot
from tests.render.docx_text import docx_text

CLOSED = "2026-01-15"


def _refused(result, *expected) -> str:
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


def closed_complaint(run, monkeypatch, on: str = CLOSED) -> str:
    """A complaint registered and closed (as unfounded) on `on`."""
    monkeypatch.setenv("QREC_TODAY", on)
    number = as_json(run("new", "complaint", "--data", example("complaint"), "--set",
                         f"received_date={on}", "--json"))["number"]
    closed = as_json(run("do", number, "close_unfounded", "--set", "disposition=unfounded",
                         "--comment", "非质量问题", "--json", user="zhaomin"))
    assert closed["closed_on"] == on
    return number


class Policy:
    def __init__(self, years=0, months=0, days=0):
        self.years, self.months, self.days = years, months, days


@pytest.mark.parametrize("start, policy, end", [
    ("2026-01-15", Policy(years=3), "2029-01-15"),
    ("2028-02-29", Policy(years=3), "2031-03-01"),   # no 29 February: the day after
    ("2028-02-29", Policy(years=4), "2032-02-29"),
    ("2026-01-31", Policy(months=1), "2026-03-01"),  # no 31 February
    ("2026-12-15", Policy(months=2), "2027-02-15"),
    ("2026-12-31", Policy(days=1), "2027-01-01"),
])
def test_a_period_ends_on_the_same_day_or_the_first_day_after(start, policy, end):
    assert period_end(dt.date.fromisoformat(start), policy).isoformat() == end


def test_retention_runs_from_closure_and_is_shown(run, monkeypatch):
    monkeypatch.setenv("QREC_TODAY", CLOSED)
    number = as_json(run("new", "complaint", "--data", example("complaint"), "--set",
                         f"received_date={CLOSED}", "--json"))["number"]
    shown = as_json(run("show", number, "--json"))
    assert (shown["closed_on"], shown["retention_until"]) == (None, None)
    assert shown["retention"] == "3y from closure"
    run("do", number, "close_unfounded", "--set", "disposition=unfounded", "--comment", "x",
        user="zhaomin")
    shown = as_json(run("show", number, "--json"))
    assert (shown["closed_on"], shown["retention_from"], shown["retention_until"]) == \
        (CLOSED, CLOSED, "2029-01-15")
    assert shown["retention"] == "3 years after closure on 2026-01-15"
    assert "until 2029-01-15 (3 years after closure on 2026-01-15)" in run("show", number).output
    hit = as_json(run("search", number, "--json", user="zhangwei"))["hits"][0]
    assert hit["retention_until"] == "2029-01-15"


def test_a_record_is_refused_the_day_before_and_disposed_of_on_the_day(run, ws, monkeypatch):
    number = closed_complaint(run, monkeypatch)
    kept = ws.catalog.record(number)
    files = {f["path"]: f["sha256"] for f in ws.catalog.record_files(kept["id"])}
    assert len(files) == 4  # two versions, DOCX and PDF each

    monkeypatch.setenv("QREC_TODAY", "2029-01-14")
    before = snapshot(ws.root)
    _refused(run("dispose", number, "--reason", "期满", user="wangwen"),
             f"{number} is retained until 2029-01-15 (3 years after closure on 2026-01-15)")
    assert as_json(run("retention", "due", "--json")) == []
    assert snapshot(ws.root) == before  # the refusal changed nothing

    monkeypatch.setenv("QREC_TODAY", "2029-01-15")
    due = as_json(run("retention", "due", "--json"))
    assert [(d["number"], d["retention_until"], d["on_hold"]) for d in due] == [
        (number, "2029-01-15", False)]
    _refused(run("dispose", number, "--reason", "期满", user="lina"),
             "disposal needs the role document_controller; lina has sales, privacy")
    done = as_json(run("dispose", number, "--reason", "保存期满", "--json", user="wangwen"))
    assert [r["number"] for r in done["records"]] == [number]
    assert done["list_number"] == "DL-2029-001"

    # Gone: rows, files and index entries. Left: the tombstone, the events, the list.
    assert ws.catalog.record(number) is None
    assert not any((ws.root / "records" / path).exists() for path in files)
    tomb = as_json(run("show", number, "--json"))["disposed"]
    assert tomb["files"] == files and tomb["authorised_by"] == "wangwen"
    assert (tomb["effective_date"], tomb["reason"], tomb["list_number"]) == \
        ("2029-01-15", "保存期满", "DL-2029-001")
    assert tomb["retention"] == "3 years after closure on 2026-01-15"
    assert tomb["action"] == "destroy"
    assert "记录已销毁 Destroyed" in run("show", number).output
    _refused(run("amend", number, "--set", "product=x", "--reason", "x"),
             f"{number} was destroyed on 2029-01-15 by wangwen (记录销毁清单 DL-2029-001: "
             "保存期满)")
    assert as_json(run("search", "控制板", "--json", user="zhangwei"))["hits"] == []
    event = [e for e in ws.catalog.events(number) if e["action"] == "record.disposed"][0]
    assert event["effective_date"] == "2029-01-15" and event["at"].startswith(
        dt.date.today().isoformat()[:4])  # the real time, not QREC_TODAY
    assert event["detail"]["files"] == files

    listed = docx_text(done["docx"])
    for expected in ("记录销毁清单", "DL-2029-001", number, "保存期满", "王文",
                     *files.values()):
        assert expected in listed, expected
    from pypdf import PdfReader

    pdf = " ".join(page.extract_text() for page in PdfReader(done["pdf"]).pages)
    assert "DL-2029-001" in pdf and number in pdf
    status = {r["form"]: r for r in as_json(run("retention", "status", "--json"))}
    assert (status["complaint"]["disposed"], status["complaint"]["destroyed"],
            status["complaint"]["transferred"], status["complaint"]["due"]) == (1, 1, 0, 0)
    db = sqlite3.connect(ws.root / "records" / "catalog.sqlite")
    for statement in ("DELETE FROM tombstones", "UPDATE tombstones SET reason = 'x'"):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            db.execute(statement)
    db.close()


def test_a_hold_blocks_disposal_and_its_release_unblocks_it(run, ws, monkeypatch):
    number = closed_complaint(run, monkeypatch)
    _refused(run("hold", "add", number, "--reason", "诉讼", user="lina"),
             "placing a hold needs the role document_controller")
    assert as_json(run("hold", "add", number, "--reason", "客户诉讼，法务要求保全", "--json",
                       user="wangwen"))[0]["hold"] is True
    _refused(run("hold", "add", number, "--reason", "again", user="wangwen"),
             f"{number} is already on hold")
    assert as_json(run("show", number, "--json"))["hold"] is True

    monkeypatch.setenv("QREC_TODAY", "2030-06-01")  # long past its date
    _refused(run("dispose", number, "--reason", "期满", user="wangwen"), f"{number} is on hold")
    swept = as_json(run("dispose", "--due", "--reason", "期满", "--json", user="wangwen"))
    assert swept["records"] == [] and swept["skipped"] == [{"number": number,
                                                            "why": "on hold"}]
    status = {r["form"]: r for r in as_json(run("retention", "status", "--json"))}
    assert (status["complaint"]["on_hold"], status["complaint"]["due"]) == (1, 0)

    run("hold", "release", number, "--reason", "诉讼结束", user="wangwen")
    assert [e["detail"]["reason"] for e in ws.catalog.events(number)
            if e["action"].startswith("hold.")] == ["客户诉讼，法务要求保全", "诉讼结束"]
    done = as_json(run("dispose", "--due", "--reason", "期满", "--json", user="wangwen"))
    assert [r["number"] for r in done["records"]] == [number]


def test_the_dry_run_lists_exactly_what_the_real_run_disposes_of(run, ws, monkeypatch):
    first = closed_complaint(run, monkeypatch, "2026-01-10")
    second = closed_complaint(run, monkeypatch, "2026-01-20")
    closed_complaint(run, monkeypatch, "2026-03-01")  # not due yet on 2029-02-01
    monkeypatch.setenv("QREC_TODAY", "2026-05-01")
    still_open = as_json(run("new", "complaint", "--data", example("complaint"), "--set",
                             "received_date=2026-04-30", "--json"))["number"]
    monkeypatch.setenv("QREC_TODAY", "2029-02-01")
    _refused(run("dispose", still_open, "--reason", "x", user="wangwen"),
             f"{still_open} is open (已登记 Registered): an open record is never destroyed")

    before = snapshot(ws.root)
    preview = as_json(run("dispose", "--due", "--dry-run", "--reason", "期满", "--json",
                          user="wangwen"))
    assert snapshot(ws.root) == before and preview["list_number"] is None
    done = as_json(run("dispose", "--due", "--reason", "期满", "--json", user="wangwen"))
    assert [r["number"] for r in preview["records"]] == [first, second]
    assert preview["records"] == done["records"]


def test_the_dry_run_prints_a_table_of_what_would_go(run, monkeypatch):
    number = closed_complaint(run, monkeypatch)
    monkeypatch.setenv("QREC_TODAY", "2029-01-15")
    lines = run("dispose", "--due", "--dry-run", "--reason", "x", user="wangwen").output \
        .splitlines()
    assert lines[0].split()[:4] == ["NUMBER", "FORM", "TITLE", "ENDED"]
    assert lines[2].startswith(number) and "2029-01-15" in lines[2]
    assert lines[-1].startswith("1 records would be destroyed (dry run: nothing changed)")


def test_a_revised_policy_applies_to_records_made_under_the_revision(run, ws, monkeypatch):
    old = closed_complaint(run, monkeypatch)
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "retention: {period: 3y, from: closure, action: destroy}",
        "retention: {period: 5y, from: field:received_date, action: transfer}").replace(
        "revision: A/0", "revision: A/1"), encoding="utf-8")
    monkeypatch.setenv("QREC_TODAY", "2026-02-01")
    new = as_json(run("new", "complaint", "--data", example("complaint"), "--set",
                      "received_date=2026-01-28", "--json"))
    assert (new["retention_from"], new["retention_until"]) == ("2026-01-28", "2031-01-28")
    assert as_json(run("show", old, "--json"))["retention_until"] == "2029-01-15"
    # amending the date the period runs from moves the end with it
    moved = as_json(run("amend", new["number"], "--set", "received_date=2026-01-29",
                        "--reason", "日期更正", "--json"))
    assert moved["retention_until"] == "2031-01-29"

    # an open record is never due, whatever its dates
    monkeypatch.setenv("QREC_TODAY", "2031-02-01")
    _refused(run("dispose", new["number"], "--reason", "x", user="wangwen"),
             "an open record is never destroyed")
    run("do", new["number"], "close_unfounded", "--set", "disposition=unfounded",
        "--comment", "x", user="zhaomin")
    # its policy says transfer: it is never destroyed, and goes to an archive instead
    _refused(run("dispose", new["number"], old, "--reason", "期满", user="wangwen"),
             f"{new['number']} is to be transferred, not destroyed (its policy: 5y from "
             "field:received_date, then transfer): qrec transfer")
    assert [(d["number"], d["action"]) for d in as_json(run("retention", "due", "--json"))] \
        == [(old, "destroy"), (new["number"], "transfer")]
    done = as_json(run("dispose", "--due", "--reason", "期满", "--json", user="wangwen"))
    assert [r["number"] for r in done["records"]] == [old]
    assert done["skipped"] == [{"number": new["number"], "why": "its policy says transfer "
                                "(qrec transfer --due --to ARCHIVE)"}]
    moved = as_json(run("transfer", "--due", "--to", "市档案馆", "--reason", "期满移交",
                        "--json", user="wangwen"))
    assert [(r["number"], r["action"], r["then"]) for r in moved["records"]] == [
        (new["number"], "transfer", "transfer")]
    copied = Path(moved["package"]) / new["number"]
    export = json.loads((copied / f"{new['number']}.json").read_text(encoding="utf-8"))
    assert [v["version"] for v in export["versions"]] == [1, 2, 3]
    for path, digest in moved["records"][0]["files"].items():
        name = Path(path).name
        assert hashlib.sha256((copied / name).read_bytes()).hexdigest() == digest


def test_versions_cannot_be_deleted_outside_a_disposal(ws, run):
    number = as_json(run("new", "complaint", "--data", example("complaint"), "--json"))["number"]
    db = sqlite3.connect(ws.root / "records" / "catalog.sqlite")
    for statement in ("DELETE FROM versions", "DELETE FROM files",
                      "UPDATE versions SET data = '{}'"):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            db.execute(statement)
    db.close()
    assert as_json(run("show", number, "--json"))["version"] == 1


def test_a_disposal_killed_after_its_commit_is_finished_by_the_next(ws, run, monkeypatch):
    number = closed_complaint(run, monkeypatch)
    files = [ws.root / "records" / f["path"]
             for f in ws.catalog.record_files(ws.catalog.record(number)["id"])]
    env = {**os.environ, "QREC_WORKSPACE": str(ws.root), "QREC_USER": "wangwen",
           "QREC_TODAY": "2029-01-15", "QREC_FAULT": "dispose.after_commit"}
    qrec = str(Path(os.sys.executable).parent / "qrec")
    killed = subprocess.run([qrec, "dispose", number, "--reason", "期满"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert all(path.exists() for path in files)  # committed, files not yet removed
    monkeypatch.setenv("QREC_TODAY", "2029-01-15")
    run("dispose", "--due", "--reason", "期满", user="wangwen")
    assert not any(path.exists() for path in files)
    assert as_json(run("show", number, "--json"))["disposed"]["number"] == number
    assert as_json(run("search", "控制板", "--json", user="zhangwei"))["hits"] == []
