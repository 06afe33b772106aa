"""The one exception hierarchy whose messages reach users (cli.py prints them as `Error: ...`)."""

import difflib


def suggest(name: str, known) -> str:
    """A did-you-mean hint for a mistyped name, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class QrecError(Exception):
    """A user-facing error: its message says what is wrong and where."""


class WorkspaceError(QrecError):
    """No workspace, or a workspace whose configuration is broken."""


class FormError(QrecError):
    """A form schema or template is malformed."""


class NotFound(QrecError):
    """A record, version or form that does not exist."""


class ValidationError(QrecError):
    """Record data that breaks the form's rules. Carries every problem at once."""

    def __init__(self, problems: list[str], subject: str = "record data"):
        self.problems = problems
        lines = [f"{len(problems)} problem(s) in {subject}:"] + [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class Disposed(NotFound):
    """A record destroyed at the end of its retention: only its tombstone remains."""

    def __init__(self, tombstone: dict):
        self.tombstone = tombstone
        super().__init__(f"{tombstone['number']} was disposed of on "
                         f"{tombstone['effective_date']} by {tombstone['authorised_by']} "
                         f"(记录销毁清单 {tombstone['list_number']}: {tombstone['reason']})")
