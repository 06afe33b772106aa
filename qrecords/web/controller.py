"""The document controller's pages: retention (what is kept, what is due), legal holds,
disposal with its dry run, registers (XLSX) and audit packs. The verbs refuse anyone without
the document controller's role (403, logged); holds and disposal are signed with the
password, as in the CLI."""

from __future__ import annotations

import tempfile
from pathlib import Path

from urllib.parse import quote

from flask import Response, render_template, request

from ..api import audit_pack, disposal, register as registers
from ..domain.access import CONTROLLER
from ..errors import Forbidden, NotAuthenticated, QrecError
from .auth import current_ws
from .fields import refusal_text, typed_values


def register(app) -> None:
    app.add_url_rule("/retention", "retention", retention)
    app.add_url_rule("/retention/hold", "hold", hold, methods=["POST"])
    app.add_url_rule("/retention/dispose", "dispose", dispose, methods=["POST"])
    app.add_url_rule("/registers/<form_id>.<kind>", "register_file", register_file)
    app.add_url_rule("/audit-pack", "audit_pack", pack, methods=["POST"])


def retention(done=None, plan=None, refused=None, status=200):
    """The retention page; `refused` {form: "hold" or "dispose", error, typed values} puts a
    refused hold or disposal back in its form with the problem above it."""
    ws = current_ws()
    ws.require_role(CONTROLLER, "the retention pages")
    return render_template("retention.html", ws=ws, status=disposal.status(ws),
                           due=disposal.due(ws), forms=ws.forms.all_current().values(),
                           done=done, plan=plan, refused=refused or {}), status


def hold():
    ws = current_ws()
    numbers = request.form.get("numbers", "").split()
    return _done_or_refused("hold", lambda: retention(done=disposal.hold(
        ws, numbers, request.form.get("reason", ""), place=request.form.get("place") == "1",
        password=request.form.get("password") or None)))


def dispose():
    ws = current_ws()
    dry_run = request.form.get("dry_run") == "1"
    return _done_or_refused("dispose", lambda: retention(plan=disposal.dispose(
        ws, request.form.get("numbers", "").split(), all_due=request.form.get("all_due") == "1",
        reason=request.form.get("reason", ""), dry_run=dry_run,
        password=request.form.get("password") or None)))


def _done_or_refused(form: str, act):
    """act(), or the retention page again with the problem above `form` and what was typed
    kept (never the password): a wrong password, a missing reason, a record on hold. A
    refusal by role stays a 403, an ended session goes to the login."""
    try:
        return act()
    except QrecError as exc:
        if isinstance(exc, Forbidden) or (isinstance(exc, NotAuthenticated) and
                                          exc.param != "password"):
            raise
        return retention(refused={"form": form, "error": refusal_text(exc),
                                  **typed_values(request.form)}, status=exc.http_status)


def register_file(form_id: str, kind: str):
    ws = current_ws()
    content, made = registers.download(ws, form_id, f".{kind}", request.args.get("from") or None,
                                      request.args.get("to") or None)
    name = f"台账-{made['form']}-{made['from'] or 'all'}-{made['to'] or 'all'}.{kind}"
    return _attachment(content, name, "text/csv" if kind == "csv" else
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def pack():
    ws = current_ws()
    with tempfile.TemporaryDirectory(prefix="qrec-pack-") as temp:
        out = Path(temp) / "audit-pack.zip"
        made = audit_pack.build(ws, str(out), form_id=request.form.get("form") or None,
                                date_from=request.form.get("from") or None,
                                date_to=request.form.get("to") or None)
        content = out.read_bytes()
    return _attachment(content, f"audit-pack-{made['sha256'][:12]}.zip", "application/zip")


def _attachment(content: bytes, name: str, media_type: str) -> Response:
    response = Response(content, mimetype=media_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
