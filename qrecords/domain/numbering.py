"""Record numbers from a form's declared pattern, e.g. ``CC-{yy}{mm}-{seq:02}``.

The serial restarts whenever the rest of the number (the period) changes: yearly for
``CR-{yyyy}-{seq:04}``, monthly for ``CC-{yy}{mm}-{seq:02}``. A serial that outgrows its width
widens (CC-2611-100) rather than failing.
"""

import datetime as dt
import re

_SEQ = re.compile(r"\{seq:(\d{2})\}")


def period_of(pattern: str, day: dt.date) -> str:
    """The pattern with its date tokens filled in: the key of the serial counter."""
    return (pattern.replace("{yyyy}", f"{day.year:04d}").replace("{yy}", f"{day.year % 100:02d}")
            .replace("{mm}", f"{day.month:02d}").replace("{dd}", f"{day.day:02d}"))


def format_number(period: str, seq: int) -> str:
    return _SEQ.sub(lambda m: f"{seq:0{int(m.group(1))}d}", period)
