"""Shared fixtures: a real workspace on disk (real SQLite catalog, real DOCX files) per test."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qrecords.cli import cli
from qrecords.workspace import Workspace, create_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TODAY = "2026-11-23"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path_factory):
    for name in ("QREC_WORKSPACE", "QREC_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QREC_TODAY", TODAY)
    # Login sessions are filed under the user's config folder: never the real one in tests.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


DEFAULT_USER = "wangwen"  # the default user of a new workspace (document controller)
QREC = str(Path(sys.executable).with_name("qrec"))


def run_qrec(root: Path, *args, user: str = DEFAULT_USER,
             today: str = TODAY) -> subprocess.CompletedProcess:
    """The real `qrec -w ROOT --as USER ARGS` in a subprocess, on the day `today`
    (QREC_TODAY), without LibreOffice (QREC_SOFFICE points nowhere: DOCX only), without
    standard input and without the environment's other QREC_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_TODAY=today, QREC_SOFFICE="/nonexistent/soffice")
    return subprocess.run([QREC, "-w", str(root), "--as", user, *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)


def succeeded(result: subprocess.CompletedProcess) -> str:
    """The stdout of a command that must have exited 0 (else its stderr is the failure)."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def init_workspace(path: Path, user: str = DEFAULT_USER, demo: bool = True) -> Workspace:
    """A new workspace at `path` (a demonstration one unless `demo` is False: the effective
    date moves with QREC_TODAY and anyone may act as anyone), opened as `user`."""
    return Workspace.open(create_workspace(path, demo=demo), user)


def open_workspace(path: Path, user: str = DEFAULT_USER) -> Workspace:
    return Workspace.open(path, user)


def as_user(ws: Workspace, user: str) -> Workspace:
    """The same open workspace (catalog, files, index) acting as another user: what a second
    request to a server does, without opening the catalog again."""
    acting = ws.__dict__.setdefault("_test_actors", {})
    if user not in acting:
        other = Workspace(ws.settings, ws.catalog, ws.files, ws.index, ws.acting_user(user))
        other.notices = ws.notices  # one list: what the test reads
        other.mark_index_behind = ws.mark_index_behind  # the original's close() syncs
        acting[user] = other
    return acting[user]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    workspace = init_workspace(tmp_path / "ws")
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
    """SHA-256 of every file under root (catalog included): to prove nothing changed. The
    SQLite -shm file is left out: it is the WAL's shared-memory index, whose read marks move
    with any transaction, even one rolled back; it holds no data. So is the workspace's
    cache/yaml/ of parsed YAML texts (settings.cached_yaml): any command that reads a schema
    for the first time fills it, a refused one too."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith("-shm")
            and p.parent.parts[-2:] != ("cache", "yaml")}


def as_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A workspace with something of everything, made once per test module: amended and
    closed complaints, a late one with its reminder, a failed inspection with its notice, and
    a disposal with its list. Copy it (fixture `copy`) before changing it."""
    root = tmp_path_factory.mktemp("template") / "ws"
    create_workspace(root, demo=True)
    env = {"QREC_TODAY": "2026-01-05"}
    steps = [
        ("lina", "new", "complaint", "--data", example("complaint"), "--set",
         "received_date=2026-01-02"),
        ("lina", "amend", "CC-2601-01", "--set", "defective_quantity=15", "--reason", "复点"),
        ("zhaomin", "do", "CC-2601-01", "close_unfounded", "--set", "disposition=unfounded",
         "--comment", "非质量问题"),
        ("lina", "new", "complaint", "--data", example("complaint"), "--set",
         "received_date=2026-01-02"),
        ("lina", "new", "customer_property", "--data", example("customer_property"),
         "--set", "inspection_result=fail", "--set", "received_date=2026-01-02"),
        ("zhaomin", "do", "CP-2026-0001", "reject"),  # produces the nonconformity notice
    ]
    from click.testing import CliRunner

    runner = CliRunner()
    for user, *args in steps:
        result = runner.invoke(cli, ["-w", str(root), "--as", user, *map(str, args)], env=env)
        assert result.exit_code == 0, result.output
    for user, today, *args in [("wangwen", "2026-01-20", "remind"),  # CC-2601-02 is late
                               ("wangwen", "2029-01-05", "dispose", "CC-2601-01", "--reason",
                                "保存期满")]:
        result = runner.invoke(cli, ["-w", str(root), "--as", user, *args],
                               env={"QREC_TODAY": today})
        assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def copy(template, tmp_path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(template, target)
    return target


# -- the shared-archive servers (tests/servers.py): started once per session when a test asks,
# stopped at the end. A server that cannot start fails the tests that need it (never a skip).


def pytest_configure(config) -> None:
    """A run started in the background by a shell without job control (`make test &`,
    nohup) ignores SIGINT, and every process it starts inherits that: a `qrec` under pexpect
    would ignore the Ctrl-C a test sends it. The run takes SIGINT as Python does by default,
    so the processes it starts begin with the default action."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _stop_on_sigterm() -> None:
    """A terminated test run (SIGTERM, as a timeout sends) still stops its servers: the
    signal becomes KeyboardInterrupt, after which pytest runs the session's teardown."""
    import signal

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(scope="session")
def pg_server():
    from tests.servers import start_postgres

    _stop_on_sigterm()
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server():
    from tests.servers import start_seaweedfs

    _stop_on_sigterm()
    server = start_seaweedfs()
    yield server
    server.stop()
