"""The command-line face: `qrec`. Parses, prompts and prints; every command calls one verb."""

from . import archive, controller, records, serve, shared, users  # noqa: F401  (their commands)
from .app import cli, main

__all__ = ["cli", "main"]
