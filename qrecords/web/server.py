"""Serving the portal with gunicorn: several worker processes, each with its threads.

One Python process runs Python code on one core at a time (the GIL), and a search is Python
from end to end (Whoosh), so one process of threads served at most one core's worth of
searches however many cores the machine has. gunicorn forks `workers` processes of
`threads` threads each (its "gthread" worker), all accepting on one listening socket, and
restarts a worker that dies.

The listening socket is made here, before gunicorn starts, so an address that cannot be
listened on is said at once (gunicorn itself would retry for five seconds, then exit). The
application is made once, before the fork: every worker shares its secret key; each worker
fills its own pool of search indexes (index/pool.py) and starts its own LibreOffice when it
first needs one. No access log is written (a path may name a record); gunicorn's control
socket is not opened.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from gunicorn.app.base import BaseApplication

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One worker per CPU this process may use, at most MAX_DEFAULT_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))


class PortalServer:
    """The portal listening, not yet serving: run() serves until SIGINT or SIGTERM and then
    returns (in the process that made it); close() lets go of the socket if run() never
    took it (gunicorn closes it itself)."""

    def __init__(self, app, listener: socket.socket, workers: int, threads: int):
        self._fd: int | None = listener.detach()  # gunicorn's from run() on
        self._master = os.getpid()
        self._gunicorn = _Gunicorn(app, {
            "bind": [f"fd://{self._fd}"], "workers": workers,
            "worker_class": "gthread", "threads": threads, "proc_name": "qrecords",
            "accesslog": None, "loglevel": "warning", "control_socket_disable": True,
            "graceful_timeout": 20,  # a stop waits this long for requests under way
            # A worker takes a connection only when one of its threads is free, and closes it
            # after the answer: waiting requests queue in the kernel for the first free thread
            # of any worker, not behind a busy worker that took them (with connections kept
            # alive, one worker held most of 20 users and the other core idled).
            "worker_connections": threads, "keepalive": 0,
        })

    def run(self) -> None:
        self._fd = None
        try:
            self._gunicorn.run()
        except SystemExit as exc:
            # gunicorn ends a worker, and the master once stopped, with sys.exit: a worker
            # exits as gunicorn means it to; the master returns to its caller.
            if os.getpid() != self._master or exc.code not in (0, None):
                raise

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def make_server(root: Path, host: str, port: int, threads: int,
                workers: int | None = None, https_proxy: bool = False) -> PortalServer:
    """The portal of the workspace at `root`, listening on host:port (not yet serving: call
    its run()): `workers` processes (default: default_workers()) of `threads` threads, so
    workers × threads requests at once; `https_proxy` as create_app's. Raises WorkspaceError
    for a broken workspace (before listening), QrecError (param "port") when the address
    cannot be listened on."""
    from ..errors import QrecError
    from ..workspace import check_workspace
    from .app import create_app

    check_workspace(root)  # a broken qrecords.yaml or QREC_TODAY is said now, not at a login
    app = create_app(root, https_proxy=https_proxy)
    app.extensions["qrec_indexes"].keep = threads
    try:
        listener = _listen(host, port)
    except OSError as exc:
        raise QrecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                        param="port") from None
    return PortalServer(app, listener, workers or default_workers(), threads)


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (IPv4 or IPv6, as the host resolves)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except BaseException:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


class _Gunicorn(BaseApplication):
    """gunicorn serving an application already made, configured from a dict."""

    def __init__(self, app, options: dict):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # gunicorn 23 has no control socket
                self.cfg.set(key, value)

    def load(self):
        return self.application
