"""Serving the portal with waitress, a production WSGI server in pure Python."""

from __future__ import annotations

from pathlib import Path


def make_server(root: Path, host: str, port: int, threads: int):
    """The portal of the workspace at `root`, listening on host:port (not yet serving: call
    its run(), which serves until interrupted); `threads` requests at once. Raises WorkspaceError for a broken workspace (before listening),
    QrecError (param "port") when the address cannot be listened on."""
    from waitress import create_server

    from ..errors import QrecError
    from ..settings import load_settings
    from .app import create_app

    load_settings(root)  # a broken qrecords.yaml is said now, not at the first login
    try:
        return create_server(create_app(root), host=host, port=port, threads=threads,
                             ident="qrecords")
    except OSError as exc:
        raise QrecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                        param="port") from None
