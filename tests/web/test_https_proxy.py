"""Behind an HTTPS reverse proxy (`qrec serve --behind-https-proxy`): the session cookie is
never sent over plain HTTP and browsers are told to use HTTPS only. Without the option the
portal speaks plain HTTP (loopback), and neither is said."""

from __future__ import annotations

from qrecords.web import create_app
from tests.web.portal import _TOKEN, PASSWORD, normal_workspace

PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "qrecords.example.com",
           "X-Forwarded-For": "10.0.0.7"}


def _log_in(app, headers: dict):
    """As a browser does: the login page, then the form posted with the page as Referer
    (Referrer-Policy same-origin)."""
    c = app.test_client()
    page = c.get("/login", headers=headers)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = _TOKEN.search(page.text).group(1)
    referer = {"Referer": "https://qrecords.example.com/login"}
    response = c.post("/login", headers={**headers, **referer},
                      data={"user": "lina", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text
    return response


def test_behind_the_proxy_a_form_without_a_same_origin_referer_is_refused(tmp_path, monkeypatch):
    """Flask-WTF's referrer check over HTTPS: a form posted from another site is refused."""
    monkeypatch.delenv("QREC_TODAY")
    root = normal_workspace(tmp_path / "ws", {"lina": PASSWORD})
    c = create_app(root, secret_key="test-secret", https_proxy=True).test_client()
    token = _TOKEN.search(c.get("/login", headers=PROXIED).text).group(1)
    response = c.post("/login", headers={**PROXIED, "Referer": "https://evil.example.net/"},
                      data={"user": "lina", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_behind_the_proxy_the_session_cookie_is_secure_and_hsts_is_sent(tmp_path, monkeypatch):
    monkeypatch.delenv("QREC_TODAY")
    root = normal_workspace(tmp_path / "ws", {"lina": PASSWORD})
    app = create_app(root, secret_key="test-secret", https_proxy=True)
    response = _log_in(app, PROXIED)
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("qrec_session="))
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    page = app.test_client().get("/login", headers=PROXIED)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_without_the_option_the_cookie_is_plain_and_no_hsts(tmp_path, monkeypatch):
    monkeypatch.delenv("QREC_TODAY")
    root = normal_workspace(tmp_path / "ws", {"lina": PASSWORD})
    app = create_app(root, secret_key="test-secret")
    response = _log_in(app, PROXIED)  # a forged header changes nothing
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("qrec_session="))
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
