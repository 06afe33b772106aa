"""PDF from DOCX through one long-lived LibreOffice per qrec process.

The first conversion starts uno_worker.py under the system python3 (LibreOffice's `uno` lives
there), which starts a headless LibreOffice with a private profile directory and pipe name;
later conversions reuse it. A conversion that fails or takes longer than the timeout kills the
worker's whole process group, starts a new one and tries once more. At exit the worker is shut
down and its profile directory removed, so no process or lock is left behind.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import QrecError
from ..processes import alive
from ..settings import soffice_override

WORKER = Path(__file__).with_name("uno_worker.py")
FONTS = Path(__file__).with_name("fonts.conf")
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_HINT = ("install LibreOffice and the fonts: apt-get install libreoffice-writer-nogui "
                "fonts-noto-cjk fonts-symbola python3-uno (or run `make demo`)")


class PdfUnavailable(QrecError):
    """LibreOffice (or its Python bridge) is not installed."""

    http_status = 503


class PdfFailed(QrecError):
    """LibreOffice could not convert a document, even after a restart."""

    http_status = 503


def office_paths() -> tuple[str, str]:
    """(soffice, python with uno); QREC_SOFFICE overrides where soffice is."""
    soffice = soffice_override() or shutil.which("soffice") or ""
    if not (soffice and os.access(soffice, os.X_OK)):
        raise PdfUnavailable(f"LibreOffice (soffice) not found: {INSTALL_HINT}")
    if not Path("/usr/lib/python3/dist-packages/uno.py").exists() or \
            not os.access(SYSTEM_PYTHON, os.X_OK):
        raise PdfUnavailable(f"LibreOffice's Python bridge (python3-uno) not found: "
                             f"{INSTALL_HINT}")
    return soffice, SYSTEM_PYTHON


# A converter's LibreOffice profile folder, in the temporary folder: qrec-lo-<pid>-<random>.
PROFILE_PREFIX = "qrec-lo-"


def _sweep_profiles() -> None:
    """Remove the profile folders (about 570 KB each) of qrec processes that are gone: one
    killed (kill -9, a power cut) could not remove its own, and they piled up."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PROFILE_PREFIX}*-*"):
        pid = folder.name[len(PROFILE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


class Converter:
    def __init__(self, timeout: float = 120.0):
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._profile: str | None = None
        self._pipe: str | None = None
        self._buffer = b""
        self.starts = 0  # how many LibreOffice processes this converter has started

    def convert(self, docx: Path, pdf: Path) -> None:
        """Write pdf from docx. Raises PdfUnavailable or PdfFailed."""
        for attempt in (1, 2):
            try:
                self._ensure_started()
                self._send({"in": str(docx), "out": str(pdf)})
                reply = self._receive(self.timeout)
                if reply.get("ok"):
                    return
                problem = reply.get("error", "no answer")
            except _Broken as exc:
                problem = str(exc)
            self.close()
            if attempt == 2:
                raise PdfFailed(f"LibreOffice could not convert {docx.name}: {problem}")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            try:
                process.stdin.close()
                process.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                pass
            _kill_group(process)
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
        if self._pipe:  # the socket a killed LibreOffice could not remove itself
            for socket in Path(tempfile.gettempdir()).glob(f"OSL_PIPE_*_{self._pipe}"):
                socket.unlink(missing_ok=True)
            self._pipe = None
        self._buffer = b""

    def _ensure_started(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self.close()  # a worker that died between conversions: clean up after it
        soffice, python = office_paths()
        _sweep_profiles()
        self._profile = tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-")
        self._pipe = pipe = f"qrec_{os.getpid()}_{secrets.token_hex(6)}"
        self._process = subprocess.Popen(
            [python, str(WORKER), soffice, self._profile, pipe],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=0, start_new_session=True,
            env={**os.environ, "FONTCONFIG_FILE": str(FONTS)})
        self.starts += 1
        reply = self._receive(90)
        if not reply.get("ready"):
            raise _Broken(reply.get("error", "LibreOffice did not start"))

    def _send(self, request: dict) -> None:
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode())
        except (BrokenPipeError, OSError) as exc:
            raise _Broken(f"LibreOffice worker gone ({exc})") from None

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Broken(f"no answer from LibreOffice in {timeout:.0f} s")
                if selector.select(left):
                    chunk = os.read(self._process.stdout.fileno(), 65536)
                    if not chunk:
                        raise _Broken("LibreOffice worker exited")
                    self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


class _Broken(Exception):
    """The worker hung, died or could not start: restart it."""


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


_shared: Converter | None = None


def shared_converter() -> Converter:
    """The process's converter, started on first use and shut down at exit."""
    global _shared
    if _shared is None:
        _shared = Converter()
        atexit.register(_shared.close)
    return _shared


class ConverterPool:
    """Converters for batch work, one per thread (each its own LibreOffice): `make(job)` is
    make_pdf for a job dict with docx, mark and metadata. Closes them all on exit."""

    def __init__(self, workers: int):
        import threading

        self.workers = workers
        self._local = threading.local()
        self._all: list[Converter] = []
        self._lock = threading.Lock()

    def make(self, job: dict) -> bytes:
        converter = getattr(self._local, "converter", None)
        if converter is None:
            converter = self._local.converter = Converter()
            with self._lock:
                self._all.append(converter)
        return make_pdf(job["docx"], job["mark"], job["metadata"], converter)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for converter in self._all:
            converter.close()


def stamp_pdf(text: str, converter: Converter) -> bytes:
    """The watermark stamp as a PDF page, rendered by LibreOffice once and then cached on disk
    (keyed by its text and design, so a change of either makes a new one)."""
    from .finish import STAMP_DESIGN, stamp_docx

    key = hashlib.sha256(f"{STAMP_DESIGN}|{text}".encode()).hexdigest()[:24]
    cached = cache_dir() / f"stamp-{key}.pdf"
    if cached.is_file():
        return cached.read_bytes()
    with tempfile.TemporaryDirectory(prefix="qrec-stamp-") as temp:
        docx, pdf = Path(temp) / "stamp.docx", Path(temp) / "stamp.pdf"
        docx.write_bytes(stamp_docx(text))
        converter.convert(docx, pdf)
        content = pdf.read_bytes()
    try:  # a cache that cannot be written only costs the next process a conversion
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}")
        partial.write_bytes(content)
        os.replace(partial, cached)
    except OSError:
        pass
    return content


def cache_dir() -> Path:
    """Where rendered stamps and font coverage are cached: $XDG_CACHE_HOME/qrecords."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qrecords"


def make_pdf(docx: Path, mark: str | None, metadata: dict[str, str],
             converter: Converter | None = None) -> bytes:
    """The finished PDF of a version's DOCX: converted, stamped with `mark` (a watermark text,
    or None), with metadata. Raises PdfUnavailable or PdfFailed."""
    from .finish import finish_pdf

    converter = converter or shared_converter()
    with tempfile.TemporaryDirectory(prefix="qrec-pdf-") as temp:
        out = Path(temp) / (docx.stem + ".pdf")
        converter.convert(docx, out)
        raw = out.read_bytes()
    return finish_pdf(raw, metadata, stamp_pdf(mark, converter) if mark else None)
