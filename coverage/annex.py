"""Annex files: the columns of each list kind, and reading a CSV/XLSX file into checked rows.

An annex import is three plain functions, so the admin (django-import-export), the command
line (``import_annex``) and ``load_catalogue`` share one code path:

- ``read_table(content, filename, kind)`` (here): bytes → header-checked rows, or
  ``AnnexFileError`` (empty, binary, unknown encoding, wrong headers, formula cells);
- ``coverage.annex_plan.plan_import(coverage_list, table, index)``: a report for every row
  (``ok``, ``alias``, ``historical``, ``duplicate``, ``unresolved``, plus heading/total rows)
  and the stated totals compared with the rows, or ``AnnexFileError`` for a bad number; no
  database access;
- ``coverage.annex_apply.apply_import(coverage_list, plan)``: replaces the list's rows in one
  transaction, only if nothing is unresolved and the content changed.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

HEADERS = {
    "city": ["省份", "城市", "区县", "医院数量", "备注"],
    "hospital": ["省份", "城市", "医院名称", "地址", "等级", "备注"],
    "pharmacy": ["省份", "城市", "药房名称", "地址", "备注"],
    "drug": ["序号", "通用名", "商品名", "适应症", "生产企业", "备注"],
    "device": ["序号", "器械名称", "适应症", "备注"],
    "disease": ["序号", "疾病名称", "定义", "备注", "别名"],
}
# Trailing columns a file may leave out (files written before the column existed). 别名: the
# other names of a listed disease, "、"-separated (肺癌、乳腺癌 for 恶性肿瘤), which the
# eligibility check reads as the listed disease (``coverage.selectors.list_names_cached``).
OPTIONAL_COLUMNS = {"disease": ["别名"]}
ALIAS_COLUMN = "别名"
# The column that names an entry of a non-city list.
NAME_COLUMN = {
    "hospital": "医院名称",
    "pharmacy": "药房名称",
    "drug": "通用名",
    "device": "器械名称",
    "disease": "疾病名称",
}
# Cells a spreadsheet would run as a formula (CSV injection: "=cmd|' /C calc'!A0").
FORMULA_START = ("=", "@", "\t", "\r")
# "+"/"-" start real notes too ("+23年10月开放区域"); they are formulas only with formula syntax.
SIGNED_FORMULA = re.compile(r"^[+-](.*[|!=]|\s*[A-Za-z(])")
BINARY_SNIFF_BYTES = 4096


class AnnexFileError(ValueError):
    """The file cannot be read as an annex; the message is Chinese and names the place."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AnnexFileError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件")


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:
        raise AnnexFileError("Excel 文件已损坏或不是 .xlsx 格式") from None
    sheet = workbook.worksheets[0]
    rows = []
    for row in sheet.iter_rows():
        cells = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                raise AnnexFileError(
                    f"第{cell.row}行第{cell.column}列是公式，出于安全原因不接受公式，请粘贴为数值"
                )
            cells.append(cell.value)
        rows.append(cells)
    workbook.close()
    return rows


def read_table(content: bytes, filename: str, kind: str) -> Table:
    if not content or not content.strip():
        raise AnnexFileError("文件为空")
    if content.startswith(b"PK\x03\x04") and zipfile.is_zipfile(io.BytesIO(content)):
        raw_rows = _xlsx_rows(content)
    elif b"\x00" in content[:BINARY_SNIFF_BYTES]:
        raise AnnexFileError("不是 CSV 或 Excel 文件（文件内容为二进制）")
    else:
        try:
            raw_rows = list(csv.reader(io.StringIO(_decode(content))))
        except csv.Error as exc:
            raise AnnexFileError(f"CSV 格式错误：{exc}") from None
    rows: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(raw_rows, start=1):
        cells = ["" if value is None else str(value).strip() for value in raw]
        if not any(cells):
            continue
        for column, value in enumerate(cells, start=1):
            if value.startswith(FORMULA_START) or SIGNED_FORMULA.match(value):
                raise AnnexFileError(
                    f"第{number}行第{column}列以“{value[:1]}”开头，疑似公式，出于安全原因拒绝导入"
                )
        rows.append((number, cells))
    if not rows:
        raise AnnexFileError("文件为空")
    expected = HEADERS[kind]
    (_, headers), body = rows[0], rows[1:]
    if not body:
        # An import replaces the list: a header-only file would silently empty it.
        raise AnnexFileError("文件只有表头，没有数据行")
    headers = [h.lstrip("\ufeff") for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    optional = OPTIONAL_COLUMNS.get(kind, [])
    if optional and headers == expected[: len(expected) - len(optional)]:
        headers = expected
    if headers != expected:
        raise AnnexFileError(
            f"表头应为：{','.join(expected)}（当前为：{','.join(headers) or '空'}）"
        )
    width = len(expected)
    for number, cells in body:
        if len(cells) > width and any(cells[width:]):
            raise AnnexFileError(f"第{number}行的列数多于表头（{len(cells)}列）")
    return Table(expected, [(n, (c + [""] * width)[:width]) for n, c in body])
