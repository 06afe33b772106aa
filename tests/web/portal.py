"""What the portal tests share: workspaces, a logged-in test client, the CSRF token."""

from __future__ import annotations

import re

from qrecords.api import records, steps, users
from qrecords.web import create_app
from qrecords.workspace import Workspace, create_workspace

PASSWORD = "portal-pass-2026"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def normal_workspace(root, passwords: dict[str, str]):
    """A normal (non-demo) workspace with these users' passwords set by the controller."""
    create_workspace(root)
    controller = Workspace.open(root, "wangwen")
    try:
        for user, password in passwords.items():
            users.set_password(controller, user, password, "portal test")
    finally:
        controller.close()
    return root


def client(root):
    app = create_app(root, secret_key="test-secret")
    return app.test_client()


def csrf(c, path: str = "/login") -> str:
    return _TOKEN.search(c.get(path).text).group(1)


def log_in(c, user: str, password: str = PASSWORD):
    response = c.post("/login", data={"user": user, "password": password,
                                      "csrf_token": csrf(c)})
    assert response.status_code == 302, response.text
    return c


def post(c, path: str, data: dict, **kwargs):
    """A POST from a page of the portal (with the page's CSRF token)."""
    return c.post(path, data={**data, "csrf_token": csrf(c, "/")}, **kwargs)


def events(root, action: str) -> list[dict]:
    ws = Workspace.open(root, "wangwen")
    try:
        return [e for e in ws.catalog.events() if e["action"] == action]
    finally:
        ws.close()


def submitted_contract(root) -> str:
    """A contract review made and submitted by lina (sales): every department must sign."""
    from tests.conftest import load_example

    ws = Workspace.open(root, "lina")
    try:
        number = records.new_record(ws, "contract_review", load_example("contract_review"),
                                    pdf=False)["number"]
        steps.transition(ws, number, "submit", pdf=False)
        return number
    finally:
        ws.close()
