"""Processes of this machine, as the folders they leave are named (`.build-<pid>-…` of an
index rebuild, `qrec-lo-<pid>-…` of a LibreOffice profile): whether the one that made a
folder still runs, so that what a killed process left can be removed."""

from __future__ import annotations

import os


def alive(pid: int | str) -> bool:
    """Whether a process with this id runs (another user's counts); an id that is not a
    number names none."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
