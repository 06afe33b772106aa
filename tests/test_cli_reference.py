"""Every `qrec` command is in the README's CLI reference, and every command there exists (as
sqlite-utils checks its own documentation)."""

from __future__ import annotations

import re

import click

from qrecords.cli import cli, load_commands
from tests.conftest import ROOT


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    load_commands()  # loaded when run, else
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths += command_paths(command, path + " ")
    return paths


def reference() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## CLI reference")
    return text[start:text.index("\n## ", start + 1)]


def test_the_walk_finds_nested_commands():
    assert {"new", "forms check", "hold add", "index rebuild", "report complaints"} <= \
        set(command_paths(cli))


def test_every_command_is_in_the_readme_reference():
    documented = reference()
    missing = [path for path in command_paths(cli) if f"`qrec {path}" not in documented]
    assert not missing, f"commands missing from the README's CLI reference: {missing}"


def test_every_command_in_the_reference_exists():
    paths = set(command_paths(cli))
    named = set()
    for match in re.finditer(r"`qrec ([a-z-]+(?: [a-z-]+)?)", reference()):
        words = match.group(1).split()
        named.add(" ".join(words) if " ".join(words) in paths else words[0])
    assert named <= paths, f"the README names commands qrec does not have: {named - paths}"
