"""`qrec import` as a new document controller found it (second review of issue 18): each
finding through the real `qrec` in a subprocess, with real XLSX files made with openpyxl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TODAY

QREC = str(Path(sys.executable).parent / "qrec")
HEAD = "投诉单号,受理日期,市场,客户名称,异常描述\n"


def qrec(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QREC_")}
    env.update(QREC_WORKSPACE=str(root), QREC_TODAY=TODAY, QREC_SOFFICE="/nonexistent/soffice")
    return subprocess.run([QREC, "--as", "wangwen", *args], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL)


def csv_file(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_original_number_kept_as_legacy_number_is_imported_once(ws, tmp_path):
    first = csv_file(tmp_path / "a.csv", HEAD + "KS-2025-007,2025-03-18,国外,Nordic,镀层起泡\n")
    done = qrec(ws.root, "import", "complaint", first, "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["records"]
    assert (row["number"], row["kept_number"]) == ("CC-2503-01", False)
    again = qrec(ws.root, "import", "complaint", first)
    assert again.returncode == 1, again.stdout
    assert "row 2, column A (投诉单号): 原编号已导入 KS-2025-007 was imported already (from " \
        "a.csv row 2, as CC-2503-01)" in again.stderr
    # trimmed and in another case it is the same number, in the catalog and within a file
    other = csv_file(tmp_path / "b.csv", HEAD + " ks-2025-007 ,2025-03-18,国外,N,d\n")
    assert "ks-2025-007 was imported already" in qrec(ws.root, "import", "complaint",
                                                     other).stderr
    twice = csv_file(tmp_path / "c.csv", HEAD + "XX-1,2025-03-18,国外,A,d\n"
                     "xx-1 ,2025-03-19,国外,B,d\n")
    refused = qrec(ws.root, "import", "complaint", twice)
    assert refused.returncode == 1
    assert "row 3, column A (投诉单号): 原编号重复 number xx-1 appears again (first in row 2)" \
        in refused.stderr
    assert ws.catalog.record_numbers() == ["CC-2503-01"]


def test_a_formula_without_a_saved_result_is_refused(ws, tmp_path):
    from tests.imports.ledgers import complaint_rows, write_xlsx

    rows = complaint_rows()
    rows[0][8] = "=400*2"  # openpyxl saves the formula and no result: Excel never opened it
    rows[1][8] = "=SUM(1,2)"
    path = write_xlsx(tmp_path / "公式.xlsx", rows)
    done = qrec(ws.root, "import", "complaint", str(path))
    assert done.returncode == 1, done.stdout
    assert "row 4, column I (金额): 公式无计算结果 a formula without a saved result (=400*2); " \
        "open and save the file in Excel/WPS first (先用 Excel/WPS 打开并保存)" in done.stderr
    assert "row 5, column I (金额): 公式无计算结果" in done.stderr
    assert ws.catalog.record_numbers() == []
