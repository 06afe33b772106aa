"""Shared fixtures: a real workspace on disk (real SQLite catalog, real DOCX files) per test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.cli import cli
from qrecords.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TODAY = "2026-11-23"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("QREC_WORKSPACE", "QREC_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QREC_TODAY", TODAY)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    workspace = Workspace.init(tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def run(ws):
    """Invoke the CLI on the test workspace: run("new", "complaint", ...) -> click Result."""
    runner = CliRunner()

    def invoke(*args, user="lina", input=None):
        prefix = ["-w", str(ws.root)] + (["--as", user] if user else [])
        return runner.invoke(cli, prefix + [str(a) for a in args], input=input)

    return invoke


@pytest.fixture
def no_libreoffice(monkeypatch):
    """As on a machine without LibreOffice (this process's running converter is stopped)."""
    from qrecords.render.pdf import shared_converter

    shared_converter().close()
    monkeypatch.setenv("QREC_SOFFICE", "/nonexistent/soffice")


def example(form_id: str) -> Path:
    return EXAMPLES / f"{form_id}.yaml"


def load_example(form_id: str) -> dict:
    import yaml

    return yaml.safe_load(example(form_id).read_text(encoding="utf-8"))


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every file under root (catalog included): to prove nothing changed."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def as_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
