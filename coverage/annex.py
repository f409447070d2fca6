"""Annex import: read a CSV/XLSX file, resolve every row, report, then write all or nothing.

The three steps are plain functions so the admin (django-import-export), the command line
(``import_annex``) and ``load_catalogue`` share one code path:

- ``read_table(content, filename, kind)``: bytes → header-checked rows, or ``AnnexFileError``
  (empty, binary, unknown encoding, wrong headers, formula cells, bad numbers);
- ``plan_import(coverage_list, table, index)``: a report for every row (``ok``, ``alias``,
  ``historical``, ``duplicate``, ``unresolved``, plus heading/total rows) and the stated
  totals compared with the rows; no database access;
- ``apply_import(coverage_list, plan)``: replaces the list's rows in one transaction, only if
  nothing is unresolved and the content changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from coverage.models import CoverageList, CoverageListMember, ListEntry, Region, UnresolvedName
from coverage.resolver import RegionIndex, RegionRecord, Resolution

HEADERS = {
    "city": ["省份", "城市", "区县", "医院数量", "备注"],
    "hospital": ["省份", "城市", "医院名称", "地址", "等级", "备注"],
    "pharmacy": ["省份", "城市", "药房名称", "地址", "备注"],
    "drug": ["序号", "通用名", "商品名", "适应症", "生产企业", "备注"],
    "device": ["序号", "器械名称", "适应症", "备注"],
    "disease": ["序号", "疾病名称", "定义", "备注"],
}
# The column that names an entry of a non-city list.
NAME_COLUMN = {
    "hospital": "医院名称",
    "pharmacy": "药房名称",
    "drug": "通用名",
    "device": "器械名称",
    "disease": "疾病名称",
}
TOTAL_WORDS = frozenset({"合计", "总计", "共计"})
# Cells a spreadsheet would run as a formula (CSV injection: "=cmd|' /C calc'!A0").
FORMULA_START = ("=", "@", "\t", "\r")
# "+"/"-" start real notes too ("+23年10月开放区域"); they are formulas only with formula syntax.
SIGNED_FORMULA = re.compile(r"^[+-](.*[|!=]|\s*[A-Za-z(])")
CITY_COUNT = re.compile(r"(\d+)\s*城")
BINARY_SNIFF_BYTES = 4096
# One bulk insert per this many rows: large enough to keep a 50,000-row list to a few dozen
# statements, small enough for SQLite's variable limit.
BULK_BATCH = 2000


class AnnexFileError(ValueError):
    """The file cannot be read as an annex; the message is Chinese and names the place."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


@dataclass
class RowReport:
    line: int
    row_type: str  # data | heading | total
    status: str  # ok | alias | historical | duplicate | unresolved | heading | total
    input_name: str
    region_code: str | None = None
    canonical_name: str | None = None
    message: str = ""


@dataclass
class Plan:
    list_code: str
    kind: str
    rows: list[RowReport] = field(default_factory=list)
    totals: list[str] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    unresolved_names: list[tuple[str, str]] = field(default_factory=list)  # (name, province)

    @property
    def has_unresolved(self) -> bool:
        return any(row.status == "unresolved" for row in self.rows)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def digest(self) -> str:
        content = {"members": self.members, "entries": self.entries}
        return hashlib.sha256(
            json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()
        ).hexdigest()

    def report(self, *, applied: bool | None = None, changed: bool | None = None) -> dict[str, Any]:
        return {
            "list": self.list_code,
            "kind": self.kind,
            "summary": self.counts(),
            "importable": not self.has_unresolved,
            "applied": applied,
            "changed": changed,
            "totals": self.totals,
            "rows": [asdict(row) for row in self.rows],
        }


# --- reading ------------------------------------------------------------------------------


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
    if headers != expected:
        raise AnnexFileError(
            f"表头应为：{','.join(expected)}（当前为：{','.join(headers) or '空'}）"
        )
    width = len(expected)
    for number, cells in body:
        if len(cells) > width and any(cells[width:]):
            raise AnnexFileError(f"第{number}行的列数多于表头（{len(cells)}列）")
    return Table(expected, [(n, (c + [""] * width)[:width]) for n, c in body])


# --- planning -----------------------------------------------------------------------------


def _count(value: str, line: int, column: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise AnnexFileError(f"第{line}行“{column}”应为整数（当前为“{value}”）")
    return int(value)


def _heading_label(text: str) -> str:
    return re.sub(r"[（(].*?[)）]", "", text).strip()


@dataclass
class _Group:
    label: str
    stated: int | None
    line: int
    cities: set[str] = field(default_factory=set)


def plan_import(coverage_list: CoverageList, table: Table, index: RegionIndex) -> Plan:
    plan = Plan(coverage_list.code, coverage_list.kind)
    if coverage_list.kind == "city":
        _plan_city(plan, table, index)
    else:
        _plan_entries(plan, table, index)
    return plan


_SEVERITY = {"ok": 0, "alias": 1, "historical": 2, "unresolved": 3}


def _plan_city(plan: Plan, table: Table, index: RegionIndex) -> None:
    groups: list[_Group] = []
    province: RegionRecord | None = None  # from the last heading row
    city: RegionRecord | None = None  # the last city row, for county rows that omit it
    seen: dict[tuple[str, str | None], int] = {}
    hospital_sum = 0
    all_cities: set[str] = set()
    stated_totals: list[tuple[int, str, int | None, int | None]] = []
    for line, (province_cell, city_cell, county_cell, count_cell, note) in table.rows:
        if city_cell in TOTAL_WORDS:
            # Compared with the rows at the end: some annexes print the total first.
            plan.rows.append(RowReport(line, "total", "total", city_cell, message=note))
            match = CITY_COUNT.search(note)
            stated_totals.append(
                (
                    line,
                    city_cell,
                    _count(count_cell, line, "医院数量"),
                    int(match.group(1)) if match else None,
                )
            )
            continue
        if not city_cell and not county_cell:
            match = CITY_COUNT.search(note) or CITY_COUNT.search(province_cell)
            groups.append(_Group(province_cell, int(match.group(1)) if match else None, line))
            province = index.resolve_province(_heading_label(province_cell))
            plan.rows.append(RowReport(line, "heading", "heading", province_cell, message=note))
            continue
        row_province = (
            index.resolve_province(_heading_label(province_cell)) if province_cell else None
        ) or province
        hospitals = _count(count_cell, line, "医院数量")
        results = []
        if city_cell:
            city_result = index.resolve(city_cell, column="city", province=row_province)
            city = city_result.region
            results.append(city_result)
        if county_cell:
            if city_cell and city is None:
                results.append(
                    Resolution("unresolved", county_cell, message="区县所属城市无法识别")
                )
            else:
                # A county row without its city (附件6 lists a province's counties after its
                # cities) is resolved in the province; the previous city only breaks ties.
                county_result = index.resolve(
                    county_cell,
                    column="county",
                    province=row_province,
                    city=city if city_cell else None,
                )
                if county_result.status == "unresolved" and not city_cell and city is not None:
                    county_result = index.resolve(
                        county_cell, column="county", province=row_province, city=city
                    )
                if not city_cell and county_result.region is not None:
                    city = index.city_of(county_result.region)
                parts = _split_counties(county_cell)
                if county_result.status == "unresolved" and len(parts) > 1:
                    split = [
                        index.resolve(
                            part,
                            column="county",
                            province=row_province,
                            city=city if city_cell else None,
                        )
                        for part in parts
                    ]
                    if all(r.status != "unresolved" for r in split):
                        # "张北县康保县": two counties printed in one cell.
                        _add_split_rows(plan, line, county_cell, split, index, seen, note)
                        continue
                results.append(county_result)
        worst = max(results, key=lambda r: _SEVERITY[r.status])
        final = results[-1]
        name = " ".join(part for part in (city_cell, county_cell) if part)
        messages = "；".join(r.message for r in results if r.message)
        status = worst.status
        report = RowReport(
            line, "data", status, name, final.region_code, final.canonical_name, messages
        )
        plan.rows.append(report)
        if status == "unresolved":
            plan.unresolved_names.append((worst.input_name, province_cell))
            continue
        assert city is not None and final.region is not None
        county = final.region if county_cell and final.region.code != city.code else None
        if county is not None:
            city = index.city_of(county)  # 都匀 printed under 黔西南 still belongs to 黔南
        key = (city.code, county.code if county and county.code != city.code else None)
        if key in seen:
            report.status = "duplicate"
            report.message = "；".join(
                part for part in (f"与第{seen[key]}行重复，未重复导入", messages) if part
            )
            continue
        seen[key] = line
        if city_cell:
            all_cities.add(city.code)
            if groups:
                groups[-1].cities.add(city.code)
        hospital_sum += hospitals or 0
        plan.members.append(
            {
                "region": key[0],
                "county": key[1],
                "hospital_count": hospitals,
                "note": note,
                "printed_name": name,
                "line": line,
            }
        )
    for line, label, hospitals, cities in stated_totals:
        if hospitals is not None and hospitals != hospital_sum:
            plan.totals.append(f"第{line}行{label}：医院数量{hospitals}，各行合计{hospital_sum}")
        if cities is not None and cities != len(all_cities):
            plan.totals.append(
                f"第{line}行{label}：标明{cities}城，实际列出{len(all_cities)}个城市"
            )
    for group in groups:
        if group.stated is not None and group.stated != len(group.cities):
            plan.totals.append(
                f"第{group.line}行“{group.label}”标明{group.stated}城，"
                f"实际列出{len(group.cities)}个城市"
            )


_COUNTY_PART = re.compile(r".+?(?:自治县|自治旗|县|市|区|旗)")


def _split_counties(cell: str) -> list[str]:
    parts = _COUNTY_PART.findall(cell)
    return parts if "".join(parts) == cell else []


def _add_split_rows(
    plan: Plan,
    line: int,
    cell: str,
    split: list[Resolution],
    index: RegionIndex,
    seen: dict[tuple[str, str | None], int],
    note: str,
) -> None:
    names = "、".join(r.canonical_name or "" for r in split)
    for result in split:
        assert result.region is not None
        city = index.city_of(result.region)
        key = (city.code, result.region.code)
        report = RowReport(
            line,
            "data",
            "alias",
            result.input_name,
            result.region_code,
            result.canonical_name,
            f"“{cell}”一格中有{len(split)}个区县，拆分为{names}",
        )
        plan.rows.append(report)
        if key in seen:
            report.status = "duplicate"
            report.message += f"；与第{seen[key]}行重复，未重复导入"
            continue
        seen[key] = line
        plan.members.append(
            {
                "region": city.code,
                "county": result.region.code,
                "hospital_count": None,
                "note": note,
                "printed_name": result.input_name,
                "line": line,
            }
        )


def _plan_entries(plan: Plan, table: Table, index: RegionIndex) -> None:
    headers = table.headers
    name_column = NAME_COLUMN[plan.kind]
    seen: dict[tuple[str, str | None], int] = {}
    province: RegionRecord | None = None
    for line, cells in table.rows:
        row = dict(zip(headers, cells, strict=True))
        region: RegionRecord | None = None
        report = RowReport(line, "data", "ok", row.get(name_column) or row.get("城市", ""))
        if "城市" in row and (row["城市"] or row["省份"]):
            if row["省份"]:
                province = index.resolve_province(_heading_label(row["省份"])) or province
            if row["城市"]:
                result = index.resolve(row["城市"], column="city", province=province)
                report.status, report.message = result.status, result.message
                report.region_code, report.canonical_name = (
                    result.region_code,
                    result.canonical_name,
                )
                region = result.region
                if result.status == "unresolved":
                    plan.unresolved_names.append((row["城市"], row["省份"]))
            elif province:
                region = province
                report.region_code, report.canonical_name = province.code, province.name
        name = row.get(name_column) or row.get("城市", "")
        if not name:
            report.status, report.message = "unresolved", f"缺少“{name_column}”"
        plan.rows.append(report)
        if report.status == "unresolved":
            continue
        key = (name, region.code if region else None)
        if key in seen and plan.kind != "drug":
            report.status = "duplicate"
            report.message = f"与第{seen[key]}行重复，未重复导入"
            continue
        seen.setdefault(key, line)
        plan.entries.append(
            {
                "name": name,
                "code": row.get("序号", ""),
                "region": region.code if region else None,
                "attributes": {
                    k: v for k, v in row.items() if k not in (name_column, "序号") and v
                },
                "line": line,
            }
        )


# --- applying -----------------------------------------------------------------------------


@dataclass
class ApplyResult:
    applied: bool
    changed: bool
    message: str


def record_unresolved(coverage_list: CoverageList, plan: Plan) -> None:
    """Put names nobody could resolve on the admin's review list (once each)."""
    for name, province in dict.fromkeys(plan.unresolved_names):
        UnresolvedName.objects.update_or_create(
            coverage_list=coverage_list,
            name=name[:100],
            province=province[:60],
            defaults={"resolved": False},
        )


def apply_import(coverage_list: CoverageList, plan: Plan) -> ApplyResult:
    """Replace the list's rows with the plan's, all or nothing."""
    if plan.has_unresolved:
        record_unresolved(coverage_list, plan)
        return ApplyResult(
            False, False, f"有{plan.counts()['unresolved']}行无法识别，未导入任何数据"
        )
    # Every name of this file resolved, so the list's open review items are settled.
    UnresolvedName.objects.filter(coverage_list=coverage_list, resolved=False).update(resolved=True)
    digest = plan.digest()
    if digest == coverage_list.content_digest:
        return ApplyResult(True, False, "内容与上次导入相同，未作修改")
    with transaction.atomic():
        locked = CoverageList.objects.select_for_update().get(pk=coverage_list.pk)
        ids = dict(
            Region.objects.filter(
                code__in={m["region"] for m in plan.members}
                | {m["county"] for m in plan.members if m["county"]}
                | {e["region"] for e in plan.entries if e["region"]}
            ).values_list("code", "id")
        )
        CoverageListMember.objects.filter(coverage_list=locked).delete()
        ListEntry.objects.filter(coverage_list=locked).delete()
        CoverageListMember.objects.bulk_create(
            [
                CoverageListMember(
                    coverage_list=locked,
                    region_id=ids[m["region"]],
                    county_id=ids[m["county"]] if m["county"] else None,
                    hospital_count=m["hospital_count"],
                    note=m["note"][:200],
                    printed_name=m["printed_name"][:100],
                    line=m["line"],
                )
                for m in plan.members
            ],
            batch_size=BULK_BATCH,
        )
        ListEntry.objects.bulk_create(
            [
                ListEntry(
                    coverage_list=locked,
                    name=e["name"][:200],
                    code=e["code"][:40],
                    region_id=ids.get(e["region"]) if e["region"] else None,
                    attributes=e["attributes"],
                    line=e["line"],
                )
                for e in plan.entries
            ],
            batch_size=BULK_BATCH,
        )
        locked.content_digest = digest
        locked.imported_at = timezone.now()
        locked.save(update_fields=["content_digest", "imported_at"])
        coverage_list.content_digest = digest
    return ApplyResult(True, True, f"已导入{len(plan.members) + len(plan.entries)}条")
