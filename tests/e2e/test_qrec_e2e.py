"""The installed `qrec` executable in subprocesses, as a user runs it — including a terminal."""

import json
import os
import pty
import select
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path


from tests.conftest import EXAMPLES

QREC = shutil.which("qrec", path=str(Path(sys.executable).parent)) or "qrec"


def qrec(*args, cwd=None, env=None, check=True):
    result = subprocess.run([QREC, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                            env={**os.environ, **(env or {})}, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_init_new_amend_show(tmp_path):
    ws = tmp_path / "工作区 ws"
    assert "Workspace ready" in qrec("init", "--demo", ws).stdout
    env = {"QREC_WORKSPACE": str(ws), "QREC_USER": "lina"}
    created = json.loads(qrec("new", "complaint", "--data", EXAMPLES / "complaint.yaml",
                              "--json", env=env).stdout)
    assert created["number"] == "CC-2611-01" and Path(created["files"]["docx"]).is_file()
    qrec("amend", "CC-2611-01", "--set", "defective_quantity=15", "--reason", "复点",
         env=env)
    shown = json.loads(qrec("show", "CC-2611-01", "--json", env=env).stdout)
    assert (shown["version"], shown["data"]["defective_quantity"]) == (2, 15)
    assert Path(shown["files"]["docx"]).name == "CC-2611-01_v2.docx"
    # the workspace is also found from a sub-folder, without -w or QREC_WORKSPACE
    sub = ws / "records"
    found = qrec("--as", "lina", "show", "CC-2611-01", "--json", cwd=sub)
    assert json.loads(found.stdout)["number"] == "CC-2611-01"


def test_no_workspace_is_said_clearly(tmp_path):
    result = qrec("show", "CC-2611-01", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: 未找到工作区 no qrecords workspace in ")
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands():
    out = qrec("--help").stdout
    for command in ("init", "forms", "new", "amend", "show", "history", "diff", "render"):
        assert f"  {command} " in out


def _drive(args, answers, env, timeout=180):
    """Run qrec on a pseudo-terminal, answering each prompt (a line ending in ': ', '?' or,
    a line of long text, '> ').
    A qrec still running at the deadline (waiting for an answer it was not given) is killed,
    so the test fails instead of hanging."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execve(QREC, [QREC, *args], env)
    output, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        tail = output.decode("utf-8", "replace").rstrip(" ").splitlines()[-1:]
        if pending and tail and (tail[0].endswith(":") or tail[0].endswith("]:")
                                 or tail[0].endswith("[y/N]:") or tail[0].endswith(">")):
            os.write(fd, (pending.pop(0) + "\n").encode())
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace"), pending


def test_interactive_filling_at_a_terminal(tmp_path):
    ws = tmp_path / "ws"
    qrec("init", "--demo", ws)
    env = {**os.environ, "QREC_WORKSPACE": str(ws), "QREC_USER": "wangwen",
           "QREC_TODAY": "2026-11-23"}
    answers = [
        "", "苏州明辉电子", "MH-2026-112", "周敏",   # customer (empty -> re-asked), contract, contact
        "2026-02-30", "",                             # received_date: invalid, then default
        "周强",                                        # received_by
        "x", "1", "铜板", "9", "1", "", "40", "张", "A-03", "", "完好",  # items row 1
        "y",                                           # add a row
        "2", "模具", "equipment", "", "1", "套", "", "", "",  # items row 2
        "n",                                           # no more rows
        "", "",                                        # inspection result, remarks (long text)
        "y",                                           # 保存？ save?
    ]
    code, output, left = _drive(["new", "customer_property", "--json"], answers, env)
    assert code == 0, output
    assert left == []
    assert "客户名称 Customer *:" in output and "is required" in output
    assert "is not a real calendar date" in output and "请重新输入" in output
    assert "must be a whole number" in output      # item_no "x"
    assert "must be one of" in output              # category "9"
    record = json.loads(output[output.index("{"):])
    assert record["data"]["received_date"] == "2026-11-23"
    assert [(r["name"], r["category"]) for r in record["data"]["items"]] == \
        [("铜板", "material"), ("模具", "equipment")]
