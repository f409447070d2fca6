"""Annex import, step 2: resolve every row of a read table into a plan; no database access.

A city list's rows are headings (a province, maybe with "(N城)"), totals (合计 …) and data
rows naming a city, a county, or both; the stated counts are compared with the rows at the
end. The other kinds name one entry per row, optionally in a city.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from coverage.annex import NAME_COLUMN, AnnexFileError, Table
from coverage.models import CoverageList
from coverage.resolver import RegionIndex, RegionRecord, Resolution

TOTAL_WORDS = frozenset({"合计", "总计", "共计"})
CITY_COUNT = re.compile(r"(\d+)\s*城")


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


class _CityRow(NamedTuple):
    province: str
    city: str
    county: str
    hospitals: str  # the printed hospital count (``count`` would hide tuple.count)
    note: str


@dataclass
class _CityPlanState:
    """What the rows read so far tell the next ones, and what the totals are checked against."""

    groups: list[_Group] = field(default_factory=list)
    province: RegionRecord | None = None  # from the last heading row
    city: RegionRecord | None = None  # the last city row, for county rows that omit it
    seen: dict[tuple[str, str | None], int] = field(default_factory=dict)
    hospital_sum: int = 0
    all_cities: set[str] = field(default_factory=set)
    stated_totals: list[tuple[int, str, int | None, int | None]] = field(default_factory=list)


def _plan_city(plan: Plan, table: Table, index: RegionIndex) -> None:
    state = _CityPlanState()
    for line, cells in table.rows:
        row = _CityRow(*cells)
        if row.city in TOTAL_WORDS:
            _plan_total_row(plan, state, line, row)
        elif not row.city and not row.county:
            _plan_heading_row(plan, state, index, line, row)
        else:
            _plan_city_row(plan, state, index, line, row)
    _check_stated_totals(plan, state)


def _plan_total_row(plan: Plan, state: _CityPlanState, line: int, row: _CityRow) -> None:
    # Compared with the rows at the end: some annexes print the total first.
    plan.rows.append(RowReport(line, "total", "total", row.city, message=row.note))
    match = CITY_COUNT.search(row.note)
    state.stated_totals.append(
        (
            line,
            row.city,
            _count(row.hospitals, line, "医院数量"),
            int(match.group(1)) if match else None,
        )
    )


def _plan_heading_row(
    plan: Plan, state: _CityPlanState, index: RegionIndex, line: int, row: _CityRow
) -> None:
    match = CITY_COUNT.search(row.note) or CITY_COUNT.search(row.province)
    state.groups.append(_Group(row.province, int(match.group(1)) if match else None, line))
    state.province = index.resolve_province(_heading_label(row.province))
    plan.rows.append(RowReport(line, "heading", "heading", row.province, message=row.note))


def _plan_city_row(
    plan: Plan, state: _CityPlanState, index: RegionIndex, line: int, row: _CityRow
) -> None:
    row_province = (
        index.resolve_province(_heading_label(row.province)) if row.province else None
    ) or state.province
    hospitals = _count(row.hospitals, line, "医院数量")
    results = []
    if row.city:
        city_result = index.resolve(row.city, column="city", province=row_province)
        state.city = city_result.region
        results.append(city_result)
    if row.county:
        if row.city and state.city is None:
            results.append(Resolution("unresolved", row.county, message="区县所属城市无法识别"))
        else:
            county_result = _resolve_county(state, index, row, row_province)
            if county_result.status == "unresolved" and _plan_split_counties(
                plan, state, index, line, row, row_province
            ):
                return
            results.append(county_result)
    _add_city_member(plan, state, index, line, row, hospitals, results)


def _resolve_county(
    state: _CityPlanState, index: RegionIndex, row: _CityRow, row_province: RegionRecord | None
) -> Resolution:
    # A county row without its city (附件6 lists a province's counties after its cities) is
    # resolved in the province; the previous city only breaks ties.
    result = index.resolve(
        row.county, column="county", province=row_province, city=state.city if row.city else None
    )
    if result.status == "unresolved" and not row.city and state.city is not None:
        result = index.resolve(row.county, column="county", province=row_province, city=state.city)
    if not row.city and result.region is not None:
        state.city = index.city_of(result.region)
    return result


def _plan_split_counties(
    plan: Plan,
    state: _CityPlanState,
    index: RegionIndex,
    line: int,
    row: _CityRow,
    row_province: RegionRecord | None,
) -> bool:
    """Plan "张北县康保县" (two counties printed in one cell) as two rows, if every part
    resolves; False (nothing planned) otherwise."""
    parts = _split_counties(row.county)
    if len(parts) <= 1:
        return False
    split = [
        index.resolve(
            part, column="county", province=row_province, city=state.city if row.city else None
        )
        for part in parts
    ]
    if any(r.status == "unresolved" for r in split):
        return False
    _add_split_rows(plan, line, row.county, split, index, state.seen, row.note)
    return True


def _add_city_member(
    plan: Plan,
    state: _CityPlanState,
    index: RegionIndex,
    line: int,
    row: _CityRow,
    hospitals: int | None,
    results: list[Resolution],
) -> None:
    worst = max(results, key=lambda r: _SEVERITY[r.status])
    final = results[-1]
    name = " ".join(part for part in (row.city, row.county) if part)
    messages = "；".join(r.message for r in results if r.message)
    status = worst.status
    report = RowReport(
        line, "data", status, name, final.region_code, final.canonical_name, messages
    )
    plan.rows.append(report)
    if status == "unresolved":
        plan.unresolved_names.append((worst.input_name, row.province))
        return
    city = state.city
    assert city is not None and final.region is not None
    county = final.region if row.county and final.region.code != city.code else None
    if county is not None:
        city = state.city = index.city_of(county)  # 都匀 printed under 黔西南 still belongs to 黔南
    key = (city.code, county.code if county and county.code != city.code else None)
    if key in state.seen:
        report.status = "duplicate"
        report.message = "；".join(
            part for part in (f"与第{state.seen[key]}行重复，未重复导入", messages) if part
        )
        return
    state.seen[key] = line
    if row.city:
        state.all_cities.add(city.code)
        if state.groups:
            state.groups[-1].cities.add(city.code)
    state.hospital_sum += hospitals or 0
    plan.members.append(
        {
            "region": key[0],
            "county": key[1],
            "hospital_count": hospitals,
            "note": row.note,
            "printed_name": name,
            "line": line,
        }
    )


def _check_stated_totals(plan: Plan, state: _CityPlanState) -> None:
    cities = len(state.all_cities)
    for line, label, stated_hospitals, stated_cities in state.stated_totals:
        if stated_hospitals is not None and stated_hospitals != state.hospital_sum:
            plan.totals.append(
                f"第{line}行{label}：医院数量{stated_hospitals}，各行合计{state.hospital_sum}"
            )
        if stated_cities is not None and stated_cities != cities:
            plan.totals.append(f"第{line}行{label}：标明{stated_cities}城，实际列出{cities}个城市")
    for group in state.groups:
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
