"""The staff coverage API: only staff get in; lists come with their sizes in a fixed number of
queries; a name resolves by the import rules; "is this place covered" answers with a reason;
errors are JSON with a stable code."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits.models import Insurer
from coverage.models import CoverageList, CoverageListMember, Region
from portal.kernel.staff_auth import staff_token_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/staff/v1/coverage"


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


# --- who gets in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/lists",
        f"{API}/resolve?name=襄樊",
        f"{API}/lists/xiaokang.rsyj.cities_331/covers?region=320205",
    ],
)
def test_anonymous_callers_are_refused_with_not_authenticated(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logged_in_non_staff_users_are_refused(client):
    client.force_login(UserFactory())
    response = client.get(f"{API}/lists")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_staff_system_reads_the_lists_with_its_token(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="eligibility")
    response = client.get(f"{API}/lists", headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 200


# --- /coverage/lists ------------------------------------------------------------------------


def test_lists_returns_every_list_with_its_member_count_and_hospital_total(staff_client):
    response = staff_client.get(f"{API}/lists")

    assert response.status_code == 200
    lists = {item["code"]: item for item in response.json()}
    assert set(lists) == set(CoverageList.objects.values_list("code", flat=True))
    outpatient = lists["pingan.health.outpatient_hospitals"]
    assert (outpatient["member_count"], outpatient["hospital_total"]) == (343, 3213)
    admission = lists["pingan.health.admission_hospitals"]
    assert (admission["member_count"], admission["hospital_total"]) == (344, 3399)
    assert lists["xiaokang.rsyj.cities_331"]["member_count"] == 331
    assert lists["xiaokang.rsyj.cities_331"]["hospital_total"] is None
    drugs = lists["axa.zysh.domestic_drugs"]
    assert (drugs["kind"], drugs["member_count"], drugs["entry_count"]) == ("drug", 0, 103)
    assert outpatient["insurer"] == "pingan"
    assert outpatient["scope"] == "whole_prefecture"
    assert outpatient["imported_at"] is not None
    assert lists["manulife.dmm.green_channel_network"]["imported_at"] is None


def test_lists_costs_the_same_number_of_queries_however_many_lists_and_members(staff_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(f"{API}/lists").status_code == 200
        return len(captured.captured_queries)

    queries()  # the first call also fills the process memos of the user's roles and insurers
    before = queries()

    # given one more list, with members
    extra = CoverageList.objects.create(
        code="test.extra_cities",
        title="测试城市名单",
        kind="city",
        insurer=Insurer.objects.get(code="pingan"),
        source="测试",
    )
    cities = Region.objects.filter(level=2)[:50]
    CoverageListMember.objects.bulk_create(
        CoverageListMember(
            coverage_list=extra, region=city, hospital_count=2, printed_name=city.name, line=n
        )
        for n, city in enumerate(cities, start=2)
    )

    assert queries() == before
    assert before <= 3  # session, user, and the lists with their sizes in one query
    extra_item = next(
        i for i in staff_client.get(f"{API}/lists").json() if i["code"] == "test.extra_cities"
    )
    assert (extra_item["member_count"], extra_item["hospital_total"]) == (50, 100)


# --- /coverage/resolve ----------------------------------------------------------------------


def test_resolve_names_the_old_name_of_a_renamed_city(staff_client):
    response = staff_client.get(f"{API}/resolve", {"name": "襄樊"})
    assert response.status_code == 200
    assert response.json() == {
        "status": "historical",
        "input_name": "襄樊",
        "region_code": "420600",
        "canonical_name": "襄阳市",
        "message": "“襄樊”已更名（2010年12月起停用），按“襄阳市”处理",
        "candidates": [],
    }


@pytest.mark.parametrize(
    ("name", "code", "canonical"),
    [
        ("北京市朝阳区", "110105", "朝阳区"),
        ("上海市浦东新区", "310115", "浦东新区"),
        ("杭州市上城区", "330102", "上城区"),
        ("浙江省杭州市上城区", "330102", "上城区"),
    ],
)
def test_resolve_reads_a_district_written_with_its_city(staff_client, name, code, canonical):
    response = staff_client.get(f"{API}/resolve", {"name": name})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["region_code"], body["canonical_name"]) == ("ok", code, canonical)


def test_resolve_reads_a_bare_district_inside_the_province_given(staff_client):
    body = staff_client.get(f"{API}/resolve", {"name": "朝阳区", "province": "北京"}).json()
    assert (body["region_code"], body["canonical_name"]) == ("110105", "朝阳区")


def test_resolve_reports_a_bare_district_several_places_share_with_its_candidates(staff_client):
    # Not 朝阳市 in 辽宁: "朝阳区" names a district, and two provinces have one.
    response = staff_client.get(f"{API}/resolve", {"name": "朝阳区"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["region_code"]) == ("unresolved", None)
    assert "有多个同名区划" in body["message"]
    assert body["candidates"] == [
        {"code": "110105", "name": "朝阳区", "full_name": "北京市朝阳区"},
        {"code": "220104", "name": "朝阳区", "full_name": "吉林省长春市朝阳区"},
    ]


def test_resolve_reports_an_unknown_name_as_unresolved_without_guessing(staff_client):
    response = staff_client.get(f"{API}/resolve", {"name": "襄阳X"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "unresolved"
    assert body["region_code"] is None and body["canonical_name"] is None
    assert body["message"] == "找不到“襄阳X”，请核对名称或在后台添加别名"


def test_resolve_uses_the_province_hint_to_choose_between_namesakes(staff_client):
    qinghai = staff_client.get(f"{API}/resolve", {"name": "海南", "province": "青海"}).json()
    beijing = staff_client.get(f"{API}/resolve", {"name": "朝阳", "province": "北京"}).json()
    alone = staff_client.get(f"{API}/resolve", {"name": "朝阳"}).json()
    assert (qinghai["region_code"], qinghai["canonical_name"]) == ("632500", "海南藏族自治州")
    assert beijing["region_code"] == "110105"
    assert alone["region_code"] == "211300"


def test_resolve_refuses_a_blank_name_with_invalid_input(staff_client):
    response = staff_client.get(f"{API}/resolve", {"name": "  "})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_input", "message": "请提供地名 name"}


def test_resolve_without_a_name_is_invalid_input(staff_client):
    response = staff_client.get(f"{API}/resolve")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


# --- /coverage/lists/{code}/covers ---------------------------------------------------------


def test_covers_answers_covered_with_the_line_that_matched(staff_client):
    response = staff_client.get(
        f"{API}/lists/xiaokang.rsyj.cities_331/covers", {"region": "320205"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "list": "xiaokang.rsyj.cities_331",
        "covered": True,
        "reason": "锡山区属无锡市市区，在名单中（第83行）",
        "region": {"code": "320205", "name": "锡山区"},
        "matched_line": 83,
    }


def test_covers_answers_not_covered_with_the_reason_by_name(staff_client):
    response = staff_client.get(
        f"{API}/lists/xiaokang.rsyj.cities_331/covers", {"region": "宜兴市"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["covered"] is False
    assert body["reason"] == "无锡市在名单中，但仅限市区，宜兴市不在范围内"
    assert body["region"] == {"code": "320282", "name": "宜兴市"}


def test_covers_accepts_an_old_name_as_the_region(staff_client):
    response = staff_client.get(f"{API}/lists/pingan.health.escort_cities/covers?region=襄樊")
    body = response.json()
    assert body["covered"] is True
    assert body["region"] == {"code": "420600", "name": "襄阳市"}


def test_covers_for_an_unknown_list_is_a_json_404_not_found(staff_client):
    response = staff_client.get(f"{API}/lists/no.such.list/covers", {"region": "320205"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("text", "why"),
    [("不存在区", "找不到“不存在区”"), ("999999", "找不到“999999”"), ("朝阳区", "有多个同名区划")],
)
def test_covers_for_an_unknown_or_ambiguous_region_is_a_404_that_says_why(staff_client, text, why):
    response = staff_client.get(f"{API}/lists/xiaokang.rsyj.cities_331/covers", {"region": text})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "region_not_found"
    assert why in body["message"]


def test_covers_for_a_list_that_is_not_a_city_list_is_a_400(staff_client):
    response = staff_client.get(f"{API}/lists/axa.zysh.domestic_drugs/covers", {"region": "320205"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "not_a_city_list"
    assert "不是城市名单" in body["message"]
