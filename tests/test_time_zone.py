"""One time zone per workspace (issue 14, line 19): a record's date and numbering period are
those of the workspace's zone, whatever zone the process runs in."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo


from qrecords.workspace import create_workspace
from tests.conftest import example

QREC = [sys.executable, "-c", "from qrecords.cli.app import main; main()"]


def qrec(root, zone: str, *args):
    env = {k: v for k, v in os.environ.items() if k != "QREC_TODAY"}
    env.update(TZ=zone, QREC_SOFFICE="/nonexistent/soffice")
    return subprocess.run([*QREC, "-w", str(root), "--as", "lina", *map(str, args)],
                          capture_output=True, text=True, env=env)


def test_processes_in_zones_a_day_apart_give_the_workspace_date(tmp_path):
    root = create_workspace(tmp_path / "ws", demo=True)
    made = []
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):  # UTC+14 and UTC-12: never one date
        result = qrec(root, zone, "new", "complaint", "--data", example("complaint"),
                      "--set", "received_date=2026-01-02", "--json")
        assert result.returncode == 0, result.stderr
        made.append(json.loads(result.stdout))
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert [m["effective_date"] for m in made] == [today, today]
    assert made[0]["number"][:7] == made[1]["number"][:7]  # one numbering period


def test_the_zone_is_chosen_at_init_and_fixed_then(tmp_path):
    root = create_workspace(tmp_path / "ws", demo=True, time_zone="Pacific/Kiritimati")
    config = root / "qrecords.yaml"
    text = config.read_text(encoding="utf-8")
    assert "time_zone: Pacific/Kiritimati" in text
    result = qrec(root, "UTC", "new", "complaint", "--data", example("complaint"), "--set",
                  "received_date=2026-01-02", "--json")
    assert result.returncode == 0, result.stderr
    today = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert json.loads(result.stdout)["effective_date"] == today
    # an edit afterwards would move every date by a day: refused, in one line
    config.write_text(text.replace("time_zone: Pacific/Kiritimati", "time_zone: Etc/GMT+12"),
                      encoding="utf-8")
    refused = qrec(root, "UTC", "forms")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "options.time_zone was Pacific/Kiritimati when the workspace was made" in \
        refused.stderr


def test_an_unknown_zone_is_one_line_naming_the_setting(tmp_path):
    root = create_workspace(tmp_path / "ws", demo=True)
    config = root / "qrecords.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "time_zone: Asia/Shanghai", "time_zone: Mars/Base"), encoding="utf-8")
    result = qrec(root, "UTC", "forms")
    assert result.returncode != 0
    assert result.stderr.strip() == (f"Error: {config}: 时区无效 options.time_zone 'Mars/Base' "
                                     "is not a time zone (an IANA name such as Asia/Shanghai)")
