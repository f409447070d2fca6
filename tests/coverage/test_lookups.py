"""Whether a place is covered honours the list's scope (urban districts only, the whole
prefecture, or urban districts plus listed counties), says why in Chinese, and costs the same
number of queries whatever the size of the list."""

import pytest

from coverage.models import CoverageList, Region
from coverage.selectors import find_region, list_covers_region, lists_covering

pytestmark = pytest.mark.django_db

URBAN_ONLY = "xiaokang.rsyj.cities_331"  # scope urban_districts; 无锡 on line 83
WHOLE_PREFECTURE = "pingan.health.outpatient_hospitals"  # 无锡市 on line 180
LISTED_COUNTIES = "pingan.health.carer_cities"  # 延边: 延吉 … 和龙 on lines 428–433


def region(code: str) -> Region:
    return Region.objects.select_related("parent__parent").get(code=code)


def covers(list_code: str, region_code: str):
    return list_covers_region(CoverageList.objects.get(code=list_code), region(region_code))


def test_the_lists_under_test_have_the_scopes_the_handbooks_give():
    scopes = dict(
        CoverageList.objects.filter(
            code__in=[URBAN_ONLY, WHOLE_PREFECTURE, LISTED_COUNTIES]
        ).values_list("code", "scope")
    )
    assert scopes == {
        URBAN_ONLY: "urban_districts",
        WHOLE_PREFECTURE: "whole_prefecture",
        LISTED_COUNTIES: "listed_counties",
    }


def test_an_urban_district_of_a_listed_city_is_covered_by_an_urban_only_list():
    answer = covers(URBAN_ONLY, "320205")  # 锡山区
    assert answer.covered
    assert answer.reason == "锡山区属无锡市市区，在名单中（第83行）"
    assert answer.matched_line == 83


@pytest.mark.parametrize(("code", "name"), [("320282", "宜兴市"), ("320281", "江阴市")])
def test_a_county_level_city_of_a_listed_city_is_not_covered_by_an_urban_only_list(code, name):
    answer = covers(URBAN_ONLY, code)
    assert not answer.covered
    assert answer.reason == f"无锡市在名单中，但仅限市区，{name}不在范围内"


def test_the_listed_city_itself_is_covered_by_an_urban_only_list():
    answer = covers(URBAN_ONLY, "320200")
    assert answer.covered
    assert answer.reason == "无锡市在名单中（第83行）"


def test_a_county_of_a_listed_city_is_covered_by_a_whole_prefecture_list():
    answer = covers(WHOLE_PREFECTURE, "320282")  # 宜兴市, under 无锡市
    assert answer.covered
    assert answer.reason == "无锡市在名单中（第180行）"


def test_a_district_of_a_municipality_is_covered_when_the_municipality_is_listed():
    answer = covers(URBAN_ONLY, "110105")  # 北京 朝阳区
    assert answer.covered
    assert "属北京市市区" in answer.reason


def test_a_listed_county_is_covered_by_a_listed_counties_list():
    answer = covers(LISTED_COUNTIES, "222401")  # 延吉市, printed "延边,延吉"
    assert answer.covered
    assert answer.reason == "延吉市在名单中（第428行）"


def test_an_unlisted_county_of_the_same_prefecture_is_not_covered_by_a_listed_counties_list():
    answer = covers(LISTED_COUNTIES, "222424")  # 汪清县, 延边 but not listed
    assert not answer.covered
    assert answer.reason == "汪清县不在“住院陪护服务覆盖城市清单”中"


def test_a_listed_counties_list_covers_the_urban_districts_but_not_the_other_counties():
    # 合肥 is listed on line 3 without counties
    district = covers(LISTED_COUNTIES, "340104")  # 蜀山区
    county = covers(LISTED_COUNTIES, "340123")  # 肥西县
    assert district.covered and district.reason == "蜀山区属合肥市市区，在名单中（第3行）"
    assert not county.covered
    assert county.reason == "合肥市在名单中，但仅限市区及所列区县，肥西县不在范围内"


def test_a_county_level_city_printed_as_a_city_is_covered_on_its_own():
    # axa.zysh.drug_cities prints 宜兴 in its city column (line 32)
    answer = covers("axa.zysh.drug_cities", "320282")
    assert answer.covered
    assert answer.reason == "宜兴市在名单中（第32行）"


@pytest.mark.parametrize(("code", "name"), [("152900", "阿拉善盟"), ("152921", "阿拉善左旗")])
def test_a_place_no_row_names_is_not_covered_and_the_answer_names_the_list(code, name):
    answer = covers(URBAN_ONLY, code)  # 阿拉善 is not among the 331 cities
    assert not answer.covered
    assert answer.reason == f"{name}不在“全国 331 城市清单”中"
    assert answer.matched_line is None


def test_lists_covering_a_renamed_city_include_the_lists_that_printed_its_old_name():
    codes = [cl.code for cl in lists_covering(region("420600"))]  # 襄阳市
    assert codes == [
        "manulife.dmm.advance_cities",  # 襄樊市 and 襄阳市
        "manulife.hywj.advance_network",
        "pingan.health.admission_hospitals",
        "pingan.health.carer_cities",  # 襄樊
        "pingan.health.escort_cities",  # 襄樊市
        "pingan.health.outpatient_hospitals",
        "pingan.health.visit_transport_cities",
        "xiaokang.rsyj.cities_331",
    ]


def test_lists_covering_a_county_leave_out_the_urban_only_lists():
    codes = {cl.code for cl in lists_covering(region("320282"))}  # 宜兴市
    assert WHOLE_PREFECTURE in codes and LISTED_COUNTIES in codes
    assert URBAN_ONLY not in codes
    assert "pingan.health.escort_cities" not in codes  # urban districts only as well


@pytest.mark.parametrize(
    "list_code",
    ["axa.zysh.drug_cities", URBAN_ONLY, LISTED_COUNTIES],  # 76, 331 and 894 members
)
@pytest.mark.parametrize("region_code", ["320282", "320205", "320200", "460300"])
def test_a_coverage_answer_costs_one_query_whatever_the_list_size(
    django_assert_num_queries, list_code, region_code
):
    coverage_list = CoverageList.objects.get(code=list_code)
    place = region(region_code)
    with django_assert_num_queries(1):
        answer = list_covers_region(coverage_list, place)
        assert answer.reason  # reading the reason needs no further query


def test_find_region_accepts_a_code_or_a_unique_official_name_only():
    assert find_region("320282").name == "宜兴市"
    assert find_region("宜兴市").code == "320282"
    assert find_region("朝阳区") is None  # 北京 and 长春 both have one
    assert find_region("宜兴") is None  # no fuzzy match
