"""What a coverage list's admin page adds to the stock form: its rows (searchable, a page at a
time) and the import templates, one per kind of list, with exactly the headers the annex
import expects (``coverage.annex.HEADERS``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import tablib
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from coverage.annex import HEADERS
from coverage.models import CoverageList, CoverageListMember, ListEntry

ROWS_PER_PAGE = 50
TEMPLATE_FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ListRows:
    headers: list[str]
    rows: list[list[Any]]
    page: Page
    query: str
    total: int


def _members(coverage_list: CoverageList, query: str) -> QuerySet[CoverageListMember]:
    rows = coverage_list.members.select_related("region", "county").order_by("line", "pk")
    if query:
        rows = rows.filter(
            Q(printed_name__icontains=query)
            | Q(region__name__icontains=query)
            | Q(county__name__icontains=query)
            | Q(region__code=query)
        )
    return rows


def _entries(coverage_list: CoverageList, query: str) -> QuerySet[ListEntry]:
    rows = coverage_list.entries.select_related("region").order_by("line", "pk")
    if query:
        rows = rows.filter(
            Q(name__icontains=query) | Q(code__icontains=query) | Q(region__name__icontains=query)
        )
    return rows


def list_rows(coverage_list: CoverageList, *, query: str, page: str | None) -> ListRows:
    """One page of the list's rows matching ``query`` (two queries: count and page)."""
    query = query.strip()[:100]
    if coverage_list.kind == CoverageList.Kind.CITY:
        members = Paginator(_members(coverage_list, query), ROWS_PER_PAGE).get_page(page)
        headers = [_("行号"), _("原文名称"), _("城市"), _("区县"), _("医院数量"), _("备注")]
        rows = [
            [
                m.line,
                m.printed_name,
                m.region.name if m.region else "",
                m.county.name if m.county else "",
                "" if m.hospital_count is None else m.hospital_count,
                m.note,
            ]
            for m in members
        ]
        return ListRows(headers, rows, members, query, members.paginator.count)
    entries = Paginator(_entries(coverage_list, query), ROWS_PER_PAGE).get_page(page)
    headers = [_("行号"), _("名称"), _("编号"), _("城市"), _("其他字段")]
    rows = [
        [
            e.line,
            e.name,
            e.code,
            e.region.name if e.region else "",
            "；".join(f"{k}：{v}" for k, v in (e.attributes or {}).items() if v),
        ]
        for e in entries
    ]
    return ListRows(headers, rows, entries, query, entries.paginator.count)


def kind_headers() -> list[tuple[str, list[str]]]:
    """(kind's label, headers) for every kind: what the import page lists."""
    return [(str(label), HEADERS[kind]) for kind, label in CoverageList.Kind.choices]


def import_template(kind: str, file_format: str) -> HttpResponse:
    """An empty annex of ``kind``: its header row only, as XLSX or CSV (UTF-8 with a byte
    order mark, so Excel opens the Chinese headers correctly; the import reads it)."""
    if kind not in HEADERS or file_format not in TEMPLATE_FORMATS:
        raise Http404
    headers = HEADERS[kind]
    filename = f"annex-template-{kind}.{file_format}"
    if file_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(headers)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
    else:
        dataset = tablib.Dataset(headers=headers, title=str(CoverageList.Kind(kind).label))
        response = HttpResponse(dataset.export("xlsx"), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
