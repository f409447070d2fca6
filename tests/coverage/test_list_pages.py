"""A coverage list's admin page shows its rows (searchable, a page at a time), offers an
import template per kind with the headers the import expects, and the import page speaks
proper Chinese."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from coverage.annex import HEADERS, read_table
from coverage.models import CoverageList
from coverage.services import annex_import
from tests.factories import staff_member

pytestmark = pytest.mark.django_db
LIST_CODE = "pingan.health.escort_cities"
# session, user, memberships and permissions, the list, its rows' count and page, the
# change history link, admin's form lookups …
CHANGE_PAGE_BUDGET = 10


def city_rows(count: int) -> bytes:
    cities = ["无锡", "南京", "苏州", "常州", "南通", "扬州", "镇江", "泰州", "徐州", "盐城"]
    lines = ["省份,城市,区县,医院数量,备注"]
    lines += [f"江苏,{cities[i % len(cities)]},,{i + 1},第{i}行" for i in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def city_list():
    coverage_list = CoverageList.objects.get(code=LIST_CODE)
    annex_import(
        coverage_list=coverage_list, content=city_rows(10), filename="cities.csv", dry_run=False
    )
    return coverage_list


@pytest.fixture
def pingan_supervisor(client):
    client.force_login(staff_member("supervisor", ["pingan"]))


def change_url(coverage_list: CoverageList) -> str:
    return reverse("admin:coverage_coveragelist_change", args=[coverage_list.pk])


def test_the_list_page_shows_its_rows_and_finds_one(
    client, pingan_supervisor, city_list, django_assert_max_num_queries
):
    with django_assert_max_num_queries(CHANGE_PAGE_BUDGET):
        page = client.get(change_url(city_list)).content.decode()
    assert "名单内容（10 行）" in page
    assert "第3行" in page and "苏州" in page

    found = client.get(change_url(city_list), {"q": "扬州"}).content.decode()
    assert "名单内容（1 行）" in found
    assert "第5行" in found and "第3行" not in found


def test_a_long_list_is_shown_a_page_at_a_time(client, pingan_supervisor, city_list, monkeypatch):
    monkeypatch.setattr("coverage.list_pages.ROWS_PER_PAGE", 4)  # 10 rows: 3 pages
    first = client.get(change_url(city_list)).content.decode()
    assert "第 1 / 3 页" in first and "第0行" in first and "第4行" not in first
    third = client.get(change_url(city_list), {"p": "3"}).content.decode()
    assert "第 3 / 3 页" in third and "第9行" in third and "第0行" not in third


@pytest.mark.parametrize("kind", list(HEADERS))
def test_each_kind_has_an_xlsx_and_a_csv_template_with_the_headers_the_import_reads(
    client, pingan_supervisor, kind
):
    url = reverse("admin:coverage_coveragelist_import_template")
    xlsx = client.get(url, {"kind": kind, "format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows())] == HEADERS[kind]

    csv = client.get(url, {"kind": kind, "format": "csv"})
    assert csv["Content-Disposition"] == f'attachment; filename="annex-template-{kind}.csv"'
    # the template with one row filled in is what the import accepts
    filled = csv.content + ",".join(["1"] * len(HEADERS[kind])).encode() + b"\n"
    assert read_table(filled, "filled.csv", kind).headers == HEADERS[kind]


def test_an_unknown_kind_of_template_is_404(client, pingan_supervisor):
    url = reverse("admin:coverage_coveragelist_import_template")
    assert client.get(url, {"kind": "spaceship"}).status_code == 404


def test_an_operator_who_may_not_import_gets_no_template(client):
    client.force_login(staff_member("operator", ["pingan"]))
    url = reverse("admin:coverage_coveragelist_import_template")
    assert client.get(url).status_code == 403


def test_the_import_page_lists_each_kinds_headers_and_its_templates(client, pingan_supervisor):
    page = client.get(reverse("admin:coverage_coveragelist_import")).content.decode()
    assert "导入文件应包含以下表头：" in page
    assert "省份, 城市, 区县, 医院数量, 备注" in page
    assert "import-template/?kind=hospital&amp;format=xlsx" in page
    assert "此次将导入以下字段：" not in page


def test_a_failed_import_says_so_in_proper_chinese(client, pingan_supervisor, city_list):
    bad = io.BytesIO("省份,城市,区县,医院数量,备注\n江苏,不存在的城市,,1,\n".encode())
    bad.name = "bad.csv"
    response = client.post(
        reverse("admin:coverage_coveragelist_import"),
        {"coverage_list": city_list.pk, "import_file": bad, "format": "0"},
    )
    page = response.content.decode()
    assert "部分行未通过校验" in page
    assert "某些行验数据证失败" not in page


def test_another_insurers_list_answers_404(client, pingan_supervisor):
    other = CoverageList.objects.exclude(insurer__code="pingan").exclude(insurer=None).first()
    assert client.get(change_url(other)).status_code == 404
