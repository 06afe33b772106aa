"""A form's life (issue 18): `qrec forms history` lists every frozen revision (when, by whom,
the SHA-256 of its schema and template) and retirements (why); `qrec forms retire` stops new
records, imports and controlled issues of the form, while its records stay readable,
searchable and keep their workflow and retention; a new revision puts it in use again.
Through the real `qrec` in a subprocess, and the portal's test client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from qrecords.workspace import create_workspace
from tests.conftest import EXAMPLES, snapshot
from tests.test_form_authoring import qrec
from tests.web.portal import client, log_in

COMPLAINT = EXAMPLES / "complaint.yaml"
REASON = "改用新版投诉单 QR-9.1.2-02"


@pytest.fixture
def root(tmp_path) -> Path:
    root = create_workspace(tmp_path / "ws", demo=True)
    assert qrec(root, "new", "complaint", "--data", COMPLAINT, user="lina").returncode == 0
    return root


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_revision(root: Path, label: str) -> None:
    schema = root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "revision: A/0", f"revision: {label}", 1), encoding="utf-8")


def test_history_lists_each_frozen_revision_with_who_and_hashes(root):
    schema, template = root / "schemas" / "complaint.yaml", root / "templates" / "complaint.docx"
    first = (sha256(schema.read_bytes()), sha256(template.read_bytes()))
    new_revision(root, "A/1")
    assert qrec(root, "new", "complaint", "--data", COMPLAINT, user="zhangwei").returncode == 0
    found = qrec(root, "forms", "history", "complaint", "--json")
    assert found.returncode == 0, found.stderr
    history = json.loads(found.stdout)
    assert (history["current_revision"], history["current_frozen"], history["retired"]) == \
        ("A/1", True, None)
    got = [(e["what"], e["revision"], e["by"], e["by_name"], e["on"], e["reason"],
            e["schema_sha256"], e["template_sha256"]) for e in history["events"]]
    assert got == [
        ("frozen", "A/0", "lina", "李娜", "2026-11-23", None, *first),
        ("frozen", "A/1", "zhangwei", "张伟", "2026-11-23", None,
         sha256(schema.read_bytes()), sha256(template.read_bytes()))]
    assert all(len(e["sha256"]) == 64 for e in history["events"])

    text = qrec(root, "forms", "history", "complaint").stdout.splitlines()
    assert text[0] == "complaint  客户投诉处理单 Customer Complaint Handling Form  current rev A/1"
    rows = [line for line in text if line.startswith("2026-11-23")]
    assert len(rows) == 2 and "李娜 (lina)" in rows[0] and first[0][:16] in rows[0]
    assert rows[0].index(first[1][:16]) == rows[1].index(sha256(template.read_bytes())[:16])


def test_history_of_a_form_never_used(root):
    shown = qrec(root, "forms", "history", "customer_property")
    assert shown.returncode == 0
    assert "未冻结 not frozen yet" in shown.stdout and "No revision frozen yet" in shown.stdout


def test_a_retired_form_takes_no_new_record_and_keeps_its_records(root):
    refused = qrec(root, "forms", "retire", "complaint", "--reason", REASON, user="lina")
    assert refused.returncode == 1
    assert "retiring a form needs the role document_controller" in refused.stderr

    retired = qrec(root, "forms", "retire", "complaint", "--reason", REASON, "--json")
    assert retired.returncode == 0, retired.stderr
    assert json.loads(retired.stdout)["reason"] == REASON
    listing = qrec(root, "forms").stdout.splitlines()
    assert next(ln for ln in listing if ln.startswith("complaint ")).endswith(
        "已停用 retired 2026-11-23")
    assert next(ln for ln in listing if ln.startswith("contract_review ")).endswith(
        "在用 in use")

    before = snapshot(root)
    for args, what in [(("new", "complaint", "--data", COMPLAINT), "no new record of it"),
                       (("forms", "issue", "complaint", "--to", "quality"),
                        "no controlled issue of it"),
                       (("import", "complaint", "ledger.xlsx"), "no import of it")]:
        made = qrec(root, *args)
        assert made.returncode == 1 and made.stderr.count("\n") == 1, made.stderr
        assert made.stderr == (
            "Error: 表单已停用 form complaint (QR-9.1.2-01 rev A/0) was retired on 2026-11-23 "
            f"by 王文 (wangwen): {REASON}; {what} (its records stay readable; a new revision "
            "puts the form in use again)\n")
    assert snapshot(root) == before
    again = qrec(root, "forms", "retire", "complaint", "--reason", "again")
    assert again.returncode == 1 and "was retired already on 2026-11-23" in again.stderr

    # Its record stays: shown, searched, taken through its workflow, kept for its retention.
    assert qrec(root, "show", "CC-2611-01").returncode == 0
    hits = json.loads(qrec(root, "search", "华东", "--json").stdout)["hits"]
    assert [h["number"] for h in hits] == ["CC-2611-01"]
    closed = qrec(root, "do", "CC-2611-01", "close_unfounded", "--set", "disposition=unfounded",
                  "--comment", "非质量问题", "--json", user="zhaomin")
    assert closed.returncode == 0, closed.stderr
    assert json.loads(closed.stdout)["retention_until"] == "2029-11-23"
    assert json.loads(qrec(root, "verify", "--json").stdout)["ok"] is True

    events = json.loads(qrec(root, "forms", "history", "complaint", "--json").stdout)
    assert events["retired"]["reason"] == REASON
    assert [(e["what"], e["by"], e["reason"]) for e in events["events"]] == [
        ("frozen", "lina", None), ("retired", "wangwen", REASON)]


def test_a_new_revision_puts_a_retired_form_in_use_again(root):
    assert qrec(root, "forms", "retire", "complaint", "--reason", REASON).returncode == 0
    new_revision(root, "B/0")
    made = qrec(root, "new", "complaint", "--data", COMPLAINT, "--json", user="lina")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["form_revision"] == "B/0"
    history = json.loads(qrec(root, "forms", "history", "complaint", "--json").stdout)
    assert [(e["what"], e["revision"]) for e in history["events"]] == [
        ("frozen", "A/0"), ("retired", "A/0"), ("frozen", "B/0")]
    assert history["retired"] is None


def test_the_portal_offers_no_retired_form(root):
    assert qrec(root, "forms", "retire", "complaint", "--reason", REASON).returncode == 0
    c = log_in(client(root), "lina")
    choose = c.get("/new").text
    assert "/new/contract_review" in choose and "/new/complaint" not in choose
    refused = c.get("/new/complaint")
    assert refused.status_code == 409 and "表单已停用" in refused.text


def test_controlled_copies_of_a_retired_form_are_to_be_recalled(root):
    issued = qrec(root, "forms", "issue", "complaint", "--to", "quality", "--json")
    assert issued.returncode == 0, issued.stderr
    [copy] = json.loads(issued.stdout)["copies"]
    assert qrec(root, "forms", "recall", "complaint").returncode == 0  # nothing to recall yet
    retired = qrec(root, "forms", "retire", "complaint", "--reason", REASON)
    assert retired.returncode == 0, retired.stderr
    assert "受控副本待回收 Controlled copies to recall:" in retired.stdout
    assert copy["distribution_number"] in retired.stdout
    recall = qrec(root, "forms", "recall", "complaint", "--json")
    assert recall.returncode == 1
    assert [c["distribution_number"] for c in json.loads(recall.stdout)] == \
        [copy["distribution_number"]]


def test_new_at_a_terminal_says_retired_before_asking_anything(root):
    import os

    import pexpect

    from tests.test_form_authoring import QREC

    assert qrec(root, "forms", "retire", "complaint", "--reason", REASON).returncode == 0
    child = pexpect.spawn(QREC, ["-w", str(root), "--as", "lina", "new", "complaint"],
                          env={**os.environ, "QREC_TODAY": "2026-11-23"}, encoding="utf-8",
                          timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert child.before.strip().startswith("Error: 表单已停用 form complaint")
    assert len(child.before.strip().splitlines()) == 1  # no prompt came first


def test_a_schema_set_back_to_an_older_frozen_revision_is_refused(root):
    """Review of issue 18: A/1 retired, the schema set back to A/0 (frozen before A/1) made
    records again and the copies of A/0 to recall vanished. Revisions only move forward."""
    issued = qrec(root, "forms", "issue", "complaint", "--to", "quality", "--json")
    assert issued.returncode == 0, issued.stderr
    [old_copy] = json.loads(issued.stdout)["copies"]
    new_revision(root, "A/1")
    assert qrec(root, "new", "complaint", "--data", COMPLAINT, user="lina").returncode == 0
    assert qrec(root, "forms", "retire", "complaint", "--reason", REASON).returncode == 0
    schema = root / "schemas" / "complaint.yaml"
    schema.write_text(schema.read_text(encoding="utf-8").replace(
        "revision: A/1", "revision: A/0", 1), encoding="utf-8")
    def stored() -> dict:  # the index may catch up meanwhile: not what is compared
        return {k: v for k, v in snapshot(root).items() if not k.startswith("index/")}

    before = stored()
    for args in (["new", "complaint", "--data", COMPLAINT],
                 ["forms", "issue", "complaint", "--to", "quality"]):
        refused = qrec(root, *args, user="lina" if args[0] == "new" else "wangwen")
        assert refused.returncode == 1, refused.stdout
        assert refused.stderr == (
            "Error: schemas/complaint.yaml: 修订版本只能向前 revision A/0 was frozen before "
            "A/1; revisions only move forward: give the schema a new revision label (not "
            "A/0)\n")
    assert stored() == before
    recall = qrec(root, "forms", "recall", "complaint", "--json")
    assert [c["distribution_number"] for c in json.loads(recall.stdout)] == \
        [old_copy["distribution_number"]]
