"""Coverage lookups for eligibility and staff: is a region or hospital in a list, honouring
the list's scope, and which lists cover a region. Each answer costs a fixed number of
queries; the ``*_cached`` variants answer from process memos (``portal.kernel.memo``) after the
first call, for the eligibility endpoint, which asks the same few questions all day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from coverage.annex import ALIAS_COLUMN
from coverage.models import CoverageList, CoverageListMember, ListEntry, Region
from coverage.regions import region_index
from coverage.resolver import Column, RegionIndex, Resolution, normalise
from portal.kernel.memo import Memo

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class CoverageAnswer:
    covered: bool
    reason: str
    region: Region | None = None
    matched_line: int | None = None


def region_lineage(region: Region) -> list[Region]:
    """The region and its ancestors, county first (at most three; parents are loaded)."""
    chain = [region]
    while chain[-1].parent_id is not None:
        parent = chain[-1].parent
        if parent is None:
            break
        chain.append(parent)
    return chain


def _is_urban_district(region: Region) -> bool:
    # 市辖区 are the districts (区); counties and county-level cities are not urban.
    return region.level == Region.Level.COUNTY and region.name.endswith("区")


def list_covers_region(coverage_list: CoverageList, region: Region) -> CoverageAnswer:
    """Whether ``region`` (a city or county) is covered by a city list, by its scope:
    urban districts only, the whole prefecture, or urban districts plus listed counties."""
    lineage = region_lineage(region)
    codes = [r.id for r in lineage]
    members = list(
        CoverageListMember.objects.filter(coverage_list=coverage_list)
        .filter(region_id__in=codes)
        .select_related("region", "county")
    )
    county = region if region.level == Region.Level.COUNTY else None
    if county is not None:
        for member in members:
            if member.county_id == county.id or (
                member.region_id == county.id and member.county_id is None
            ):
                return CoverageAnswer(
                    True, f"{county.name}在名单中（第{member.line}行）", region, member.line
                )
    city_rows = [m for m in members if m.county_id is None]
    if not city_rows:
        return CoverageAnswer(False, f"{region.name}不在“{coverage_list.title}”中", region)
    member = city_rows[0]
    if (
        county is None
        or coverage_list.scope == CoverageList.Scope.WHOLE_PREFECTURE
        or not coverage_list.scope
    ):
        return CoverageAnswer(
            True, f"{member.region.name}在名单中（第{member.line}行）", region, member.line
        )
    if _is_urban_district(county):
        return CoverageAnswer(
            True,
            f"{county.name}属{member.region.name}市区，在名单中（第{member.line}行）",
            region,
            member.line,
        )
    scope = (
        "仅限市区"
        if coverage_list.scope == CoverageList.Scope.URBAN_DISTRICTS
        else "仅限市区及所列区县"
    )
    return CoverageAnswer(
        False,
        f"{member.region.name}在名单中，但{scope}，{county.name}不在范围内",
        region,
        member.line,
    )


def find_region(text: str) -> Region | None:
    """A region by 6-digit code or by exact official name (unique names only)."""
    text = normalise(text)
    if text.isdigit():
        return Region.objects.select_related("parent__parent").filter(code=text).first()
    matches = list(Region.objects.select_related("parent__parent").filter(name=text)[:2])
    return matches[0] if len(matches) == 1 else None


def lists_covering(region: Region) -> list[CoverageList]:
    """Every city list that covers the region (one query for the candidate lists)."""
    lineage_ids = [r.id for r in region_lineage(region)]
    candidates = (
        CoverageList.objects.filter(members__region_id__in=lineage_ids).distinct().order_by("code")
    )
    return [cl for cl in candidates if list_covers_region(cl, region).covered]


class ListSizes(TypedDict):
    member_count: int
    entry_count: int
    hospital_total: int | None  # None: no member has a hospital count (a bare Sum)


def lists_with_sizes() -> QuerySet[WithAnnotations[CoverageList, ListSizes]]:
    """Lists with member count, entry count and hospital total, in one query (subqueries,
    so the two counts never multiply each other)."""

    def per_list(model: type[Model], aggregate: Count | Sum) -> Subquery:
        return Subquery(
            model._default_manager.filter(coverage_list=OuterRef("pk"))
            .order_by()
            .values("coverage_list")
            .annotate(value=aggregate)
            .values("value")
        )

    return (
        CoverageList.objects.select_related("insurer")
        .annotate(
            member_count=Coalesce(per_list(CoverageListMember, Count("id")), 0),
            entry_count=Coalesce(per_list(ListEntry, Count("id")), 0),
            hospital_total=per_list(CoverageListMember, Sum("hospital_count")),
        )
        .order_by("code")
    )


# --- memoised lookups (invalidated with the reference data, see portal.kernel.memo) ---------------

_regions: Memo[Region | None] = Memo("regions")
_lists: Memo[CoverageList | None] = Memo("coverage-lists")
_answers: Memo[bool] = Memo("coverage-answers")
_names: Memo[frozenset[str]] = Memo("list-entry-names")
_index: Memo[RegionIndex] = Memo("region-index")
_choices: Memo[tuple[EntryChoice, ...]] = Memo("list-choices")
_children: Memo[list[tuple[str, str]]] = Memo("region-children")
_ALIAS_SEPARATORS = re.compile(r"[、，,;；/]")


def region_index_cached() -> RegionIndex:
    """Every division and alias in memory (``region_index``), built once per process."""
    return _index.get("all", region_index)


def place_resolve(text: str, province: str | None = None) -> Resolution:
    """A place as a person or a staff system types it (a code, 襄樊, 上海市浦东新区, 朝阳区
    with ``province`` 北京), by the import's resolver: the one reading of a typed place
    for the staff API, eligibility and the portal form."""
    index = region_index_cached()
    within = index.resolve_province(province) if province else None
    # A name ending like a county names a county-level division: 邢台县 is not 邢台市.
    column: Column = "county" if normalise(text).endswith(("区", "县", "旗")) else "city"
    return index.resolve(text, column=column, province=within)


def region_cached(text: str) -> Region | None:
    """The region ``place_resolve`` finds for ``text``, with its parents loaded."""

    def build() -> Region | None:
        code = place_resolve(text).region_code
        return find_region(code) if code else None

    return _regions.get(("text", normalise(text)), build)


def region_by_id_cached(region_id: int) -> Region | None:
    return _regions.get(
        ("id", region_id),
        lambda: Region.objects.select_related("parent__parent").filter(pk=region_id).first(),
    )


def entry_region_cached(name: str) -> Region | None:
    """Where a hospital (or pharmacy) is, from the first list entry of that name that says."""
    text = normalise(name)

    def build() -> Region | None:
        entry = (
            ListEntry.objects.filter(name=text, region__isnull=False)
            .select_related("region__parent__parent")
            .order_by("id")
            .first()
        )
        return entry.region if entry else None

    return _regions.get(("entry", text), build)


def coverage_list_cached(code: str) -> CoverageList | None:
    """The list with ``member_count`` and ``entry_count`` annotated (``lists_with_sizes``)."""
    return _lists.get(code, lambda: lists_with_sizes().filter(code=code).first())


def list_covers_region_cached(coverage_list: CoverageList, region: Region) -> bool:
    return _answers.get(
        (coverage_list.pk, region.pk), lambda: list_covers_region(coverage_list, region).covered
    )


def entry_aliases(attributes: dict[str, str]) -> list[str]:
    """The other names a list entry is known by (its 别名 column), in printed order."""
    return [
        alias
        for alias in (
            normalise(part) for part in _ALIAS_SEPARATORS.split(attributes.get(ALIAS_COLUMN, ""))
        )
        if alias
    ]


def list_names_cached(coverage_list: CoverageList) -> frozenset[str]:
    """Every entry's name, number and other names (别名: 肺癌 for 恶性肿瘤) in a non-city list
    (hospitals, drugs, diseases), normalised; one query per list."""

    def build() -> frozenset[str]:
        rows = ListEntry.objects.filter(coverage_list=coverage_list).values_list(
            "name", "code", "attributes"
        )
        names: set[str] = set()
        for name, code, attributes in rows:
            names.update(normalise(value) for value in (name, code) if value)
            names.update(entry_aliases(attributes or {}))
        return frozenset(names)

    return _names.get(coverage_list.pk, build)


@dataclass(frozen=True)
class EntryChoice:
    """A list entry as a picker offers it: its printed name, other names and grade."""

    name: str
    aliases: tuple[str, ...] = ()
    grade: str = ""
    region_id: int | None = None
    city_id: int | None = None  # the entry's prefecture-level city (its region's, or itself)


def list_choices_cached(code: str) -> tuple[EntryChoice, ...]:
    """The entries of a non-city list in printed order, for a picker; one query per list."""

    def build() -> tuple[EntryChoice, ...]:
        rows = (
            ListEntry.objects.filter(coverage_list__code=code)
            .select_related("region")
            .order_by("line", "id")
        )
        return tuple(
            EntryChoice(
                name=entry.name,
                aliases=tuple(entry_aliases(entry.attributes or {})),
                grade=(entry.attributes or {}).get("等级", ""),
                region_id=entry.region_id,
                city_id=_city_id(entry.region) if entry.region else None,
            )
            for entry in rows
        )

    return _choices.get(code, build)


def _city_id(region: Region) -> int:
    # Entries name a city (or a province when only the province is printed): a county's
    # city is its parent.
    if region.level == Region.Level.COUNTY and region.parent_id is not None:
        return region.parent_id
    return region.id


def region_children(code: str | None) -> list[tuple[str, str]]:
    """(code, name) of the provinces (``code`` None) or of a division's direct children, in
    code order, for the 省/市/区 picker; from the in-memory index, no query."""
    index = region_index_cached()
    return _children.get(
        code or "",
        lambda: sorted(
            (r.code, r.name)
            for r in index.by_code.values()
            if (r.parent_code == code if code else r.level == Region.Level.PROVINCE)
        ),
    )


# --- 我能在哪里用: a list's places and hospitals, searchable ---------------------------------


def list_members_search(coverage_list: CoverageList, query: str) -> QuerySet[CoverageListMember]:
    """The cities (and listed counties) of a city list in printed order, with their
    province loaded, those naming ``query`` in the city, county or province."""
    members = CoverageListMember.objects.filter(coverage_list=coverage_list).select_related(
        "region__parent__parent", "county"
    )
    text = normalise(query)
    if text:
        members = members.filter(
            Q(region__name__contains=text)
            | Q(region__parent__name__contains=text)
            | Q(region__parent__parent__name__contains=text)
            | Q(county__name__contains=text)
            | Q(printed_name__contains=text)
        )
    return members.order_by("line", "id")


def list_entries_search(coverage_list: CoverageList, query: str) -> QuerySet[ListEntry]:
    """The hospitals (pharmacies) of a list in printed order, with their city and province
    loaded, those naming ``query`` in the name, city or province."""
    entries = ListEntry.objects.filter(coverage_list=coverage_list).select_related(
        "region__parent__parent"
    )
    text = normalise(query)
    if text:
        entries = entries.filter(
            Q(name__contains=text)
            | Q(region__name__contains=text)
            | Q(region__parent__name__contains=text)
            | Q(region__parent__parent__name__contains=text)
        )
    return entries.order_by("line", "id")
