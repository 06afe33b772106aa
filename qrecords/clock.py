"""The one clock. QREC_TODAY=YYYY-MM-DD overrides the effective date (tests, demos, audits)."""

import datetime as dt
import os

from .errors import QrecError


def today() -> dt.date:
    """The effective date: QREC_TODAY when set (refused, QrecError, when it is not a date or
    is outside qrecords.fields.FIRST_DATE..LAST_DATE), else the local date."""
    override = os.environ.get("QREC_TODAY")
    if not override:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(override)
    except ValueError:
        raise QrecError(f"QREC_TODAY={override!r} is not a date (YYYY-MM-DD)") from None
    from .fields import FIRST_DATE, LAST_DATE

    if not FIRST_DATE <= day <= LAST_DATE:
        raise QrecError(f"QREC_TODAY={override!r} is outside the dates a record may hold "
                        f"({FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})")
    return day


def utc_now() -> str:
    """Real time, UTC, ISO 8601 — always the wall clock, whatever QREC_TODAY says."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
