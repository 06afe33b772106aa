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
