"""`qrec audit-pack`: the pack checks with sha256sum alone, holds what the period asks for,
and says when the workspace itself did not verify."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

from click.testing import CliRunner

from qrecords.cli import cli


def pack(root: Path, out: Path, *more: str, user: str = "wangwen", today="2029-01-05"):
    return CliRunner().invoke(cli, ["-w", str(root), "--as", user, "audit-pack", str(out),
                                    "--json", *more], env={"QREC_TODAY": today})


def unpack(out: Path, folder: Path) -> Path:
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    return folder


def sha256sum_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=folder,
                          capture_output=True, text=True)


def test_the_pack_checks_with_sha256sum_and_holds_the_period(copy, tmp_path):
    result = pack(copy, tmp_path / "pack.zip")
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["verify_ok"] is True and made["records"] == 2
    folder = unpack(tmp_path / "pack.zip", tmp_path / "pack")
    checked = sha256sum_check(folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert len(lines) == made["files"] - 2 and all(line.endswith(": OK") for line in lines)

    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for expected in ("README.txt", "verify.json", "registers/complaint.xlsx",
                     "registers/complaint.csv", "registers/customer_property.xlsx",
                     "records/complaint/CC-2601-02/CC-2601-02_v1.pdf",
                     "records/complaint/CC-2601-02/CC-2601-02_v1.docx",
                     "records/customer_property/CP-2026-0001/CP-2026-0001_v2.pdf",
                     "records/customer_property/CP-2026-0001/"
                     "CP-2026-0001_nonconformity_notice_v2.pdf",
                     "records/reminders/2026-01-20/RM-20260120-CC-2601-02.pdf",
                     "records/disposals/DL-2029-001.pdf", "audit/events.csv",
                     "disposals/tombstones.json"):
        assert expected in names, expected
    assert "records/customer_property/CP-2026-0001/CP-2026-0001_v1.pdf" not in names
    assert "sha256sum -c MANIFEST.sha256" in (folder / "README.txt").read_text()

    from openpyxl import load_workbook

    sheet = load_workbook(folder / "registers/complaint.xlsx").worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["CC-2601-02"]
    cells = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row]
    assert "王磊" in cells  # wangwen has the privacy role: contacts shown, and logged
    from tests.conftest import open_workspace

    ws = open_workspace(copy)
    event = [e for e in ws.catalog.events() if e["action"] == "audit_pack.made"][-1]
    ws.close()
    assert event["detail"]["sensitive_records"] == ["CC-2601-02", "CP-2026-0001"]
    assert event["detail"]["manifest_sha256"] == \
        hashlib.sha256((folder / "MANIFEST.sha256").read_bytes()).hexdigest()
    tombstones = json.loads((folder / "disposals/tombstones.json").read_text())
    assert [t["number"] for t in tombstones] == ["CC-2601-01"]
    events = [json.loads(line) for line in
              (folder / "audit/events.jsonl").read_text().splitlines()]
    assert {e["record_number"] for e in events} == {"CC-2601-01", "CC-2601-02",
                                                    "CP-2026-0001", None}
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in events)


def test_a_changed_file_in_the_pack_fails_the_check(copy, tmp_path):
    assert pack(copy, tmp_path / "pack.zip").exit_code == 0
    folder = unpack(tmp_path / "pack.zip", tmp_path / "pack")
    pdf = folder / "records/complaint/CC-2601-02/CC-2601-02_v1.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"%")
    checked = sha256sum_check(folder)
    assert checked.returncode == 1
    assert "records/complaint/CC-2601-02/CC-2601-02_v1.pdf: FAILED" in checked.stdout


def test_form_and_period_choose_the_records(copy, tmp_path):
    made = json.loads(pack(copy, tmp_path / "a.zip", "--form", "customer_property").stdout)
    assert made["records"] == 1
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        names = archive.namelist()
    assert not any(n.startswith("records/complaint/") for n in names)
    assert json.loads(archive_text(tmp_path / "a.zip", "disposals/tombstones.json")) == []
    empty = json.loads(pack(copy, tmp_path / "b.zip", "--from", "2026-02-01").stdout)
    assert empty["records"] == 0
    everything = json.loads(pack(copy, tmp_path / "c.zip", "--all-versions").stdout)
    with zipfile.ZipFile(tmp_path / "c.zip") as archive:
        assert "records/customer_property/CP-2026-0001/CP-2026-0001_v1.pdf" in \
            archive.namelist()
    assert everything["files"] > made["files"]


def archive_text(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode()


def test_a_pack_of_a_workspace_that_fails_verify_says_so(copy, tmp_path):
    pdf = copy / "records/complaint/CC-2601-02/CC-2601-02_v1.pdf"
    pdf.chmod(0o644)
    pdf.write_bytes(pdf.read_bytes() + b"%")
    result = pack(copy, tmp_path / "pack.zip")
    assert result.exit_code == 1
    verified = json.loads(archive_text(tmp_path / "pack.zip", "verify.json"))
    assert verified["ok"] is False
    assert [f["file"] for f in verified["faults"]] == ["complaint/CC-2601-02/CC-2601-02_v1.pdf"]
    assert "FAILED, 1 faults" in archive_text(tmp_path / "pack.zip", "README.txt")


def test_refusals_leave_no_file(copy, tmp_path):
    for args, user, expected in [
            ((tmp_path / "pack.zip",), "lina", "an audit pack needs the role document_controller"),
            ((tmp_path / "pack.tar",), "wangwen", "the file name must end in .zip"),
            ((tmp_path / "missing" / "pack.zip",), "wangwen", "does not exist"),
            ((copy / "records" / "pack.zip",), "wangwen", "may not be written inside records/"),
            ((tmp_path / "pack.zip", "--from", "2026-13-01"), "wangwen", "--from"),
            ((tmp_path / "pack.zip", "--form", "nope"), "wangwen", "no form 'nope'")]:
        result = CliRunner().invoke(cli, ["-w", str(copy), "--as", user, "audit-pack",
                                          *map(str, args)])
        assert result.exit_code == 1 and expected in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".*.tmp"))
    assert not (copy / "records" / "pack.zip").exists()


def test_a_transfer_of_the_period_is_in_the_pack_as_a_transfer(copy, tmp_path):
    """Its tombstone (action transfer), its list 记录移交清单 and its events."""
    closed = CliRunner().invoke(cli, ["-w", str(copy), "--as", "zhaomin", "do", "CC-2601-02",
                                      "close_unfounded", "--set", "disposition=unfounded",
                                      "--comment", "非质量问题"], env={"QREC_TODAY": "2029-01-04"})
    assert closed.exit_code == 0, closed.output
    moved = CliRunner().invoke(cli, ["-w", str(copy), "--as", "wangwen", "transfer",
                                     "CC-2601-02", "--to", "集团档案室", "--reason", "移交"],
                               env={"QREC_TODAY": "2029-01-04"})
    assert moved.exit_code == 0, moved.output
    result = pack(copy, tmp_path / "pack.zip", "--from", "2029-01-01")
    assert result.exit_code == 0, result.output
    folder = unpack(tmp_path / "pack.zip", tmp_path / "pack")
    assert sha256sum_check(folder).returncode == 0
    tombstones = {t["number"]: t for t in json.loads(
        (folder / "disposals/tombstones.json").read_text(encoding="utf-8"))}
    assert (tombstones["CC-2601-02"]["action"], tombstones["CC-2601-01"]["action"]) == \
        ("transfer", "destroy")
    assert (folder / "records/disposals/TL-2029-001.docx").is_file()
    assert (folder / "records/disposals/TL-2029-001.pdf").is_file()
    actions = [json.loads(line)["action"] for line in
               (folder / "audit/events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "record.transferred" in actions and "transfer.listed" in actions
