"""Controlled blank copies at the command line (review 18b of issue 18): the return note kept
and listed, a distribution number typed in lower case, refusals in one bilingual line. The
real `qrec` in a subprocess on a real demonstration workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qrecords.workspace import create_workspace
from tests.conftest import TODAY, run_qrec as qrec, succeeded as ok



@pytest.fixture
def root(tmp_path) -> Path:
    made = create_workspace(tmp_path / "ws", demo=True)
    ok(qrec(made, "forms", "issue", "complaint", "--to", "质量部", "--copies", "2"))
    return made


def test_a_return_keeps_its_note_and_takes_a_lower_case_number(root):
    back = json.loads(ok(qrec(root, "forms", "return", "qr-9.1.2-01-a0-001", "--note",
                              "已回收销毁 shredded", "--json")))
    assert [(c["distribution_number"], c["returned_on"], c["return_note"]) for c in back] == \
        [("QR-9.1.2-01-A0-001", TODAY, "已回收销毁 shredded")]
    listed = json.loads(ok(qrec(root, "forms", "issued", "--returned", "--json")))
    assert [(c["distribution_number"], c["return_note"]) for c in listed] == [
        ("QR-9.1.2-01-A0-001", "已回收销毁 shredded"), ("QR-9.1.2-01-A0-002", None)]
    printed = ok(qrec(root, "forms", "issued", "--returned"))
    assert f"{TODAY} 已回收销毁 shredded" in printed
