"""`qrec serve` for real: gunicorn's worker processes answer on the one port, SIGTERM stops
them all, and an address in use is said before anything is served."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import init_workspace
from tests.servers import child_pids

QREC = Path(sys.executable).with_name("qrec")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def root(tmp_path):
    init_workspace(tmp_path / "ws").close()
    return tmp_path / "ws"


def _serve(root, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(root.parent / "config")}
    return subprocess.Popen([str(QREC), "-w", str(root), "serve", "--port", str(port), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_workers_answer_and_sigterm_stops_them_all(root):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _serve(root, port, "--workers", "2", "--threads", "2")
    try:
        deadline = time.monotonic() + 30
        while len(child_pids(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = child_pids(server.pid)
        assert len(workers) == 2, server.poll()
        for _ in range(4):  # whichever worker takes it
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30)
            assert page.status == 200 and "csrf_token" in page.read().decode()
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0 and "已停止 Stopped" in output, output
    assert "Error" not in output, output
    assert not any(_alive(pid) for pid in workers)


def test_an_address_in_use_is_said_before_serving(root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = _serve(root, taken.getsockname()[1])
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode != 0
    assert "cannot listen on 127.0.0.1" in output and "in use" in output, output


def test_qrec_today_on_a_normal_workspace_is_refused_before_serving(tmp_path, monkeypatch):
    """Every login would fail on it (Workspace.open refuses QREC_TODAY outside a demo), with
    the login page's one message for every refusal: so `qrec serve` says it and stops."""
    monkeypatch.delenv("QREC_TODAY")
    init_workspace(tmp_path / "ws", demo=False).close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("QREC_TODAY", "2030-01-01")
    server = _serve(tmp_path / "ws", port)
    output = server.communicate(timeout=60)[0].decode()
    assert server.returncode != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == ["Error: 仅演示工作区可设定日期 QREC_TODAY is honoured only in a demonstration "
                     "workspace (qrec init --demo); unset it"], output
