"""Who acts in the portal: login and logout, and the unit of work of a request.

The session cookie (signed, HttpOnly, SameSite=Lax) holds the user id and the session token;
the catalog holds the session itself by its token's SHA-256, with its expiry (api/sessions.py),
so one password, one lockout and one session store serve the CLI and the portal. Logging out
ends the catalog's session: a copied cookie proves nothing after it.
"""

from __future__ import annotations

import re

from flask import current_app, g, redirect, render_template, request, session, url_for

from ..api import sessions
from ..errors import NotAuthenticated, QrecError
from ..workspace import Workspace


LOGIN_REFUSED = ("用户名或密码错误，或账户已停用、已锁定（连续 5 次错误锁定 15 分钟） Wrong user or "
                 "password, or the user is disabled or locked (5 wrong passwords lock it for "
                 "15 minutes)")
_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.~%?=&+-]*")  # no scheme, host, space or control


# What the login page says when a page sent the person there, by the key in its link
# (/login?note=ended): never text from the link itself, which anyone could write to put their
# words on the portal's own page ("系统升级，请致电 …").
NOTES = {"login": "请先登录 Log in first",
         "ended": "会话已失效，请重新登录 Your session has ended: log in again"}


def current_ws() -> Workspace:
    """The request's unit of work, acting as the logged-in user once their session is
    checked against the catalog, its search index lent by the application's pool (given back
    at the request's teardown). Raises NotAuthenticated (the face sends them to log in)."""
    if "ws" not in g:
        user, token = session.get("user"), session.get("token")
        if not user:
            raise NotAuthenticated(NOTES["login"])

        def proved(ws: Workspace) -> str:
            problem = None if ws.demo else sessions.session_problem(ws, user, token)
            if problem:
                raise NotAuthenticated(NOTES["ended"])
            return user

        g.ws = Workspace.open(current_app.config["QREC_ROOT"], proved,
                              current_app.extensions["qrec_indexes"])
    return g.ws


def register(app) -> None:
    app.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])


def login():
    note = NOTES.get(request.args.get("note", ""))
    demo = _is_demo()
    if request.method != "POST":  # GET, and HEAD: never a login
        return render_template("login.html", note=note, demo=demo)
    user = request.form.get("user", "").strip()
    password = request.form.get("password", "")
    try:
        ws = Workspace.open(current_app.config["QREC_ROOT"], user or "-")
        g.ws = ws
        made = sessions.login(ws, password)
    except QrecError:
        # One message for an unknown user, a wrong password, a disabled or locked one: the
        # page does not tell which user ids exist. The catalog logs what it was.
        return render_template("login.html", error=LOGIN_REFUSED, user=user, demo=demo), 401
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
    """The page asked for before the login: only a path of this portal, never another site
    (`//evil`, `/\\evil`, a tab or newline that browsers drop from `/\t/evil`)."""
    wanted = request.args.get("next", "")
    if _LOCAL_PATH.fullmatch(wanted) and not wanted.startswith("//"):
        return wanted
    return url_for("home")


def _is_demo() -> bool:
    from ..catalog import open_catalog
    from ..settings import load_settings

    catalog = open_catalog(load_settings(current_app.config["QREC_ROOT"]).catalog)
    try:
        return catalog.meta_value("demo") == "1"
    finally:
        catalog.close()
