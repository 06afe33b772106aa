"""The one hierarchy of errors whose messages reach users.

Every class knows how each face reports it: the CLI prints `Error: <message>` and exits with
`exit_code` (usage errors, which click raises itself, exit 2); a web face answers with
`http_status`. Messages name records, fields and parameters, never a face's spelling of them:
`param` names the parameter at fault (`reason`, `out`, `date_from` ...) so that each face can
point at its own flag or form field.
"""

from __future__ import annotations

import difflib


def suggest(name: str, known) -> str:
    """A did-you-mean hint for a mistyped name, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class QrecError(Exception):
    """A user-facing error: its message says what is wrong and where.

    `param`: the parameter of the verb that is wrong (e.g. "reason"), or None."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class WorkspaceError(QrecError):
    """No workspace, or a workspace whose settings are broken."""

    http_status = 500


class Unavailable(WorkspaceError):
    """A server the workspace uses (its catalog's, its object store) cannot be reached now:
    the same command, or page, may work later."""

    http_status = 503


class FormError(QrecError):
    """A form schema or template is malformed."""

    http_status = 500


class NotFound(QrecError):
    """A record, version, form or user that does not exist."""

    http_status = 404


class Disposed(NotFound):
    """A record destroyed at the end of its retention, or transferred to an archive: only its
    tombstone remains (with `to`, the archive, for a transfer whose event names it)."""

    http_status = 410

    def __init__(self, tombstone: dict):
        self.tombstone = tombstone
        if tombstone["action"] == "transfer":
            to = f" to {tombstone['to']}" if tombstone.get("to") else ""
            what, listed = f"was transferred{to}", "记录移交清单"
        else:
            what, listed = "was destroyed", "记录销毁清单"
        super().__init__(f"{tombstone['number']} {what} on {tombstone['effective_date']} by "
                         f"{tombstone['authorised_by']} ({listed} {tombstone['list_number']}: "
                         f"{tombstone['reason']})")


class Forbidden(QrecError):
    """The acting user lacks the role (or department) an action needs."""

    http_status = 403


class NotAuthenticated(QrecError):
    """No proof, or a failed one, of who is acting: not logged in, a session expired, a wrong
    password, a locked account."""

    http_status = 401


class Conflict(QrecError):
    """The action does not fit the record's current state: a workflow step not allowed now,
    an amendment that changes nothing, a record already on hold, a number already used."""

    http_status = 409


class WorkflowError(Conflict):
    """A workflow step, sign-off or amendment that the form's workflow does not allow now."""


class ValidationError(QrecError):
    """Data that breaks the rules. Carries every problem at once, one line each."""

    http_status = 422

    def __init__(self, problems: list[str], subject: str = "record data",
                 zh: str = "数据有误"):
        """`zh`: what the refusal means in Chinese (未作废), put first in its heading."""
        self.problems = problems
        heading = f"{zh}（{len(problems)} 个问题）{len(problems)} problem(s) in {subject}:"
        lines = [heading] + [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class IntegrityError(QrecError):
    """The catalog or the stored files are damaged or were altered outside qrecords."""

    http_status = 500


class Busy(QrecError):
    """The catalog stayed locked by another writer past the waiting time."""

    http_status = 503
