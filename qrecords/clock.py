"""The one clock. QREC_TODAY=YYYY-MM-DD overrides the effective date (tests, demos, audits)."""

import datetime as dt

from .errors import QrecError
from .settings import today_override

# The dates a record may hold. Before 1900 no record of a running quality system was made (and
# spreadsheets' date cells start in 1900); up to 2199 leaves room for every deadline and the
# longest retention period a schema may give (999 years) within the calendar Python computes
# in (to 9999-12-31), where year 9999 itself would overflow at the first deadline.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def today() -> dt.date:
    """The effective date: QREC_TODAY when set (refused, QrecError, when it is not a date or
    is outside FIRST_DATE..LAST_DATE), else the local date."""
    override = today_override()
    if not override:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(override)
    except ValueError:
        raise QrecError(f"QREC_TODAY={override!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise QrecError(f"QREC_TODAY={override!r} is outside the dates a record may hold "
                        f"({FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})")
    return day


def utc_now() -> str:
    """Real time, UTC, ISO 8601 — always the wall clock, whatever QREC_TODAY says."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
