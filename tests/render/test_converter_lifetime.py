"""A killed qrec leaves no LibreOffice behind (issue 14, line 10): the converter's worker and
the LibreOffice it started die with the process that started them, whatever killed it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# A qrec with a PDF made (LibreOffice running) and a forked helper process that, as forked
# processes do, holds the qrec's end of the worker's pipe: the worker sees no end of input
# when the qrec dies, so only the watchdog can tell.
CHILD = """
import os, sys, time
from pathlib import Path
from qrecords.render.pdf import shared_converter
converter = shared_converter()
source = Path(sys.argv[1])
converter.convert(source, source.with_suffix(".pdf"))
if os.fork() == 0:
    time.sleep(60)
    os._exit(0)
print(converter._profile, flush=True)
time.sleep(600)
"""


def _running_with(marker: str) -> list[int]:
    """Pids of processes whose command line names `marker` (the converter's profile)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_qrec_takes_its_libreoffice_with_it(tmp_path, how):
    from docx import Document

    source = tmp_path / "letter.docx"
    document = Document()
    document.add_paragraph("受控文件 controlled")
    document.save(source)
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(source)],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        profile = child.stdout.readline().strip()
        assert profile and _running_with(profile), "LibreOffice did not start"
        os.kill(child.pid, how)
        child.wait(10)
        deadline = time.monotonic() + 15
        while _running_with(profile) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _running_with(profile) == [], "LibreOffice outlived the qrec that started it"
    finally:
        if child.poll() is None:
            child.kill()
        for pid in _running_with(str(source)):  # the forked helper
            os.kill(pid, signal.SIGKILL)
