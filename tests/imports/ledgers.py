"""Real ledgers for the import tests: XLSX made with openpyxl as a document controller's
Excel has them (a merged title row, Chinese headers, dates as Excel dates and as text), and
CSV as Excel saves it on Chinese Windows (GB18030)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

HEADERS = ["序号", "投诉单号", "受理日期", "市场", "客户名称", "产品名称", "异常描述",
           "处理方式", "金额", "状态", "结案日期"]


def complaint_rows() -> list[list]:
    """Three old complaints: closed with a number that fits CC-{yy}{mm}-{seq:02}, closed with
    one that does not, and one still open, dated as text."""
    return [
        [1, "CC-2311-05", dt.datetime(2023, 11, 6), "国内", "华东电力设备有限公司", "控制板组件",
         "包装破损，3 块连接器变形", "折让", 1200.5, "已结案", dt.datetime(2023, 11, 15)],
        [2, "TS-2023-017", dt.datetime(2023, 12, 1), "国外", "Nordic Grid AB", "接线端子",
         "镀层起泡", "退货", None, "已结案", "2023年12月20日"],
        [3, "CC-2312-02", "2023/12/08", "国内", "苏州恒通机电", "继电器", "批量误动作",
         None, None, "调查中", None],
    ]


def write_xlsx(path: Path, rows: list[list], headers: list[str] = HEADERS,
               title: str = "客户投诉台账 2023 年度") -> Path:
    """A ledger sheet: a merged title row, an empty row, the headers, the rows; date cells
    formatted as dates (openpyxl writes them as Excel day numbers)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "2023"
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list], headers: list[str],
              encoding: str = "gb18030") -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path
