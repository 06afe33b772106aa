"""Fault injection for the crash tests: QREC_FAULT=<point> kills the process (SIGKILL, no
clean-up of any kind) when it reaches that point. Every point is listed here and tested by
tests/test_crash.py (which fails when a point has no scenario there)."""

import os
import signal

from .settings import fault_point_name

POINTS = {
    "new.after_commit": "a new record is in the catalog; index not yet updated, no PDF",
    "amend.after_commit": "a new version is in the catalog; index not yet updated, no PDF",
    "transition.after_commit": "a workflow step is in the catalog; index not yet updated",
    "sign.after_commit": "a sign-off is in the catalog; index not yet updated",
    "index.after_whoosh_commit": "the index has the change; STATE.json does not say so yet",
    "dispose.after_commit": "records are gone from the catalog; their files are still on disk",
    "version.after_docx": "a version's DOCX is written; its catalog transaction is not committed",
    "pdf.after_write": "a version's PDF is written; its catalog row is not",
    "letter.after_pdf": "a letter's PDF (notice, reminder, disposal list) is written; not logged",
    "dispose.after_list_written": "a disposal's list DOCX is written; its transaction is not "
                                  "committed",
    "index.rebuild_midway": "a rebuild's generation is written in its private folder; not yet "
                            "switched to",
}


def fault_point(name: str) -> None:
    if fault_point_name() == name:
        os.kill(os.getpid(), signal.SIGKILL)
