"""A cold command costs its work, not its imports (issue 20): what a cold `qrec search` and
`qrec show` import, read from Python's own import log (-X importtime, PYTHONPROFILEIMPORTTIME)
of the real `qrec` in a subprocess; and the table of lazily loaded commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from qrecords.cli import app, cli, load_commands
from tests.conftest import TODAY, example

QREC = Path(sys.executable).with_name("qrec")

# Modules a search never uses, and what pulled each in before: whoosh.compat's urlretrieve
# (urllib.request: http.client, email, ssl), the cached_property package whoosh.reading
# takes its decorator from (asyncio), whoosh.query.terms's morph_en (the Variations query's
# word endings), whoosh.analysis.morph's double metaphone (sound-alike), the other commands'
# modules, the portal, the renderers.
# PyYAML: qrecords.yaml and the form schemas come from the workspace's cache of parsed texts.
HEAVY = ("urllib.request", "http.client", "email.parser", "ssl", "asyncio", "cached_property",
         "whoosh.lang.morph_en", "whoosh.lang.dmetaphone",
         "qrecords.cli.users", "qrecords.cli.controller", "qrecords.cli.shared",
         "qrecords.cli.serve", "flask", "docx", "docxtpl", "psycopg", "boto3", "yaml")


def imported(root: Path, *args: str) -> set[str]:
    """The modules `qrec -w root ARGS` imports, as its import log names them."""
    env = {**os.environ, "QREC_TODAY": TODAY, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([str(QREC), "-w", str(root), "--as", "lina", *args],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.M))
    assert "qrecords.api.search" in names or "qrecords.api.records" in names  # the log works
    return names


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cold") / "ws"
    env = {**os.environ, "QREC_TODAY": TODAY}
    for args in (["init", "--demo", str(root)],
                 ["-w", str(root), "--as", "lina", "new", "complaint", "--data",
                  str(example("complaint"))]):
        done = subprocess.run([str(QREC), *args], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize("args", [("search", "包装破损"), ("search", "王磊"),
                                  ("show", "CC-2611-01")])
def test_a_cold_command_imports_none_of_the_heavy_modules(workspace, args):
    first = imported(workspace, *args)  # may parse a schema no command had parsed yet
    assert sorted(first & set(HEAVY) - {"yaml"}) == []
    names = imported(workspace, *args)  # a new process, as every later command is
    assert sorted(names & set(HEAVY)) == []
    if args[0] == "show":  # nothing to search: no Whoosh, no analysis; nothing to render
        assert sorted(name for name in names if name.startswith("whoosh")) == []
        assert sorted(names & {"qrecords.render.docx", "qrecords.render.context",
                               "qrecords.api.pdfs", "qrecords.api.form_check"}) == []
        # what only writing, making a workspace or logging in needs
        assert sorted(names & {"shutil", "tempfile", "secrets", "socket"}) == []


def test_the_lazy_command_table_names_every_command_and_its_modules():
    load_commands()
    assert sorted(cli.commands) == sorted(app.COMMAND_MODULES)
    for name, command in cli.commands.items():
        defined = {command.callback.__module__.rsplit(".", 1)[1]}
        if isinstance(command, click.Group):
            defined |= {sub.callback.__module__.rsplit(".", 1)[1]
                        for sub in command.commands.values()}
        assert defined == set(app.COMMAND_MODULES[name]), name


def test_what_whoosh_imports_later_does_what_the_real_functions_do():
    """The stand-ins whoosh_first gives Whoosh while it loads call the real functions."""
    script = """
import sys
import qrecords.index.whoosh_first
import whoosh.analysis.morph as morph, whoosh.compat as compat, whoosh.query.terms as terms
assert "whoosh.lang.dmetaphone" not in sys.modules and "urllib.request" not in sys.modules
from whoosh.lang.dmetaphone import double_metaphone
from whoosh.lang.morph_en import variations
assert morph.double_metaphone("Smith") == double_metaphone("Smith") == ("SM0", "XMT")
assert terms.variations("rendered") == variations("rendered") and "rendering" in variations("rendered")
import pathlib, tempfile
kept = pathlib.Path(tempfile.mkdtemp()) / "kept.txt"
kept.write_text("kept")
assert pathlib.Path(compat.urlretrieve(kept.as_uri())[0]).read_text() == "kept"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
