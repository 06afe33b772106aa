"""The portal's Flask application: configuration, security headers, CSRF, the unit of work
of each request, and errors as pages."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..errors import Disposed, Forbidden, NotAuthenticated, NotFound, QrecError
from ..index.pool import IndexPool
from ..labels import Label
from .fields import raw_text, refusal_heading

SESSION_HOURS = 8  # as api/sessions.py: the cookie never outlives the catalog's session
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def create_app(root: Path, secret_key: str | None = None, https_proxy: bool = False) -> Flask:
    """The portal of the workspace at `root`. `secret_key` signs the session cookie (which
    holds only the user id and the session token); without it, the workspace's
    portal.secret (made on first use, 0600), so every worker of one machine agrees.

    `https_proxy`: the portal is reached only through one HTTPS reverse proxy. Its
    X-Forwarded-Proto/-Host/-For headers are believed (one hop, werkzeug's ProxyFix), the
    session cookie gets the Secure flag (never sent over plain HTTP) and every answer says
    Strict-Transport-Security. Without it the portal speaks plain HTTP (loopback, a test)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or _secret(Path(root)),
        QREC_ROOT=Path(root),
        QREC_HTTPS_PROXY=https_proxy,
        SESSION_COOKIE_NAME="qrec_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https_proxy,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # a form's fields; nothing is uploaded
    )
    CSRFProtect(app)
    if https_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    # Search indexes with their searchers kept open between requests, one pool per process
    # (made empty here, before any server forks its workers): index/pool.py.
    app.extensions["qrec_indexes"] = IndexPool()
    app.jinja_env.globals.update(label=_label, raw_text=raw_text)
    app.after_request(_headers)
    app.teardown_request(_close)
    app.register_error_handler(QrecError, _error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(HTTPException, _http_error)  # 405, 413, 414 ...: the same page
    from . import auth, controller, records, work

    for module in (auth, records, work, controller):
        module.register(app)
    return app


def _secret(root: Path) -> str:
    path = root / "portal.secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_hex(32)
    try:
        with open(path, "x", encoding="ascii",
                  opener=lambda name, flags: os.open(name, flags, 0o600)) as out:
            out.write(secret)
    except FileExistsError:  # another worker made it first
        return path.read_text(encoding="ascii").strip()
    return secret


def _label(value) -> str:
    return str(value) if isinstance(value, Label) else ("" if value is None else str(value))


def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin pages send their address as Referer, and no other site ever sees it:
    # Flask-WTF refuses a form posted over HTTPS without a same-origin Referer (its CSRF
    # referrer check), so "no-referrer" would refuse every form behind an HTTPS proxy.
    response.headers["Referrer-Policy"] = "same-origin"
    if current_app.config["QREC_HTTPS_PROXY"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _close(_exc) -> None:
    ws = g.pop("ws", None)
    if ws is not None:
        ws.close()


def _error(exc: QrecError):
    if isinstance(exc, NotAuthenticated) and exc.param != "password":
        # the session is gone (expired, logged out elsewhere, the user disabled): log in
        note = "ended" if session.get("user") else "login"  # auth.NOTES
        session.clear()
        if request.headers.get("HX-Request"):  # a partial update: send the page away
            return "", 401, {"HX-Redirect": url_for("login")}
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("login", note=note, next=wanted))
    status = 404 if isinstance(exc, (NotFound, Disposed)) else exc.http_status
    if isinstance(exc, Forbidden):
        _log_refusal(str(exc))
    problems = getattr(exc, "problems", None)
    return render_template("error.html", message=refusal_heading(exc),
                           problems=problems, status=status), status


def _log_refusal(message: str) -> None:
    """A refused page or download is an event (21 CFR 11.300(d): attempts at unauthorised use
    are detected and reported)."""
    ws = g.get("ws")
    if ws is None or ws.catalog.read_only:
        return
    try:
        with ws.catalog.write():
            ws.log("access.refused", detail={"path": request.path, "method": request.method,
                                             "why": message[:300]})
    except QrecError:
        pass  # the page still says no


def _csrf_error(exc: CSRFError):
    return render_template("error.html", status=400, problems=None,
                           message="表单已失效，请刷新页面后重试 The form has expired or was not "
                                   "sent by this portal: reload the page and try again"), 400


def _not_found(_exc):
    return render_template("error.html", status=404, problems=None,
                           message="没有此页面 No such page"), 404


# What the web server refuses before any page runs, said as the portal says everything.
_HTTP_MESSAGES = {
    400: "请求无效 The request is not valid",
    405: "此页面不接受这种请求 This page does not take this kind of request",
    413: "提交的内容太大 What was sent is too large",
    414: "地址太长 The address is too long",
    431: "请求头太大 The request's headers are too large",
}


def _http_error(exc: HTTPException):
    status = exc.code or 500
    message = _HTTP_MESSAGES.get(status, f"无法完成 Not done ({exc.name})")
    response = exc.get_response()  # keeps what the status needs (Allow for a 405)
    response.set_data(render_template("error.html", status=status, problems=None,
                                      message=message))
    response.content_type = "text/html; charset=utf-8"
    return response
