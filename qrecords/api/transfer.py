"""Transfer 移交: closed records handed over to an archive, with a transfer list 记录移交清单.

Its own action, not a kind of destruction: a record is transferred any time after it closed
when its policy says destroy (the archive keeps it until its retention date, printed on the
list, then destroys it), and when its retention period ends when its policy says transfer
(the period is how long it stays here). Never an open record, never one on hold. The
records leave qrecords with a tombstone saying transferred, to where, and the SHA-256 of
every file handed over; the package in `transfers/<list number>/` is what is handed over.
The engine and its rules are api/disposition.py's.
"""

from __future__ import annotations

from typing import Callable

from ..errors import QrecError
from ..text_rules import control_character
from ..workspace import Workspace
from . import disposition
from .disposition import Disposition

MAX_ARCHIVE = 200  # characters of an archive's name


def transfer(ws: Workspace, numbers: list[str], to: str, reason: str, all_due: bool = False,
             dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
             password: str | None = None) -> Disposition:
    """Transfer the given records, or every due record not on hold whose policy says
    transfer (`all_due`), to the archive named `to`, as a document controller signing
    (批准移交 transfer authorised) with their `password` (not in a demo). Returns
    {action: "transfer", list_number (TL-yyyy-nnn), dry_run, to, records: [... each with
    retention_until and `then`, the action due then], skipped, docx, pdf, package (the
    folder handed over)}; a dry run lists exactly what the real run would transfer and
    changes nothing. Raises QrecError (param "to": an empty or unprintable archive name;
    "reason"), Forbidden, ValidationError naming every record that may not go (nothing goes
    then), NotAuthenticated."""
    return disposition.run(ws, disposition.TRANSFER, numbers, all_due, reason, dry_run,
                           progress, password, to=archive_name(to))


def archive_name(to: str | None) -> str:
    """The archive's name as given, stripped. Raises QrecError (param "to")."""
    name = (to or "").strip()
    if not name:
        raise QrecError("须写明移交至何处 name the archive the records go to", param="to")
    if control_character(name) or "\n" in name:
        raise QrecError(f"含控制字符 contains the control character "
                        f"{control_character(name) or 'U+000A'}: one line", param="to")
    if len(name) > MAX_ARCHIVE:
        raise QrecError(f"名称过长 is {len(name)} characters long; an archive's name has at "
                        f"most {MAX_ARCHIVE}", param="to")
    return name
