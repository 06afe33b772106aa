"""DOCX -> PDF worker, run by the system python3 (which has LibreOffice's `uno` module).

Started by qrecords.render.pdf.Converter: it starts one headless LibreOffice with its own
profile directory and pipe name (so concurrent qrec processes never share either), then reads
one JSON request a line from stdin, {"in": DOCX path, "out": PDF path}, and answers one JSON
line, {"ok": true} or {"error": "..."}. End of input shuts LibreOffice down.

Standalone on purpose: it imports nothing from qrecords (it runs under another interpreter).
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import uno
from com.sun.star.beans import PropertyValue


def _props(**values):
    props = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        props.append(prop)
    return tuple(props)


def _connect(pipe: str, soffice: subprocess.Popen, timeout: float):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            context = resolver.resolve(
                f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", context)
        except Exception:
            if soffice.poll() is not None:
                raise RuntimeError(f"LibreOffice exited with code {soffice.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("LibreOffice did not start in time")
            time.sleep(0.05)


def _convert(desktop, source: str, target: str) -> None:
    document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0,
                                            _props(Hidden=True, ReadOnly=True))
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {source}")
    try:
        document.storeToURL(uno.systemPathToFileUrl(target),
                            _props(FilterName="writer_pdf_Export"))
    finally:
        document.close(True)


def _die_with(parent: int) -> None:
    """Kill this worker's whole process group — LibreOffice's launcher, soffice.bin and
    itself (the worker leads its own session) — as soon as the qrec that started it is gone,
    whatever ended it (SIGKILL included: no handler runs there). A LibreOffice left behind
    holds about 420 MB (issue 14, line 10)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(os.getpgid(0), signal.SIGKILL)


def main() -> int:
    soffice_bin, profile, pipe = sys.argv[1:4]
    threading.Thread(target=_die_with, args=(os.getppid(),), daemon=True).start()
    soffice = subprocess.Popen(
        [soffice_bin, f"-env:UserInstallation={uno.systemPathToFileUrl(profile)}",
         "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         "--nolockcheck", f"--accept=pipe,name={pipe};urp;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        desktop = _connect(pipe, soffice, timeout=60)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            try:
                _convert(desktop, request["in"], request["out"])
                reply = {"ok": True}
            except Exception as exc:  # reported to the caller, which decides
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(reply), flush=True)
        try:
            desktop.terminate()
        except Exception:
            pass  # LibreOffice drops the bridge while terminating
        soffice.wait(timeout=10)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    finally:
        if soffice.poll() is None:
            soffice.kill()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SAL_USE_VCLPLUGIN", "svp")
    sys.exit(main())
