"""Printed place names resolve to national division codes by explicit rules: every
reinterpretation is named in Chinese, precedence between namesakes is fixed, and an unknown
name is reported unresolved, never guessed.

Each row names the seed annex (file and line) the printed name comes from."""

import pytest

from coverage.resolver import RegionIndex

# The index fixture is built from the loaded database (tests/coverage/conftest.py).
pytestmark = pytest.mark.django_db


# (annex and line, printed name, column, province cell, city cell,
#  expected status, expected code, words the message must contain)
ROWS = [
    # typos
    ("pingan.health.carer_cities:18", "毫州", "city", "安徽", None, "alias", "341600", "笔误"),
    ("xiaokang.rsyj.cities_331:123", "毫州", "city", "安徽省", None, "alias", "341600", "亳州市"),
    (
        "pingan.health.visit_transport_cities:348",
        "临利县",
        "county",
        "湖北",
        None,
        "alias",
        "421088",
        "笔误",
    ),
    # renamed
    (
        "pingan.health.carer_cities:252",
        "襄樊",
        "city",
        "湖北",
        None,
        "historical",
        "420600",
        "已更名",
    ),
    (
        "manulife.dmm.advance_cities:158",
        "襄樊市",
        "city",
        "湖北省",
        None,
        "historical",
        "420600",
        "襄阳市",
    ),
    (
        "pingan.health.visit_transport_cities:343",
        "襄阳县",
        "county",
        "湖北",
        None,
        "historical",
        "420607",
        "襄州区",
    ),
    (
        "pingan.health.carer_cities:485",
        "蓟县",
        "city",
        "天津",
        None,
        "historical",
        "120119",
        "蓟州区",
    ),
    # merged / abolished
    (
        "manulife.dmm.advance_cities:257",
        "莱芜市",
        "city",
        "山东省",
        None,
        "historical",
        "370116",
        "已撤并",
    ),
    pytest.param(
        "xiaokang.rsyj.cities_331:163",
        "莱芜",
        "city",
        "山东省",
        None,
        "historical",
        "370116",
        "撤并",
        id="莱芜-merged-prefecture",
    ),
    pytest.param(
        "region_aliases.csv (巢湖, downgraded 2011)",
        "巢湖",
        "city",
        "安徽",
        None,
        "historical",
        "340181",
        "降级",
        id="巢湖-downgraded-prefecture",
    ),
    (
        "pingan.health.carer_cities:594",
        "万盛",
        "city",
        "重庆",
        None,
        "historical",
        "500110",
        "綦江区",
    ),
    # a county-level city printed in the city column
    ("axa.zysh.drug_cities:32", "宜兴", "city", "江苏", None, "ok", "320282", "属无锡市"),
    ("pingan.health.carer_cities:653", "江阴", "city", "江苏", None, "ok", "320281", "属无锡市"),
    (
        "manulife.dmm.advance_cities:25",
        "巢湖市",
        "city",
        "安徽省",
        None,
        "ok",
        "340181",
        "属合肥市",
    ),
    # short prefecture names
    ("xiaokang.rsyj.cities_331:67", "延边", "city", "吉林省", None, "ok", "222400", ""),
    ("xiaokang.rsyj.cities_331:279", "凉山", "city", "四川省", None, "ok", "513400", ""),
    (
        "manulife.dmm.advance_cities:172 (short form)",
        "湘西",
        "city",
        None,
        None,
        "ok",
        "433100",
        "",
    ),
    # "X州" short forms
    ("axa.zysh.drug_cities:73", "红河州", "city", "云南", None, "alias", "532500", "简称"),
    (
        "axa.zysh.drug_cities:76",
        "大理州",
        "city",
        "云南",
        None,
        "alias",
        "532900",
        "大理白族自治州",
    ),
    # the wrong suffix
    (
        "pingan.health.outpatient_hospitals:300",
        "日喀则地区",
        "city",
        "西藏自治区",
        None,
        "historical",
        "540200",
        "日喀则市",
    ),
    (
        "pingan.health.outpatient_hospitals:212",
        "阿拉善盟市",
        "city",
        "内蒙古自治区",
        None,
        "alias",
        "152900",
        "阿拉善盟",
    ),
    (
        "pingan.health.carer_cities:178",
        "长垣县",
        "city",
        "河南",
        None,
        "alias",
        "410783",
        "后缀不同",
    ),
    # province names
    (
        "manulife.dmm.advance_cities:72",
        "广西省",
        "province",
        None,
        None,
        "alias",
        "450000",
        "广西壮族自治区",
    ),
    (
        "manulife.dmm.advance_cities:317",
        "新疆自治区",
        "province",
        None,
        None,
        "alias",
        "650000",
        "新疆维吾尔自治区",
    ),
    ("pingan.health.carer_cities:81", "广西", "province", None, None, "ok", "450000", ""),
    # namesakes: the row's province decides, else explicit precedence
    ("xiaokang.rsyj.cities_331:342", "海南", "city", "青海", None, "ok", "632500", ""),
    ("pingan.health.carer_cities:99", "海南", "province", None, None, "ok", "460000", ""),
    ("xiaokang.rsyj.cities_331:342 (no province)", "海南", "city", None, None, "ok", "632500", ""),
    ("xiaokang.rsyj.cities_331:60", "吉林", "city", "吉林省", None, "ok", "220200", ""),
    ("xiaokang.rsyj.cities_331:60 (no province)", "吉林", "city", None, None, "ok", "220200", ""),
    ("xiaokang.rsyj.cities_331:58", "吉林", "province", None, None, "ok", "220000", ""),
    ("xiaokang.rsyj.cities_331:56", "朝阳", "city", "辽宁省", None, "ok", "211300", ""),
    ("xiaokang.rsyj.cities_331:56 (no province)", "朝阳", "city", None, None, "ok", "211300", ""),
    ("北京's county column", "朝阳", "county", "北京", "北京", "ok", "110105", ""),
    ("xiaokang.rsyj.cities_331:300", "大理", "city", "云南省", None, "ok", "532900", ""),
    # a city printed under the wrong province
    (
        "axa.zysh.drug_cities:21",
        "深圳",
        "city",
        "广西",
        None,
        "alias",
        "440300",
        "省份栏为“广西壮族自治区”，“深圳”实属广东省",
    ),
    # a county printed under the wrong city
    (
        "pingan.health.carer_cities:606",
        "都匀市",
        "county",
        "贵州",
        "黔西南布依族苗族自治州",
        "alias",
        "522701",
        "不属黔西南布依族苗族自治州，实属黔南布依族苗族自治州",
    ),
    (
        "pingan.health.carer_cities:501",
        "乌苏市",
        "county",
        "新疆",
        "伊犁",
        "alias",
        "654202",
        "实属塔城地区",
    ),
    # a county-suffixed name goes to a city only through the alias table
    (
        "pingan.health.visit_transport_cities:170",
        "邢台县",
        "county",
        "河北",
        None,
        "historical",
        "130500",
        "已撤并",
    ),
]


def _context(index: RegionIndex, province: str | None, city: str | None):
    province_record = index.resolve_province(province) if province else None
    city_record = (
        index.resolve(city, column="city", province=province_record).region if city else None
    )
    return province_record, city_record


@pytest.mark.parametrize(
    ("annex", "printed", "column", "province", "city", "status", "code", "words"), ROWS
)
def test_tricky_names_from_the_seed_annexes_resolve_as_documented(
    index, annex, printed, column, province, city, status, code, words
):
    # given the row's province and city cells, as the importer reads them
    province_record, city_record = _context(index, province, city)

    # when the printed name is resolved in its column
    result = index.resolve(printed, column=column, province=province_record, city=city_record)

    # then it lands on the expected division, with the reinterpretation named
    assert (result.status, result.region_code) == (status, code), (annex, result.message)
    assert words in result.message
    if status != "ok":
        assert result.message, annex


def test_a_renamed_city_says_since_when_the_old_name_is_out_of_use(index):
    result = index.resolve("襄樊", column="city")
    assert result.canonical_name == "襄阳市"
    assert result.message == "“襄樊”已更名（2010年12月起停用），按“襄阳市”处理"


def test_abolished_prefectures_still_land_on_their_successor_division(index):
    # The successor division and the city it belongs to are named.
    chaohu = index.resolve("巢湖", column="city")
    laiwu = index.resolve("莱芜", column="city", province=index.resolve_province("山东"))
    assert (chaohu.region_code, laiwu.region_code) == ("340181", "370116")
    assert "合肥市" in chaohu.message
    assert "济南市" in laiwu.message


def test_an_x_zhou_short_form_resolves_even_without_an_alias_row(index):
    # given an index without the alias table
    bare = RegionIndex(index.by_code.values(), ())

    # when 红河州 (axa.zysh.drug_cities line 73) is resolved
    result = bare.resolve("红河州", column="city")

    # then the 州 rule still finds the autonomous prefecture, and says it was a short form
    assert (result.status, result.region_code) == ("alias", "532500")
    assert "为简称" in result.message


def test_a_county_suffixed_name_never_falls_back_to_the_city_of_the_same_stem(index):
    # given an index without the alias table
    bare = RegionIndex(index.by_code.values(), ())

    # when 邢台县 (pingan.health.visit_transport_cities line 170) is resolved as a county
    result = bare.resolve("邢台县", column="county", province=bare.resolve_province("河北"))

    # then it is not silently taken for 邢台市
    assert result.status == "unresolved"
    assert result.region is None
    assert "邢台县" in result.message


def test_a_county_name_that_does_not_exist_is_not_taken_for_its_city(index):
    result = index.resolve("衡水县", column="county", province=index.resolve_province("河北"))
    assert result.status == "unresolved"
    assert result.region_code is None


@pytest.mark.parametrize("printed", ["襄阳X", "不存在市", "襄阳市X", "北京市火星区"])
def test_unknown_names_are_unresolved_with_a_chinese_message_never_a_fuzzy_guess(index, printed):
    result = index.resolve(printed, column="city")
    assert result.status == "unresolved"
    assert result.region is None and result.canonical_name is None
    assert result.message == f"找不到“{printed}”，请核对名称或在后台添加别名"


def test_an_ambiguous_district_name_without_context_is_unresolved_and_lists_the_candidates(
    index,
):
    # 朝阳区 exists in 北京 and in 长春: without a province nobody can tell which one.
    result = index.resolve("朝阳区", column="county")
    assert result.status == "unresolved"
    assert "有多个同名区划" in result.message
    assert "北京市朝阳区" in result.message and "吉林省长春市朝阳区" in result.message
    assert [r.code for r in result.candidates] == ["110105", "220104"]


def test_an_ambiguous_district_in_a_city_column_is_not_taken_for_the_city_of_that_name(index):
    # 朝阳市 is in 辽宁; "朝阳区" names a district, so it is ambiguous, not 朝阳市.
    result = index.resolve("朝阳区", column="city")
    assert result.status == "unresolved"
    assert {r.code for r in result.candidates} == {"110105", "220104"}


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("北京市朝阳区", "110105"),
        ("北京朝阳", "110105"),
        ("上海市浦东新区", "310115"),
        ("杭州市上城区", "330102"),
        ("浙江省杭州市上城区", "330102"),
        ("吉林省长春市朝阳区", "220104"),
        ("吉林省吉林市", "220200"),
        ("南京鼓楼区", "320106"),
    ],
)
def test_a_name_written_with_its_province_or_city_resolves_inside_them(index, printed, code):
    assert index.resolve(printed, column="city").region_code == code


def test_a_name_with_its_province_that_still_fits_two_places_lists_both(index):
    result = index.resolve("江苏鼓楼区", column="city")
    assert result.status == "unresolved"
    assert "江苏省南京市鼓楼区" in result.message and "江苏省徐州市鼓楼区" in result.message


def test_the_same_name_resolves_by_the_province_printed_on_the_row(index):
    beijing = index.resolve("朝阳区", column="county", province=index.resolve_province("北京"))
    jilin = index.resolve("朝阳区", column="county", province=index.resolve_province("吉林"))
    assert (beijing.region_code, jilin.region_code) == ("110105", "220104")


def test_spaces_the_pdf_extraction_put_inside_names_are_ignored(index):
    result = index.resolve("襄 阳\u3000市", column="city")
    assert (result.status, result.region_code) == ("ok", "420600")


def test_group_headings_are_not_taken_for_provinces(index):
    assert index.resolve_province("直辖市") is None
    assert index.resolve_province("一线城市") is None
