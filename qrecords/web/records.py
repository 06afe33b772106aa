"""Pages for finding and reading records: search (live, as you type), a record with its
versions, diff and letters, and downloads."""

from __future__ import annotations

from flask import Response, render_template, request

from ..api import downloads, records, search, signatures, steps
from ..domain.workflow_rules import may_amend
from ..errors import QrecError
from .auth import current_ws
from .fields import refusal_heading

PAGE = 20  # hits per page
MAX_PAGES = 50  # the first 1,000 hits: a narrower query beats paging further
BY_DATE = 200  # sorted by date: the newest first among this many best matches


def register(app) -> None:
    app.add_url_rule("/", "home", home)
    app.add_url_rule("/search", "search", find, methods=["POST"])
    app.add_url_rule("/records/<number>", "record", record)
    app.add_url_rule("/records/<number>/diff", "diff", diff)
    app.add_url_rule("/records/<number>/v<int:version>.<kind>", "download", download)
    app.add_url_rule("/records/<number>/letters/<path:key>", "letter", letter)
    app.jinja_env.filters["highlight"] = highlight


def home():
    ws = current_ws()
    forms = ws.forms.all_usable(ws.notices)
    return render_template("search.html", ws=ws, forms=forms.values(),
                           statuses=_statuses(forms))


def find():
    """The results of the search form (POST, so a searched phone number or name is never in
    a URL or an access log): a partial page for htmx, the whole page otherwise."""
    ws = current_ws()
    form = request.form
    text = form.get("q", "").strip()
    page = min(max(1, _int(form.get("page"), 1)), MAX_PAGES)
    order = "date" if form.get("order") == "date" else "relevance"
    found, error = None, None
    if text:
        try:
            limit = page * PAGE if order == "relevance" else BY_DATE
            found = search.search(ws, text, form=form.get("form") or None,
                                  status=form.get("status") or None,
                                  customer=form.get("customer") or None,
                                  date_from=form.get("date_from") or None,
                                  date_to=form.get("date_to") or None, limit=limit)
        except QrecError as exc:
            error = refusal_heading(exc)
    hits = []
    if found:
        hits = found["hits"]
        if order == "date":
            hits = sorted(hits, key=lambda h: (h["date"], h["number"]), reverse=True)
        hits = hits[(page - 1) * PAGE:page * PAGE]
    shown = min(found["total"], BY_DATE if order == "date" else MAX_PAGES * PAGE) \
        if found else 0
    context = {"text": text, "found": found, "hits": hits, "page": page, "order": order,
               "pages": -(-shown // PAGE), "error": error, "notices": list(ws.notices)}
    if request.headers.get("HX-Request"):
        return render_template("_results.html", **context)
    forms = ws.forms.all_usable([])  # a broken schema's notice is in context already
    return render_template("search.html", ws=ws, forms=forms.values(),
                           statuses=_statuses(forms), **context)


def record(number: str):
    return record_page(number, _int(request.args.get("version"), None))


def record_page(number: str, version: int | None = None, error: str | None = None,
                typed: dict | None = None, status: int = 200):
    """The record page; `error` and `typed` (what was posted, never a password) show a step
    or signature that was refused with everything typed still in its form."""
    ws = current_ws()
    shown = records.show(ws, number, version)
    if "disposed" in shown:
        return render_template("tombstone.html", ws=ws, number=number,
                               tombstone=shown["disposed"])
    form = ws.form_of(number)
    current = shown["version"] == shown["current_version"]
    return render_template(
        "record.html", ws=ws, r=shown, form=form, current=current,
        history=records.history(ws, number), letters=downloads.letters(ws, number),
        actions=steps.actions(ws, number) if current else [],
        signoff=_signoff_for(ws, form, shown) if current else None,
        meaning_of=signatures.meaning_of, may_amend=may_amend(form.workflow, ws.actor),
        docx_sha256=_docx_sha256(ws, number, shown["version"]), error=error,
        typed=typed or {}), status


def diff(number: str):
    ws = current_ws()
    a, b = _int(request.args.get("from"), None), _int(request.args.get("to"), None)
    result = records.diff(ws, number, a, b)
    return render_template("diff.html", ws=ws, d=result,
                           versions=range(1, ws.record_row(number)["current_version"] + 1))


def download(number: str, version: int, kind: str):
    got = downloads.download(current_ws(), number, version, kind)
    return _send(got)


def letter(number: str, key: str):
    return _send(downloads.letter(current_ws(), number, key))


def _send(got: downloads.Download) -> Response:
    from urllib.parse import quote

    response = Response(got["content"], mimetype=got["media_type"])
    response.headers["Content-Disposition"] = \
        f"attachment; filename*=UTF-8''{quote(got['name'])}"
    response.headers["X-Content-SHA256"] = got["sha256"]
    return response


def highlight(snippet: str):
    """A search snippet as HTML: its text escaped, the matches (【…】) marked."""
    from markupsafe import Markup, escape

    from ..index.snippets import CLOSE, OPEN

    text = str(escape(snippet))
    return Markup(text.replace(OPEN, "<mark>").replace(CLOSE, "</mark>"))


def _signoff_for(ws, form, shown):
    """The sign-off the actor may sign now (their department's row empty, their roles
    allowed), or None."""
    from ..domain.workflow_rules import may_sign

    signoff = form.workflow.signoff(shown["status"])
    if signoff and may_sign(form, form.workflow, signoff, ws.actor, shown["data"]):
        return signoff
    return None


def _docx_sha256(ws, number: str, version: int) -> str | None:
    record = ws.record_row(number)
    docx = ws.catalog.files(record["id"], version).get("docx")
    return docx["sha256"] if docx else None


def _statuses(forms) -> list[tuple[str, str]]:
    seen = {}
    for form in forms.values():
        for state in form.workflow.states:
            seen.setdefault(state.id, form.workflow.label(state.id))
    return sorted(seen.items())


def _int(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
