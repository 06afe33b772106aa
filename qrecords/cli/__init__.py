"""The command-line face: `qrec`. Parses, prompts and prints; every command calls one verb."""

from . import archive, records  # noqa: F401  (they add their commands to the group)
from .app import cli, main

__all__ = ["cli", "main"]
