"""Personal data stays masked in every path for users without the privacy role (issue 14,
lines 6-7): no unkeyed hash of it in show, the PDF or the index, no value in a follow-up's
echo, and no answer of amend that tells a right guess from a wrong one."""

from __future__ import annotations

import hashlib
import json

import pytest
from pypdf import PdfReader

from qrecords.api import records
from qrecords.catalog.base import canonical_json
from qrecords.domain.fields import MASK
from qrecords.errors import Conflict
from tests.conftest import as_user, load_example


@pytest.fixture
def complaint(ws):
    made = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"),
                              pdf=False)
    return made["number"]


def test_show_withholds_the_data_hash_from_a_user_without_the_privacy_role(ws, complaint):
    seen = records.show(as_user(ws, "zhangwei"), complaint)
    assert seen["data"]["customer_contact"] == MASK
    assert seen["data_sha256"] is None
    full = records.show(as_user(ws, "lina"), complaint)
    data = full["data"]
    assert full["data_sha256"] == hashlib.sha256(canonical_json(data).encode()).hexdigest()


def test_a_diff_names_a_masked_value_that_changed_without_showing_it(ws, complaint):
    records.amend(as_user(ws, "lina"), complaint, {"customer_phone": "021-5555 0101"},
                  "new number")
    seen = records.diff(as_user(ws, "zhangwei"), complaint)["changes"]
    assert [(c["field"], c["from"], c["to"]) for c in seen] == \
        [("customer_phone", MASK, MASK)]
    full = records.diff(as_user(ws, "lina"), complaint)["changes"]
    assert [(c["field"], c["to"]) for c in full] == [("customer_phone", "021-5555 0101")]


def test_a_dictionary_cannot_recover_a_masked_contact_from_the_index(ws, complaint):
    ws.sync_index()
    stored = [hit for hit in ws.index.documents() if hit["number"] == complaint] \
        if hasattr(ws.index, "documents") else None
    data = ws.catalog.version(ws.catalog.record(complaint)["id"], 1)["data"]
    secret = hashlib.sha256(canonical_json(data).encode()).hexdigest()
    index_files = b"".join(p.read_bytes() for p in ws.settings.index.rglob("*") if p.is_file())
    assert secret.encode() not in index_files, stored


def test_the_pdf_carries_no_hash_of_personal_data(ws, complaint):
    from qrecords.api.pdfs import render

    render(as_user(ws, "lina"), complaint)
    path = ws.root / "records" / "complaint" / complaint / f"{complaint}_v1.pdf"
    assert "/DataSHA256" not in PdfReader(str(path)).metadata


def test_a_follow_up_shows_copied_personal_data_masked(ws, complaint, run):
    for user, action, *sets in [
            ("zhaomin", "investigate"),
            ("zhaomin", "assign", "cause_analysis=包装不足", "responsible_department=quality"),
            ("lina", "propose", "countermeasure=改包装", "disposition=credit",
             "disposition_amount=3000"),
            ("huangjun", "decide"), ("zhaomin", "close", "customer_accepted=no")]:
        done = run("do", complaint, action, *[f"--set={s}" for s in sets], user=user)
        assert done.exit_code == 0, done.output
    result = run("new", "complaint", "--follows", complaint, "--set", "description=要求退货",
                 "--json", user="zhangwei")
    assert result.exit_code == 0, result.output
    follow = json.loads(result.stdout)
    assert follow["data"]["customer_contact"] == MASK
    assert follow["data_sha256"] is None
    assert "王磊" not in result.output


def test_amend_answers_a_right_and_a_wrong_guess_alike(ws, complaint):
    user = as_user(ws, "zhangwei")
    right = records.amend(user, complaint, {"customer_contact": "王磊"}, reason="核对")
    wrong = records.amend(user, complaint, {"customer_contact": "张三"}, reason="核对")
    assert (right["version"], wrong["version"]) == (2, 3)
    story = records.history(user, complaint)
    assert [s["changed"] for s in story[1:]] == [["customer_contact"], ["customer_contact"]]
    with pytest.raises(Conflict, match="nothing changed"):  # not a sensitive field: as before
        records.amend(user, complaint, {"product": records.show(user, complaint)["data"]
                                        ["product"]}, reason="核对")
