"""The one clock. QREC_TODAY=YYYY-MM-DD overrides the effective date (tests, demos, audits)."""

import datetime as dt

from .errors import QrecError
from .settings import today_override


def today() -> dt.date:
    override = today_override()
    if not override:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(override)
    except ValueError:
        raise QrecError(f"QREC_TODAY={override!r} is not a date (YYYY-MM-DD)") from None


def utc_now() -> str:
    """Real time, UTC, ISO 8601 — always the wall clock, whatever QREC_TODAY says."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
