"""The catalog's sensitive-values table (issue 20): written with each version, checked by
`qrec verify` against the versions, brought into older catalogs when they are opened, and
what a privacy user's search looks sensitive values up in."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from qrecords.api import records as api_records
from qrecords.api import search as api_search
from qrecords.catalog.base import SCHEMA_VERSION
from tests.conftest import as_user, load_example, open_workspace

QREC = Path(sys.executable).with_name("qrec")


def sql(root: Path, *statements: str) -> None:
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def table(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    try:
        return db.execute("SELECT r.number, s.version, s.field, s.folded FROM sensitive_values "
                          "s JOIN records r ON r.id = s.record_id ORDER BY 1, 2, 3").fetchall()
    finally:
        db.close()


def test_each_version_writes_its_folded_sensitive_values(ws):
    lina = as_user(ws, "lina")
    number = api_records.new_record(lina, "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    api_records.amend(lina, number, {"customer_phone": "139-0000 5678"}, reason="客户更正电话",
                      pdf=False)
    assert table(ws.root) == [(number, 1, "customer_contact", "王磊"),
                              (number, 1, "customer_phone", "13800001234"),
                              (number, 2, "customer_contact", "王磊"),
                              (number, 2, "customer_phone", "13900005678")]
    # Only the current version's values are found.
    assert [h["number"] for h in api_search.search(lina, "13800001234")["hits"]] == []
    assert [h["number"] for h in api_search.search(lina, "1390000")["hits"]] == [number]


def test_the_search_looks_sensitive_values_up_in_the_table(ws):
    lina = as_user(ws, "lina")
    number = api_records.new_record(lina, "complaint", load_example("complaint"),
                                    pdf=False)["number"]
    sql(ws.root, "DROP TRIGGER sensitive_values_no_update",
        "UPDATE sensitive_values SET folded = '15512345678' WHERE field = 'customer_phone'")
    assert [h["number"] for h in api_search.search(lina, "155 1234 5678")["hits"]] == [number]
    assert api_search.search(lina, "13800001234")["hits"] == []


def test_verify_names_a_tampered_missing_or_stray_row(copy):
    sql(copy, "DROP TRIGGER sensitive_values_no_update",
        "DROP TRIGGER sensitive_values_no_delete",
        "UPDATE sensitive_values SET folded = '15512345678' WHERE field = 'customer_phone' "
        "AND record_id = (SELECT id FROM records WHERE number = 'CC-2601-02')",
        "DELETE FROM sensitive_values WHERE field = 'owner_contact'",
        "INSERT INTO sensitive_values SELECT record_id, version, 'note', 'x' FROM versions "
        "WHERE record_id = (SELECT id FROM records WHERE number = 'CC-2601-02')")
    result = subprocess.run([str(QREC), "-w", str(copy), "verify", "--json"],
                            capture_output=True, text=True, env={"QREC_TODAY": "2029-01-05",
                                                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stderr
    found = [(f["kind"], f["record"], f["version"], f["problem"])
             for f in json.loads(result.stdout)["faults"]]
    assert ("sensitive", "CC-2601-02", 1, "CC-2601-02 v1: its sensitive value of "
            "'customer_phone' in the search table differs from the version's data (the table "
            "was edited)") in found
    assert ("sensitive", "CP-2026-0001", 1, "CP-2026-0001 v1: its sensitive value of "
            "'owner_contact' in the search table missing (the table was edited)") in found
    assert ("sensitive", "CC-2601-02", 1, "CC-2601-02 v1: its sensitive value of 'note' in "
            "the search table not in the version's data (the table was edited)") in found
    assert "15512345678" not in result.stdout and "13800001234" not in result.stdout
    # and the two triggers dropped to edit it (api/verify: the catalog's guards)
    assert {kind for kind, *_ in found} == {"sensitive", "catalog"}
    guards = [problem for kind, _, _, problem in found if kind == "catalog"]
    assert len(guards) == 2 and all("sensitive_values_no_" in p for p in guards), guards


def test_a_disposal_removes_the_records_sensitive_values(copy):
    # The template disposed of CC-2601-01: no value of it is left for a search to find.
    assert [row for row in table(copy) if row[0] == "CC-2601-01"] == []
    db = sqlite3.connect(copy / "records" / "catalog.sqlite")
    ids = {row[0] for row in db.execute("SELECT record_id FROM sensitive_values")}
    db.close()
    assert len(ids) == 2  # CC-2601-02 and CP-2026-0001


def test_a_catalog_of_schema_4_is_upgraded_when_opened(copy):
    before = table(copy)
    sql(copy, "DROP TABLE sensitive_values",
        "UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    for op in ("update", "delete"):
        sql(copy, f"DROP TRIGGER IF EXISTS sensitive_values_no_{op}")
    result = subprocess.run([str(QREC), "-w", str(copy), "--as", "lina", "search", "王磊",
                             "--json"], capture_output=True, text=True,
                            env={"QREC_TODAY": "2029-01-05", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert [h["number"] for h in json.loads(result.stdout)["hits"]] == ["CC-2601-02"]
    assert table(copy) == before
    ws = open_workspace(copy)
    try:
        assert ws.catalog.schema_version() == SCHEMA_VERSION
    finally:
        ws.close()
    done = subprocess.run([str(QREC), "-w", str(copy), "verify"], capture_output=True,
                          text=True, env={"QREC_TODAY": "2029-01-05", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
