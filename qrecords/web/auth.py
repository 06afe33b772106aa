"""Who acts in the portal: login and logout, and the unit of work of a request.

The session cookie (signed, HttpOnly, SameSite=Lax) holds the user id and the session token;
the catalog holds the session itself by its token's SHA-256, with its expiry (api/sessions.py),
so one password, one lockout and one session store serve the CLI and the portal. Logging out
ends the catalog's session: a copied cookie proves nothing after it.
"""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for

from ..api import sessions
from ..errors import NotAuthenticated, QrecError
from ..workspace import Workspace


def current_ws() -> Workspace:
    """The request's unit of work, acting as the logged-in user once their session is
    checked against the catalog. Raises NotAuthenticated (the face sends them to log in)."""
    if "ws" not in g:
        user, token = session.get("user"), session.get("token")
        if not user:
            raise NotAuthenticated("请先登录 Log in first")

        def proved(ws: Workspace) -> str:
            problem = None if ws.demo else sessions.session_problem(ws, user, token)
            if problem:
                raise NotAuthenticated("会话已失效，请重新登录 Your session has ended: log in "
                                       "again")
            return user

        g.ws = Workspace.open(current_app.config["QREC_ROOT"], proved)
    return g.ws


def register(app) -> None:
    app.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])


def login():
    note = request.args.get("note")
    demo = _is_demo()
    if request.method == "GET":
        return render_template("login.html", note=note, demo=demo)
    user = request.form.get("user", "").strip()
    password = request.form.get("password", "")
    try:
        ws = Workspace.open(current_app.config["QREC_ROOT"], user or "-")
        g.ws = ws
        made = sessions.login(ws, password)
    except QrecError as exc:
        # One message for an unknown user, a wrong password, a disabled or locked one: the
        # page does not tell which user ids exist. The catalog logs what it was.
        locked = "locked" in str(exc)
        message = ("账户已锁定，请稍后再试或联系文控 This user is locked after repeated wrong "
                   "passwords: wait, or ask the document controller" if locked else
                   "用户名或密码错误 Wrong user or password")
        return render_template("login.html", error=message, user=user, demo=demo), 401
    session.clear()
    session.permanent = True
    session.update(user=made["user"], token=made["token"])
    return redirect(_next_page())


def logout():
    token, user = session.get("token"), session.get("user")
    session.clear()
    if user:
        try:
            g.ws = Workspace.open(current_app.config["QREC_ROOT"], user)
            sessions.logout(g.ws, token or "-")
        except QrecError:
            pass  # a user disabled meanwhile: the cookie is gone anyway
    return redirect(url_for("login"))


def _next_page() -> str:
    wanted = request.args.get("next", "")
    # Only a path of this portal, never another site (an open redirect).
    return wanted if wanted.startswith("/") and not wanted.startswith("//") else url_for("home")


def _is_demo() -> bool:
    from ..catalog import open_catalog
    from ..settings import load_settings

    catalog = open_catalog(load_settings(current_app.config["QREC_ROOT"]).catalog)
    try:
        return catalog.meta_value("demo") == "1"
    finally:
        catalog.close()
