"""Fault injection for the crash tests: QREC_FAULT=<point> kills the process (SIGKILL, no
clean-up of any kind) when it reaches that point. Every point is listed here and tested by
the crash tests (tests/index/test_index.py, tests/test_retention.py)."""

import os
import signal

POINTS = {
    "new.after_commit": "a new record is in the catalog; index not yet updated, no PDF",
    "amend.after_commit": "a new version is in the catalog; index not yet updated, no PDF",
    "transition.after_commit": "a workflow step is in the catalog; index not yet updated",
    "sign.after_commit": "a sign-off is in the catalog; index not yet updated",
    "index.after_whoosh_commit": "the index has the change; STATE.json does not say so yet",
    "dispose.after_commit": "records are gone from the catalog; their files are still on disk",
}


def fault_point(name: str) -> None:
    if os.environ.get("QREC_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
