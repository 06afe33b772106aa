"""The command-line face: `qrec`. Parses, prompts and prints; every command calls one verb.

A command's module is imported when the command runs (app.COMMAND_MODULES); load_commands()
imports them all (what `qrec --help` does)."""

from .app import cli, load_commands, main

__all__ = ["cli", "load_commands", "main"]
