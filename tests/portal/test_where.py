"""我能在哪里用: the policyholder finds, on the phone, the cities (with hospital counts) and
the hospitals (with grade and address) of each of their benefits' networks, from the
imported lists; searchable, paginated, linked from every page and from the benefit's form;
another product's benefit answers 404; the page costs a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from coverage.models import CoverageListMember
from tests.factories import policyholder_login

pytestmark = pytest.mark.django_db

OUTPATIENT = "pingan.health.outpatient_assist"  # 附件 city list with hospital counts
MDT = "pingan.health.tumor_mdt"  # a list of named hospitals
OUTPATIENT_LIST = "pingan.health.outpatient_hospitals"


def rows(code: str) -> int:
    return CoverageListMember.objects.filter(coverage_list__code=code).count()


@pytest.fixture
def holder_client(client):
    policy = policy_with_members(
        number="WHERE-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000091"},
    )
    policyholder_login(client, policy.holder)
    client.member = policy.members.get(ref="M1")
    return client


def where(benefit: str) -> str:
    return reverse("portal:where_benefit", args=[benefit])


def test_the_index_lists_the_benefits_with_a_network_and_their_sizes(holder_client):
    page = holder_client.get(reverse("portal:where"))
    assert page.status_code == 200
    assert "门诊协助" in page.text and "肿瘤多学科会诊" in page.text
    assert f"{rows(OUTPATIENT_LIST)}个城市" in page.text  # the outpatient list's imported rows
    assert where(OUTPATIENT) in page.text


def test_every_portal_page_links_to_it(holder_client):
    home = holder_client.get(reverse("portal:home"))
    assert reverse("portal:where") in home.text


def test_the_benefits_form_links_to_its_network(holder_client):
    form = holder_client.get(
        reverse("portal:request_new", args=[holder_client.member.pk, OUTPATIENT])
    )
    assert where(OUTPATIENT) in form.text


def test_a_city_list_shows_province_city_and_hospital_count(holder_client):
    page = holder_client.get(where(OUTPATIENT), {"q": "杭州"})
    assert page.status_code == 200
    assert "浙江省 杭州市" in page.text and "合作医院 46 家" in page.text
    # 建德市, a county-level city of 杭州, is listed on its own line and found too
    assert "找到 2 条" in page.text and "浙江省 杭州市 建德市" in page.text
    assert "湖州市" not in page.text


def test_a_province_finds_its_cities(holder_client):
    page = holder_client.get(where(OUTPATIENT), {"q": "浙江"})
    assert "浙江省 湖州市" in page.text and "浙江省 杭州市" in page.text
    assert "安徽省" not in page.text


def test_the_whole_list_is_paginated_thirty_a_page(holder_client):
    total = rows(OUTPATIENT_LIST)
    pages = -(-total // 30)
    first = holder_client.get(where(OUTPATIENT))
    assert first.text.count('class="where-rows__item"') == 30
    assert f"共 {total} 条" in first.text and f"第 1 / {pages} 页" in first.text
    last = holder_client.get(where(OUTPATIENT), {"page": str(pages)})
    assert last.text.count('class="where-rows__item"') == total - (pages - 1) * 30
    # a page number out of range or not a number shows a page, never an error
    assert holder_client.get(where(OUTPATIENT), {"page": "999"}).status_code == 200
    assert holder_client.get(where(OUTPATIENT), {"page": "x"}).status_code == 200


def test_a_hospital_list_shows_names_and_addresses_and_finds_by_name(holder_client):
    page = holder_client.get(where(MDT))
    assert "上海高博肿瘤医院" in page.text and "台北东路170号" in page.text
    found = holder_client.get(where(MDT), {"q": "力泉"})
    assert "上海力泉医院" in found.text and "上海高博肿瘤医院" not in found.text


def test_nothing_found_says_so_in_chinese(holder_client):
    page = holder_client.get(where(OUTPATIENT), {"q": "火星"})
    assert page.status_code == 200 and "没有找到" in page.text


def test_a_benefit_without_a_network_or_of_another_product_is_404(holder_client):
    assert holder_client.get(where("pingan.health.second_opinion")).status_code == 404
    assert holder_client.get(where("manulife.hywj.ci_outpatient")).status_code == 404


def test_visitors_are_sent_to_log_in(client):
    assert client.get(where(OUTPATIENT))["Location"].startswith("/login/")


@pytest.mark.parametrize("query", ["", "浙江"])
def test_the_page_costs_a_fixed_number_of_queries(
    holder_client, query, django_assert_max_num_queries
):
    holder_client.get(where(OUTPATIENT))  # process memos (terms, list sizes) warm
    with django_assert_max_num_queries(7):
        assert holder_client.get(where(OUTPATIENT), {"q": query}).status_code == 200
    with django_assert_max_num_queries(7):
        assert holder_client.get(reverse("portal:where")).status_code == 200
