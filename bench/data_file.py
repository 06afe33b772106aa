"""A data file within the documented limit (10 MiB) that is no record data, refused fast: a
million keys, a table of 170,000 rows, one 10 MB value. Wall time and peak memory of
`qrec new --data FILE` in a fresh process, the worst of the three, against the same command
refusing a data file of one unknown field."""

from __future__ import annotations

import json
import os
import subprocess

from common import PYTHON, QREC, USER, WORK, Row, step

SIZE = 10 * 2**20 - 1024

# Runs a command and prints its wall time and peak resident memory (KiB): the child's, not ours.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      done.returncode)
"""


def _files() -> dict[str, tuple[str, str]]:
    """shape -> (form, file)"""
    folder = WORK / "data-files"
    folder.mkdir(parents=True, exist_ok=True)
    keys, size, i = [], 0, 0
    while size < SIZE:
        line = f"k{i}: v\n"
        keys.append(line)
        size, i = size + len(line), i + 1
    row = json.dumps({"item_no": 1, "name": "铜板", "category": "material"},
                     ensure_ascii=False)
    rows = SIZE // (len(row.encode()) + 2)
    shapes = {
        "keys.yaml": ("complaint", "".join(keys)),
        "table.json": ("customer_property",
                       '{"items": [' + ", ".join([row] * rows) + "]}"),
        "value.yaml": ("complaint", "description: " + "x" * (SIZE - 20) + "\n"),
        "small.yaml": ("complaint", "bogus: 1\n"),
    }
    made = {}
    for name, (form, text) in shapes.items():
        (folder / name).write_text(text, encoding="utf-8")
        made[name] = (form, str(folder / name))
    return made


def _measure(form: str, path: str, env: dict) -> tuple[float, float]:
    """(seconds, MB) of one refused `qrec new`."""
    done = subprocess.run([str(PYTHON), "-c", _MEASURE, str(QREC), "new", form, "--data", path],
                          env=env, capture_output=True, text=True, check=True)
    seconds, kib, code = done.stdout.split()
    if code != "1":
        raise RuntimeError(f"qrec new --data {path} exited {code}, not 1 (refused)")
    return float(seconds), int(kib) / 1024


def bench_data_file() -> list[Row]:
    step("data files of 10 MB refused")
    root = WORK / "data-ws"
    subprocess.run([str(QREC), "init", "--demo", str(root)], check=True, capture_output=True)
    env = {**os.environ, "QREC_WORKSPACE": str(root), "QREC_USER": USER}
    files = _files()
    base_s, base_mb = min((_measure(*files["small.yaml"], env) for _ in range(3)))
    worst_s = worst_mb = 0.0
    for name in ("keys.yaml", "table.json", "value.yaml"):
        seconds, mb = min(_measure(*files[name], env) for _ in range(3))
        worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, mb)
    what = "`qrec new --data` 10 MB file refused, worst of 3 shapes (1-field base)"
    return [Row(f"{what}: wall", worst_s, base_s, "s", worst_s / base_s, "< 1.5 s",
                worst_s < 1.5),
            Row(f"{what}: peak memory", worst_mb, base_mb, "MB", worst_mb / base_mb,
                "< 150 MB", worst_mb < 150)]
