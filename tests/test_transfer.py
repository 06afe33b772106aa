"""Transfer to an archive 移交 (issue 18): its own action after closure, with a transfer
list 记录移交清单, a package for the archive, and tombstones and messages that say
transferred — never a record that is open or held, never before the period ends when the
policy says transfer."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import as_json, snapshot
from tests.render.docx_text import docx_rows, docx_text
from tests.test_retention import closed_complaint
from tests.test_void import refused_listing
from tests.test_workflow import refused

ARCHIVE = "集团档案室 Group archive"


def test_a_closed_record_is_transferred_before_its_period_ends(run, ws, monkeypatch):
    number = closed_complaint(run, monkeypatch)  # closed 2026-01-15: kept until 2029-01-15
    files = {f["path"]: f["sha256"]
             for f in ws.catalog.record_files(ws.catalog.record(number)["id"])}
    monkeypatch.setenv("QREC_TODAY", "2026-03-01")
    refused(run("transfer", number, "--to", ARCHIVE, "--reason", "x", user="lina"),
            "a transfer needs the role document_controller")
    done = as_json(run("transfer", number, "--to", ARCHIVE, "--reason", "合同终止，移交集团",
                       "--json", user="wangwen"))
    assert (done["action"], done["list_number"], done["to"]) == ("transfer", "TL-2026-001",
                                                                 ARCHIVE)
    [item] = done["records"]
    assert (item["number"], item["retention_until"], item["then"], item["files"]) == \
        (number, "2029-01-15", "destroy", files)

    # Gone from here; the tombstone says where it went and until when it is kept there.
    assert ws.catalog.record(number) is None
    assert not any((ws.root / "records" / path).exists() for path in files)
    tomb = as_json(run("show", number, "--json"))["disposed"]
    assert (tomb["action"], tomb["to"], tomb["list_number"], tomb["retention_until"],
            tomb["effective_date"], tomb["files"]) == \
        ("transfer", ARCHIVE, "TL-2026-001", "2029-01-15", "2026-03-01", files)
    shown = run("show", number).output
    assert f"记录已移交 Transferred to {ARCHIVE}" in shown and "files transferred" in shown
    assert "销毁" not in shown and "destroyed" not in shown
    refused(run("amend", number, "--set", "product=x", "--reason", "x"),
            f"{number} was transferred to {ARCHIVE} on 2026-03-01 by wangwen (记录移交清单 "
            "TL-2026-001: 合同终止，移交集团)")
    assert as_json(run("search", "控制板", "--json", user="zhangwei"))["hits"] == []
    [event] = [e for e in ws.catalog.events(number) if e["action"] == "record.transferred"]
    assert (event["detail"]["to"], event["detail"]["then"], event["detail"]["files"]) == \
        (ARCHIVE, "destroy", files)
    status = {r["form"]: r for r in as_json(run("retention", "status", "--json"))}["complaint"]
    assert (status["transferred"], status["destroyed"], status["disposed"]) == (1, 0, 1)
    assert "TRANSFERRED 已移交" in run("retention", "status").output

    # The list: a controlled document of its own, DOCX and PDF, kept and logged.
    text = docx_text(done["docx"])
    for expected in ("记录移交清单", "TL-2026-001", ARCHIVE, number, "2029-01-15",
                     "销毁 Destroy", "接收人 Received by", "合同终止，移交集团", *files.values()):
        assert expected in text, expected
    assert "记录销毁清单" not in text
    assert ["移交人 Transferred by", "接收人 Received by", "接收日期 Date received"] in \
        docx_rows(done["docx"])
    from pypdf import PdfReader

    pdf = " ".join(page.extract_text() for page in PdfReader(done["pdf"]).pages)
    assert "TL-2026-001" in pdf and number in pdf and "移交" in pdf
    [listed] = [e for e in ws.catalog.events() if e["action"] == "transfer.listed"]
    assert listed["detail"]["to"] == ARCHIVE and listed["detail"]["records"] == [number]
    assert listed["detail"]["signature"]["meaning"] == "批准移交 transfer authorised"

    # The package the archive gets checks with sha256sum, and holds every file.
    package = Path(done["package"])
    assert package == ws.root / "transfers" / "TL-2026-001"
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=package,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert hashlib.sha256((package / "MANIFEST.sha256").read_bytes()).hexdigest() == \
        listed["detail"]["package"]["manifest_sha256"]
    for path, digest in files.items():
        copied = package / number / Path(path).name
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == digest
    assert as_json(run("verify", "--json", user="wangwen"))["ok"] is True


def test_open_held_and_transfer_policy_records_are_refused_whole(run, ws, monkeypatch):
    held = closed_complaint(run, monkeypatch, "2026-01-10")
    free = closed_complaint(run, monkeypatch, "2026-01-11")
    run("hold", "add", held, "--reason", "诉讼", user="wangwen")
    monkeypatch.setenv("QREC_TODAY", "2026-01-12")
    still_open = as_json(run("new", "complaint", "--set", "customer=华东",
                             "--set", "market=domestic", "--set", "description=划伤",
                             "--json"))["number"]
    before = snapshot(ws.root)
    message = refused_listing(run("transfer", held, free, still_open, "--to", ARCHIVE,
                                  "--reason", "移交", user="wangwen"),
                              "未移交（2 个问题）2 problem(s) in the transfer (nothing was transferred)",
                              f"{held} is on hold (release the hold first)",
                              f"{still_open} is open (已登记 Registered): an open record is "
                              "never transferred")
    assert f"- {free}" not in message
    assert snapshot(ws.root) == before

    # A policy that says transfer keeps the record here until its period ends.
    schema = ws.root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "retention: {period: 3y, from: closure, action: destroy}",
        "retention: {period: 1y, from: closure, action: transfer}").replace(
        "revision: A/0", "revision: A/1"), encoding="utf-8")
    kept = closed_complaint(run, monkeypatch, "2026-02-02")
    monkeypatch.setenv("QREC_TODAY", "2027-02-01")
    refused_listing(run("transfer", kept, "--to", ARCHIVE, "--reason", "x", user="wangwen"),
                    f"{kept} is retained until 2027-02-02 (1 year after closure on "
                    "2026-02-02), then transferred")
    monkeypatch.setenv("QREC_TODAY", "2027-02-02")
    preview = as_json(run("transfer", "--due", "--to", ARCHIVE, "--reason", "期满移交",
                          "--dry-run", "--json", user="wangwen"))
    assert [r["number"] for r in preview["records"]] == [kept]
    assert preview["list_number"] is None and preview["package"] is None
    assert not (ws.root / "transfers").exists()
    done = as_json(run("transfer", "--due", "--to", ARCHIVE, "--reason", "期满移交",
                       "--json", user="wangwen"))
    assert done["records"] == preview["records"] and done["list_number"] == "TL-2027-001"


@pytest.mark.parametrize("to, expected", [
    ("  ", "--to: 须写明移交至何处 name the archive the records go to"),
    ("档案室\u202e", "--to: 含控制字符 contains the control character U+202E"),
    ("档案室\n二楼", "--to: 含控制字符 contains the control character U+000A"),
    ("档" * 201, "--to: 名称过长 is 201 characters long"),
])
def test_a_bad_archive_name_is_one_line_and_changes_nothing(run, ws, monkeypatch, to,
                                                              expected):
    number = closed_complaint(run, monkeypatch)
    before = snapshot(ws.root)
    refused(run("transfer", number, "--to", to, "--reason", "x", user="wangwen"), expected)
    assert snapshot(ws.root) == before


def test_transfer_needs_numbers_or_due(run):
    result = run("transfer", "--to", ARCHIVE, "--reason", "x", user="wangwen")
    assert result.exit_code == 2 and "give record NUMBERs or --due" in result.output


def test_an_altered_file_is_never_handed_over(run, ws, monkeypatch):
    number = closed_complaint(run, monkeypatch)
    pdf = ws.root / "records" / "complaint" / number / f"{number}_v2.pdf"
    pdf.chmod(0o644)
    pdf.write_bytes(pdf.read_bytes() + b"%")
    before = snapshot(ws.root)
    refused(run("transfer", number, "--to", ARCHIVE, "--reason", "移交", user="wangwen"),
            f"{number}: records/complaint/{number}/{number}_v2.pdf is altered (its SHA-256 "
            "differs); nothing was transferred")
    assert snapshot(ws.root) == before
    assert ws.catalog.record(number) is not None
