"""Identity under attack (issue 15), the second round: what a clerk with write access to an
embedded workspace tried after the first round was built, each refused or named by verify."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from qrecords.api import records, sessions, steps, users, verify
from qrecords.errors import Conflict, NotAuthenticated, QrecError, WorkspaceError
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import load_example

PASSWORD = "correct horse 9"


@pytest.fixture
def normal(tmp_path, monkeypatch) -> Path:
    """A normal workspace (no QREC_TODAY) with passwords for lina and huangjun."""
    monkeypatch.delenv("QREC_TODAY", raising=False)
    root = create_workspace(tmp_path / "ws")
    with opened(root, "wangwen") as ws:
        for user in ("lina", "huangjun"):
            users.set_password(ws, user, PASSWORD, "new starter")
    return root


class opened:
    def __init__(self, root: Path, user: str):
        self.ws = Workspace.open(root, user)

    def __enter__(self) -> Workspace:
        return self.ws

    def __exit__(self, *exc) -> None:
        self.ws.close()


def sql(root: Path, statement: str) -> None:
    """What a clerk sharing the embedded workspace can do: write the catalog directly."""
    db = sqlite3.connect(root / "records" / "catalog.sqlite")
    db.execute(statement)
    db.commit()
    db.close()


def faults(root: Path) -> list[str]:
    with opened(root, "wangwen") as ws:
        return [f["problem"] for f in verify.verify(ws)["faults"]]


def a_proposed_complaint(root: Path, amount: str = "80000") -> str:
    with opened(root, "lina") as ws, opened(root, "zhaomin") as quality:
        number = records.new_record(ws, "complaint", load_example("complaint"),
                                    pdf=False)["number"]
        steps.transition(quality, number, "investigate", pdf=False)
        steps.transition(quality, number, "assign", {"cause_analysis": "包装不足",
                                                     "responsible_department": "quality"},
                         pdf=False)
        steps.transition(ws, number, "propose", {"countermeasure": "赔偿",
                                                 "disposition": "credit",
                                                 "disposition_amount": amount}, pdf=False)
    return number


def test_a_role_given_in_the_table_for_one_step_is_named_by_verify(normal):
    number = a_proposed_complaint(normal)
    sql(normal, "UPDATE users SET roles = '[\"general_manager\", \"privacy\", "
                "\"sales_manager\"]' WHERE id = 'huangjun'")
    with opened(normal, "huangjun") as ws:
        steps.transition(ws, number, "decide", password=PASSWORD, pdf=False)  # 80,000
    sql(normal, "UPDATE users SET roles = '[\"privacy\", \"sales_manager\"]' "
                "WHERE id = 'huangjun'")  # put back: the table says nothing now
    assert any("by huangjun: acted with the roles ['general_manager', 'privacy', "
               "'sales_manager'], the user events gave ['privacy', 'sales_manager']" in f
               for f in faults(normal))


def test_a_disabled_user_enabled_for_one_step_is_named_by_verify(normal):
    with opened(normal, "wangwen") as ws:
        users.disable(ws, "lina", "left the company")
    sql(normal, "UPDATE users SET disabled = 0 WHERE id = 'lina'")
    with opened(normal, "lina") as ws:
        records.new_record(ws, "complaint", load_example("complaint"), pdf=False)
    sql(normal, "UPDATE users SET disabled = 1 WHERE id = 'lina'")
    assert any("by lina: the user was disabled then" in f for f in faults(normal))


def test_flipping_the_demo_fact_to_back_date_a_step_is_named_by_verify(normal, monkeypatch):
    sql(normal, "UPDATE meta SET value = '1' WHERE key = 'demo'")
    monkeypatch.setenv("QREC_TODAY", "2026-01-05")
    with opened(normal, "lina") as ws:  # no session asked: the proofs are waived in a demo
        records.new_record(ws, "complaint", {**load_example("complaint"),
                                             "received_date": "2026-01-02"}, pdf=False)
    monkeypatch.delenv("QREC_TODAY")
    sql(normal, "UPDATE meta SET value = '0' WHERE key = 'demo'")
    found = faults(normal)
    assert any("says demo in a normal workspace" in f for f in found)
    assert any("is dated 2026-01-05 but was made at" in f for f in found)
    sql(normal, "UPDATE meta SET value = '1' WHERE key = 'demo'")  # left flipped
    assert any("the workspace's demo fact is '1', but event" in f for f in faults(normal))


def test_a_forged_or_extended_session_is_named_by_verify(normal):
    with opened(normal, "lina") as ws:
        sessions.login(ws, PASSWORD)
    assert faults(normal) == []
    sql(normal, "UPDATE sessions SET expires_at = '2099-01-01T00:00:00Z'")
    sql(normal, f"INSERT INTO sessions VALUES ('{'f' * 64}', 'huangjun', "
                "'2026-12-07T00:00:00Z', '2026-12-07T08:00:00Z')")
    found = faults(normal)
    assert any("a session of lina (until 2099-01-01T00:00:00Z) was not made by a login" in f
               for f in found)
    assert any("a session of huangjun" in f for f in found)


def test_an_edit_of_the_approval_limits_is_recorded_before_it_counts(normal):
    config = normal / "qrecords.yaml"
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    doc["limits"]["complaint_sales_manager"] = 1_000_000
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(WorkspaceError, match="its approval limits were changed"):
        Workspace.open(normal, "huangjun")
    with opened(normal, "wangwen") as ws:  # the document controller's next command
        assert any("approval limits" in n for n in ws.notices)
        changed = ws.catalog.events_by_action(["limits.set"])[-1]
    assert changed["actor"] == "wangwen"
    assert changed["detail"]["limits"]["complaint_sales_manager"] == 1_000_000
    assert changed["detail"]["before"]["complaint_sales_manager"] != 1_000_000
    with opened(normal, "huangjun") as ws:  # now in force, and on the record
        assert ws.settings.limits["complaint_sales_manager"] == 1_000_000


def test_your_own_password_needs_the_current_one(normal):
    with opened(normal, "lina") as ws:
        with pytest.raises(NotAuthenticated, match="wrong password for lina"):
            users.set_password(ws, "lina", "taken-over-2026", current="guess")
        users.set_password(ws, "lina", "renewed-2026-pw", current=PASSWORD)
        assert sessions.check_password_of(ws, "renewed-2026-pw", "login") is None


def test_a_reset_by_the_controller_needs_a_reason_and_ends_the_sessions(normal):
    with opened(normal, "lina") as ws:
        made = sessions.login(ws, PASSWORD)
    with opened(normal, "wangwen") as ws:
        with pytest.raises(QrecError, match="needs a reason"):
            users.set_password(ws, "lina", "reset-2026-pw", None)
        users.set_password(ws, "lina", "reset-2026-pw", "forgot it")
        assert sessions.session_problem(ws, "lina", made["token"]) is not None


def test_the_last_administrator_cannot_remove_themselves(normal):
    with opened(normal, "wangwen") as ws:
        with pytest.raises(Conflict, match="no enabled user could administer users"):
            users.revoke(ws, "wangwen", "document_controller", "oops")
        users.grant(ws, "zhaomin", "admin", "deputy")
        users.revoke(ws, "wangwen", "document_controller", "handed over")


@pytest.mark.parametrize("change, refusal", [
    (lambda ws: users.grant(ws, "lina", "genral_manager", "typo"),
     "no role 'genral_manager' (did you mean 'general_manager'?)"),
    (lambda ws: users.add_user(ws, "bob", "Bob", "nowhere", [], "new"),
     "no department 'nowhere'"),
    (lambda ws: users.add_user(ws, "bob", "Bob\u202eevil", "sales", [], "new"),
     "control character"),
    (lambda ws: users.grant(ws, "lina", "admin", "bad\x1b[31mreason"), "control character"),
    (lambda ws: users.grant(ws, "zhaomin", "quality", "again"), "holds the role quality"),
])
def test_a_change_of_users_that_means_nothing_or_hides_something_is_refused(normal, change,
                                                                           refusal):
    with opened(normal, "wangwen") as ws:
        before = ws.catalog.users()
        with pytest.raises(QrecError, match=re.escape(refusal)):
            change(ws)
        assert ws.catalog.users() == before


def test_a_normal_workspace_is_not_made_on_another_date(tmp_path, monkeypatch):
    monkeypatch.setenv("QREC_TODAY", "2020-01-01")
    with pytest.raises(WorkspaceError, match="QREC_TODAY is honoured only"):
        create_workspace(tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_a_step_that_cannot_be_taken_costs_no_password_attempt(normal):
    number = a_proposed_complaint(normal, amount="80000")
    with opened(normal, "lina") as ws:  # sales may not decide
        with pytest.raises(QrecError, match="needs the role"):
            steps.transition(ws, number, "decide", password="wrong", pdf=False)
        assert ws.catalog.user("lina")["failed_logins"] == 0
        assert ws.catalog.events_by_action(["signature.failed"]) == []
