"""The one clock. QREC_TODAY=YYYY-MM-DD overrides the effective date (tests, demos, audits).

"Today" is the date in the workspace's time zone (options.time_zone in qrecords.yaml, set at
init, Asia/Shanghai by default), never the process's local zone: two processes in different
zones give a record the same date and numbering period (issue 14, line 19). The unit of work
sets it when it opens a workspace (`use_zone`).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from .errors import QrecError
from .settings import today_override

# The dates a record may hold. Before 1900 no record of a running quality system was made (and
# spreadsheets' date cells start in 1900); up to 2199 leaves room for every deadline and the
# longest retention period a schema may give (999 years) within the calendar Python computes
# in (to 9999-12-31), where year 9999 itself would overflow at the first deadline.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


DEFAULT_ZONE = "Asia/Shanghai"
_zone = ZoneInfo(DEFAULT_ZONE)


def use_zone(name: str) -> None:
    """Make `name` (an IANA zone, checked by settings) the zone of every date from now on."""
    global _zone
    _zone = ZoneInfo(name)


def today() -> dt.date:
    """The effective date: QREC_TODAY when set (refused, QrecError, when it is not a date or
    is outside FIRST_DATE..LAST_DATE), else today in the workspace's time zone."""
    override = today_override()
    if not override:
        return dt.datetime.now(_zone).date()
    try:
        day = dt.date.fromisoformat(override)
    except ValueError:
        raise QrecError(f"QREC_TODAY={override!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise QrecError(f"QREC_TODAY={override!r} is outside the dates a record may hold "
                        f"({FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})")
    return day


def local_time(moment: dt.datetime) -> str:
    """`moment` (aware) in the workspace's time zone, ISO with its offset
    ("2026-11-23T16:05:00+08:00")."""
    return moment.astimezone(_zone).isoformat()


def utc_now() -> str:
    """Real time, UTC, ISO 8601 — always the wall clock, whatever QREC_TODAY says."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
