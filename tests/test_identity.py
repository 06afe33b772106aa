"""Identity you can trust (issue 15): normal (non-demo) workspaces, through the real `qrec`
(a pseudo-terminal for password prompts) and through the API. Each attack of the issue's list
has a test here."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from qrecords.api import sessions, signatures, steps, users
from qrecords.errors import Conflict, Forbidden, NotAuthenticated
from qrecords.workspace import Workspace, create_workspace
from tests.conftest import example

QREC = str(Path(sys.executable).with_name("qrec"))
PASSWORD = "correct horse 9"


@pytest.fixture
def normal(tmp_path, monkeypatch):
    """A normal workspace made by `qrec init` (this OS account bound to wangwen), with a
    password for lina set by the document controller."""
    monkeypatch.delenv("QREC_TODAY", raising=False)
    root = tmp_path / "ws"
    made = qrec("init", root)
    assert made.returncode == 0, made.stderr
    assert "is bound to wangwen (王文, document_controller" in made.stdout, made.stdout
    set_password(root, "lina", PASSWORD)
    return root


def qrec(*args, stdin: str | None = None, env: dict | None = None):
    environment = {k: v for k, v in os.environ.items() if k != "QREC_TODAY"}
    return subprocess.run([QREC, *map(str, args)], capture_output=True, text=True,
                          input=stdin, env={**environment, **(env or {})}, timeout=120)


def set_password(root: Path, user: str, password: str) -> None:
    done = qrec("-w", root, "--as", "wangwen", "users", "passwd", user, "--reason",
                "new starter", stdin=password + "\n")
    assert done.returncode == 0, done.stderr


def spawn(*args) -> pexpect.spawn:
    environment = {k: v for k, v in os.environ.items() if k != "QREC_TODAY"}
    return pexpect.spawn(QREC, list(map(str, args)), env=environment, encoding="utf-8",
                         timeout=60)


def login_at_terminal(root: Path, user: str, password: str) -> tuple[int, str]:
    child = spawn("-w", root, "login", user)
    child.expect("password")
    child.sendline(password)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def one_error(result) -> str:
    assert result.returncode != 0, result.stdout
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, \
        result.stderr
    return result.stderr


@pytest.mark.parametrize("stop", ["ctrl-c", "eof"])
def test_a_command_stopped_at_a_prompt_says_so_in_chinese_and_english(normal, stop):
    child = spawn("-w", normal, "login", "lina")
    child.expect("password")
    child.sendintr() if stop == "ctrl-c" else child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    errors = [line for line in child.before.splitlines() if line.strip()][1:]
    assert errors == ["Error: 已中断 interrupted: what was stored before stays; `qrec verify` "
                      "checks the workspace"], child.before
    assert "Aborted" not in child.before


def test_acting_as_another_user_without_their_password_is_refused(normal):
    message = one_error(qrec("-w", normal, "--as", "lina", "show", "CC-2611-01"))
    assert "lina is not logged in: run `qrec login lina`" in message
    message = one_error(qrec("-w", normal, "show", "CC-2611-01",
                             env={"QREC_USER": "mazong"}))
    assert "mazong is not logged in" in message


def test_login_at_a_terminal_then_act_and_every_event_records_the_authority(normal):
    status, output = login_at_terminal(normal, "lina", PASSWORD)
    assert status == 0, output
    assert "Logged in as lina" in output and PASSWORD not in output
    files = list((Path(os.environ["XDG_CONFIG_HOME"]) / "qrecords" / "sessions").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    token = json.loads(files[0].read_text())["sessions"]["lina"]["token"]
    made = qrec("-w", normal, "--as", "lina", "new", "complaint", "--data",
                example("complaint"), "--json")
    assert made.returncode == 0, made.stderr
    ws = Workspace.open(normal, "wangwen")
    try:
        assert ws.catalog.session(sessions.token_hash(token))["user_id"] == "lina"
        assert token not in json.dumps(ws.catalog.raw_events())
        created = [e for e in ws.catalog.events() if e["action"] == "record.created"][0]
        assert created["actor"] == "lina"
        assert created["detail"]["authority"] == {"roles": ["sales", "privacy"],
                                                  "department": "sales"}
        assert "demo" not in created["detail"]
    finally:
        ws.close()


def test_a_wrong_password_is_counted_logged_and_locks_after_the_limit(normal):
    for attempt in range(1, sessions.MAX_FAILURES + 1):
        message = one_error(qrec("-w", normal, "login", "lina", stdin="wrong password\n"))
        assert "wrong password for lina" in message
    assert "locked until" in message
    # the right password is refused while locked
    assert "is locked until" in one_error(qrec("-w", normal, "login", "lina",
                                               stdin=PASSWORD + "\n"))
    ws = Workspace.open(normal, "wangwen")
    try:
        failed = [e["detail"] for e in ws.catalog.events() if e["actor"] == "lina"
                  and e["action"] == "login.failed"]
        # five wrong passwords, then the attempt while locked: logged too
        assert [d.get("locked", False) for d in failed] == [False] * 5 + [True]
        assert [e["action"] for e in ws.catalog.events()].count("login.locked") == 1
        listed = {u["id"]: u for u in users.list_users(ws)}
        assert listed["lina"]["locked_until"]
    finally:
        ws.close()


def test_a_disabled_user_can_neither_log_in_nor_act(normal):
    assert login_at_terminal(normal, "lina", PASSWORD)[0] == 0
    done = qrec("-w", normal, "--as", "wangwen", "users", "disable", "lina", "--reason",
                "离职 left")
    assert done.returncode == 0, done.stderr
    assert "user 'lina' is disabled" in one_error(qrec("-w", normal, "--as", "lina", "show",
                                                       "CC-2611-01"))
    assert "disabled" in one_error(qrec("-w", normal, "login", "lina",
                                        stdin=PASSWORD + "\n"))


def test_a_session_past_its_expiry_is_refused(normal):
    from qrecords.cli.identity import keep_session

    ws = Workspace.open(normal, "lina")
    try:
        with ws.catalog.write():
            ws.catalog.add_session({"token_sha256": sessions.token_hash("old-token"),
                                    "user_id": "lina", "created_at": "2020-01-01T00:00:00Z",
                                    "expires_at": "2020-01-01T08:00:00Z"})
        keep_session(ws.workspace_id, "lina", "old-token", "2020-01-01T08:00:00Z")
    finally:
        ws.close()
    message = one_error(qrec("-w", normal, "--as", "lina", "show", "CC-2611-01"))
    assert "the session of lina expired at 2020-01-01T08:00:00Z" in message


def test_granting_a_role_without_admin_rights_is_refused(normal):
    assert login_at_terminal(normal, "lina", PASSWORD)[0] == 0
    message = one_error(qrec("-w", normal, "--as", "lina", "users", "grant", "lina",
                             "general_manager", "--reason", "我自己"))
    assert "needs the role document_controller or admin" in message
    ws = Workspace.open(normal, "lina")
    try:
        with pytest.raises(Forbidden):
            users.grant(ws, "lina", "general_manager", "我自己")
        assert ws.user("lina").roles == ("sales", "privacy")
    finally:
        ws.close()


def test_role_changes_by_the_controller_are_chained_events_with_who_and_why(normal):
    done = qrec("-w", normal, "users", "grant", "lina", "sales_manager", "--reason",
                "任命 appointed", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["roles"] == ["privacy", "sales", "sales_manager"]
    listed = qrec("-w", normal, "users")
    assert "lina" in listed.stdout and "sales_manager" in listed.stdout
    ws = Workspace.open(normal, "wangwen")
    try:
        granted = [e for e in ws.catalog.events() if e["action"] == "user.granted"][0]
        assert granted["actor"] == "wangwen" and granted["detail"]["reason"] == "任命 appointed"
        assert "document_controller" in granted["detail"]["authority"]["roles"]
    finally:
        ws.close()
    verified = qrec("-w", normal, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_editing_qrecords_yaml_to_add_a_role_is_refused(normal):
    config = normal / "qrecords.yaml"
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    for user in doc["users"]:
        if user["id"] == "lina":
            user["roles"].append("general_manager")
    config.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    message = one_error(qrec("-w", normal, "users"))
    assert "its users were edited after the workspace was made" in message


def test_qrec_today_in_a_normal_workspace_is_refused(normal):
    message = one_error(qrec("-w", normal, "users", env={"QREC_TODAY": "2026-01-01"}))
    assert "QREC_TODAY is honoured only in a demonstration workspace" in message


def test_a_password_on_the_command_line_is_refused(normal):
    message = one_error(qrec("-w", normal, "login", "lina", PASSWORD.replace(" ", "")))
    assert "a password is never given on the command line" in message
    assert qrec("-w", normal, "login", "lina", "--password", "x").returncode == 2


def test_a_signature_at_a_terminal_records_meaning_and_the_version_signed(normal):
    assert login_at_terminal(normal, "lina", PASSWORD)[0] == 0
    made = qrec("-w", normal, "--as", "lina", "new", "contract_review", "--data",
                example("contract_review"), "--json")
    assert made.returncode == 0, made.stderr
    number = json.loads(made.stdout)["number"]
    assert qrec("-w", normal, "--as", "lina", "do", number, "submit").returncode == 0
    set_password(normal, "chengang", PASSWORD)
    assert login_at_terminal(normal, "chengang", PASSWORD)[0] == 0
    child = spawn("-w", normal, "--as", "chengang", "sign", number, "feasible")
    child.expect("审核 reviewed")
    child.expect("password")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    history = qrec("-w", normal, "--as", "chengang", "history", number, "--json")
    ws = Workspace.open(normal, "wangwen")
    try:
        signed = [e for e in ws.catalog.events(number) if e["action"] == "record.signed"][0]
        signature = signed["detail"]["signature"]
        assert signature["signer"] == "chengang" and signature["name"] == "陈刚"
        assert signature["meaning"] == "审核 reviewed" and signature["at_utc"].endswith("Z")
        assert signature["signed"][number]["version"] == 2
        record = ws.record_row(number)
        v2 = ws.catalog.files(record["id"], 2)["docx"]["sha256"]
        assert signature["signed"][number]["docx_sha256"] == v2
    finally:
        ws.close()
    assert "审核 reviewed" in history.stdout


def test_a_wrong_signature_password_is_logged_and_nothing_is_signed(normal):
    ws = Workspace.open(normal, "lina")
    try:
        number = _new_submitted_contract(ws)
        steps.transition(ws, number, "submit", pdf=False)
        set_password_api(ws, "chengang", PASSWORD)
        reviewer = Workspace.open(normal, "chengang")
        with pytest.raises(NotAuthenticated, match="wrong password for chengang"):
            steps.sign(reviewer, number, "feasible", password="not my password", pdf=False)
        reviewer.close()
        events = ws.catalog.events()
        assert [e for e in events if e["action"] == "record.signed"] == []
        failed = [e for e in events if e["action"] == "signature.failed"]
        assert failed[0]["actor"] == "chengang"
        assert failed[0]["detail"]["meaning"] == "审核 reviewed"
    finally:
        ws.close()


def _new_submitted_contract(ws) -> str:
    from qrecords.api.records import new_record
    from tests.conftest import load_example

    return new_record(ws, "contract_review", load_example("contract_review"), pdf=False)[
        "number"]


def test_a_signature_on_a_version_other_than_the_current_one_is_refused(normal):
    """The race with an amendment: the reviewer looked at v2, sales amended to v3."""
    ws = Workspace.open(normal, "lina")
    try:
        number = _new_submitted_contract(ws)
        steps.transition(ws, number, "submit", pdf=False)
        reviewer = Workspace.open(normal, "chengang")
        set_password_api(ws, "chengang", PASSWORD)
        looked_at = signatures.current_version(reviewer, number, None)["docx_sha256"]
        from qrecords.api.records import amend

        amend(ws, number, {"delivery_date": "2027-01-20"}, "客户要求", pdf=False)
        with pytest.raises(Conflict, match="changed while you signed"):
            steps.sign(reviewer, number, "feasible", password=PASSWORD,
                       expected_sha256=looked_at, pdf=False)
        failed = [e for e in ws.catalog.events(number) if e["action"] == "record.signed"]
        assert failed == []
        reviewer.close()
    finally:
        ws.close()


def set_password_api(ws, user: str, password: str) -> None:
    controller = Workspace.open(ws.root, "wangwen")
    try:
        users.set_password(controller, user, password, "initial")
    finally:
        controller.close()


@pytest.mark.parametrize("statement, named", [
    ("UPDATE users SET roles = '[\"general_manager\", \"sales\"]' WHERE id = 'lina'",
     "user lina: roles is ['general_manager', 'sales'], the events say ['privacy', 'sales']"),
    ("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = 'lina') "
     "WHERE id = 'huangjun'", "user huangjun: the password hash is not the one last set"),
    ("INSERT INTO users (id, name, department, roles) VALUES ('mole', 'M', 'sales', "
     "'[\"document_controller\"]')", "user mole: in the users table, but no user.added event"),
    ("UPDATE users SET disabled = 0, os_account = 'intruder' WHERE id = 'zhaomin'",
     "user zhaomin: os_account is 'intruder', the events say None"),
])
def test_verify_names_a_change_of_users_made_outside_qrecords(normal, statement, named):
    """The attack of the issue: a role (or a password hash, or a user) given by editing the
    catalog instead of through `qrec users` is found by replaying the user events."""
    import sqlite3

    assert qrec("-w", normal, "verify").returncode == 0
    db = sqlite3.connect(normal / "records" / "catalog.sqlite")
    db.execute(statement)
    db.commit()
    db.close()
    checked = qrec("-w", normal, "verify", "--json")
    assert checked.returncode != 0
    faults = [f["problem"] for f in json.loads(checked.stdout)["faults"]]
    assert any(named in problem for problem in faults), faults


def test_the_audit_pack_shows_role_changes_and_signatures_in_its_trail(normal, tmp_path):
    import csv
    import io
    import zipfile

    assert qrec("-w", normal, "users", "grant", "chengang", "quality", "--reason",
                "兼任评审 also reviews").returncode == 0
    ws = Workspace.open(normal, "lina")
    try:
        number = _new_submitted_contract(ws)
        steps.transition(ws, number, "submit", pdf=False)
        set_password_api(ws, "chengang", PASSWORD)
        reviewer = Workspace.open(normal, "chengang")
        steps.sign(reviewer, number, "feasible", password=PASSWORD, pdf=False)
        reviewer.close()
    finally:
        ws.close()
    pack = tmp_path / "pack.zip"
    made = qrec("-w", normal, "audit-pack", pack, "--json")
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(pack) as z:
        trail = [json.loads(line) for line in z.read("audit/events.jsonl").decode().splitlines()]
        signed = list(csv.DictReader(io.StringIO(z.read("audit/signatures.csv").decode(
            "utf-8-sig"))))
        readme = z.read("README.txt").decode()
    granted = [e for e in trail if e["action"] == "user.granted"]
    assert granted and json.loads(granted[0]["detail"])["reason"] == "兼任评审 also reviews"
    assert {"user.added", "user.password_set", "workspace.created"} <= {e["action"]
                                                                       for e in trail}
    assert [(s["record"], s["meaning"], s["signer"], s["version_signed"]) for s in signed] \
        == [(number, "审核 reviewed", "chengang", "2")]
    assert len(signed[0]["docx_sha256_signed"]) == 64 and signed[0]["demo"] == ""
    assert "DEMONSTRATION" not in readme


def test_verify_and_the_audit_pack_state_a_demonstration_workspace(tmp_path):
    import zipfile

    root = tmp_path / "demo"
    assert qrec("init", "--demo", root).returncode == 0
    checked = qrec("-w", root, "--as", "wangwen", "verify")
    assert checked.returncode == 0 and "DEMONSTRATION workspace" in checked.stdout
    assert json.loads(qrec("-w", root, "--as", "wangwen", "verify", "--json").stdout)["demo"]
    assert qrec("-w", root, "--as", "wangwen", "audit-pack", tmp_path / "p.zip").returncode == 0
    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        assert "DEMONSTRATION WORKSPACE" in z.read("README.txt").decode()
    from openpyxl import load_workbook

    assert qrec("-w", root, "--as", "wangwen", "register", "complaint", "--out",
                tmp_path / "r.xlsx").returncode == 0
    book = load_workbook(tmp_path / "r.xlsx")
    assert "演示 DEMO" in book.properties.title
    assert ["演示 DEMO" in str(row[0].value) for row in book["说明 About"].iter_rows()].count(
        True) == 1


def test_a_demonstration_record_carries_the_demo_stamp_on_every_page(tmp_path, normal):
    from pypdf import PdfReader

    demo = tmp_path / "demo"
    assert qrec("init", "--demo", demo).returncode == 0
    pages = {}
    for root in (demo, normal):
        made = qrec("-w", root, "--as", "lina" if root == demo else "wangwen", "new",
                    "contract_review", "--data", example("contract_review"), "--json",
                    env={"QREC_TODAY": "2026-11-23"} if root == demo else None)
        assert made.returncode == 0, made.stderr
        pdf = json.loads(made.stdout)["files"]["pdf"]
        pages[root] = [" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages]
    assert len(pages[demo]) == 2 and all("演示 DEMO 非正式记录" in page for page in pages[demo])
    assert len(pages[normal]) == 2 and not any("演示" in page for page in pages[normal])


def test_an_error_about_the_user_argument_names_no_other_option(normal):
    message = one_error(qrec("-w", normal, "users", "grant", "ghost", "quality", "--reason",
                             "x"))
    assert message.startswith("Error: 无此用户 unknown user 'ghost'")
    assert one_error(qrec("-w", normal, "--as", "ghost", "forms")).startswith(
        "Error: --as: 无此用户 unknown user 'ghost'")  # the global option, where it is meant


def test_a_login_that_cannot_keep_its_session_leaves_none_behind(normal, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    message = one_error(qrec("-w", normal, "login", "lina", stdin=PASSWORD + "\n",
                             env={"XDG_CONFIG_HOME": str(blocked)}))
    assert "cannot keep a session in" in message and "XDG_CONFIG_HOME" in message
    ws = Workspace.open(normal, "wangwen")
    try:
        assert ws.catalog.sessions() == []
        assert not [e for e in ws.catalog.events() if e["action"] == "login.succeeded"]
    finally:
        ws.close()
