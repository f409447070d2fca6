"""Issue 14, the time kinds, through the staff eligibility API (HTTP): a pass, a fail and the
boundary per benefit that uses each new kind, every row citing the handbook clause its rule
quotes. The rows run on ``test_rule_table``'s machinery (same bases, same assertions).

- ``outside_service_hours`` (new reason code): 平安 陪诊 "就医时间需为非法定节假日的白天时段"
  (白天 read as 8:00–18:00, the end excluded); 安盛 博鳌 "咨询/申请时间：7x24 小时".
- ``waiting_period.measured_on: admission``: 平安 住院陪护 6.5.2 "在主险等待期后……发生住院
  可申请" (policy effective 2 January 2026, 30 days inclusive: the last day is 31 January).
- the in-stay windows of 平安 住院陪护 ("入院前或住院期间申请", served during the stay).
- 中宏 宏悦万家 异地就医补贴 "住院以出院当日起计算时效": the discharge day is not counted.
- ``coverage_mode`` tier: 小康 出院综合评估, onsite inside the 331 cities, remote outside.
- ``limits.period: window_month``: 中宏 上门康复指导 "每月1次，为期3个月".
- ``fare_class_not_covered`` (new reason code): 中宏 异地就医补贴 "火车费（高铁/动车仅限二等座）、
  飞机费（仅限经济舱）", checked on the fares the claim carries.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from benefits.quota.entitlements import window_month
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import make_policy
from tests.benefits.test_rule_table import Row, at, ctx, stay, t
from tests.benefits.test_rule_table import test_rule_table as check_row

ask = support.ask  # fixtures
fresh_memos = support.fresh_memos

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]

DAYTIME = "非法定节假日的白天时段"
FARES = "仅限二等座"
TRAIN = "火车（高铁/动车）"


def fares(*pairs: tuple[str, str]) -> dict:
    return ctx(fares=[{"transport": t_, "travel_class": c} for t_, c in pairs])


IN_STAY = "入院前或住院期间"
CARER_STAY = {"region": "110101", "admitted_on": "2026-06-01"}

ROWS = [
    # --- fare_class_not_covered: 中宏 DMM and 宏悦万家 异地就医补贴 ------------------------
    Row("fare_class_not_covered", "pass", "travel", FARES, change=fares((TRAIN, "二等座"))),
    Row(  # a transport without a class rule (自驾) and an economy flight
        "fare_class_not_covered",
        "boundary",
        "travel",
        FARES,
        change=fares(("自驾", "加油费"), ("飞机", "经济舱")),
    ),
    Row(
        "fare_class_not_covered",
        "fail",
        "travel",
        FARES,
        change=fares((TRAIN, "一等座"), ("飞机", "经济舱")),
        expect=("fare_class_not_covered",),
        message="火车（高铁/动车）仅限二等座，本次为一等座",
    ),
    Row("fare_class_not_covered", "pass", "travel_hywj", FARES, change=fares(("飞机", "经济舱"))),
    Row(
        "fare_class_not_covered",
        "fail",
        "travel_hywj",
        FARES,
        change=fares(("飞机", "商务舱")),
        expect=("fare_class_not_covered",),
        message="飞机仅限经济舱，本次为商务舱",
    ),
    # --- outside_service_hours: 平安 陪诊 (booked 4 June 2026, a Thursday) ----------------
    Row("outside_service_hours", "pass", "escort", DAYTIME),  # 10:00
    Row(
        "outside_service_hours",
        "boundary",
        "escort",
        DAYTIME,
        change=ctx(planned_at=t("2026-06-04", 8)),
    ),
    Row(  # 18:00 itself is no longer daytime: the end is excluded
        "outside_service_hours",
        "boundary",
        "escort",
        DAYTIME,
        change=ctx(planned_at=t("2026-06-04", 18)),
        expect=("outside_service_hours",),
        message=(
            "预约的服务时间须在非法定节假日的白天时段（8:00-18:00）内，2026年6月4日 18:00 不在其内"
        ),
    ),
    Row(  # a night appointment (夜间急诊)
        "outside_service_hours",
        "fail",
        "escort",
        DAYTIME,
        change=ctx(planned_at=t("2026-06-04", 20)),
        expect=("outside_service_hours",),
        message="2026年6月4日 20:00 不在其内",
    ),
    Row(  # 国庆节, a statutory holiday, even in daytime
        "outside_service_hours",
        "fail",
        "escort",
        DAYTIME,
        change={"at": t("2026-09-25"), "context": {"planned_at": t("2026-10-01")}},
        expect=("outside_service_hours",),
        message="2026年10月1日 10:00 不在其内",
    ),
    Row(  # a Saturday is not a statutory holiday
        "outside_service_hours",
        "pass",
        "escort",
        DAYTIME,
        change=ctx(planned_at=t("2026-06-06", 9)),
    ),
    # 安盛 博鳌: applications are taken at any hour, a night of a holiday included
    Row("outside_service_hours", "pass", "boao", "7x24 小时", change=at("2026-06-01", hour=3)),
    Row("outside_service_hours", "boundary", "boao", "7x24 小时", change=at("2026-06-01", hour=0)),
    # --- waiting_period on the admission date: 平安 住院陪护 6.5.2 ------------------------
    Row("waiting_period", "pass", "carer_7d", "在主险等待期后"),
    Row(
        "waiting_period",
        "boundary",
        "carer_7d",
        "在主险等待期后",
        change=stay(admitted_on="2026-02-01"),
    ),
    Row(  # admitted on the last day of the waiting period, applying months later
        "waiting_period",
        "boundary",
        "carer_7d",
        "在主险等待期后",
        change=stay(admitted_on="2026-01-31"),
        expect=("waiting_period",),
        message="等待期至2026年1月31日结束，本次住院于2026年1月31日入院，须为等待期后发生的住院",
    ),
    Row(
        "waiting_period",
        "fail",
        "carer_7d",
        "在主险等待期后",
        change=stay(admitted_on="2026-01-10"),
        expect=("waiting_period",),
        message="本次住院于2026年1月10日入院",
    ),
    # --- outside_window: the stay of 平安 住院陪护 ----------------------------------------
    Row(  # discharged on the day of the service: still inside the stay
        "outside_window",
        "boundary",
        "carer_7d",
        IN_STAY,
        change=stay(admitted_on="2026-06-01", discharged_on="2026-06-02"),
    ),
    Row(  # discharged before applying: no after-the-fact service (the use is kept)
        "outside_window",
        "fail",
        "carer_7d",
        "住院期间",  # both windows: the application's and the service's
        change=stay(admitted_on="2026-05-20", discharged_on="2026-05-31"),
        expect=("outside_window", "outside_window"),
        message="已超过时限（2026年5月31日）",
    ),
    Row(  # applying before admission is allowed; the service waits for the admission
        "outside_window",
        "fail",
        "carer_7d",
        "住院期间",
        change=stay(admitted_on="2026-06-03"),
        expect=("outside_window",),
        message="须在2026年6月3日及以后使用",
    ),
    Row(  # applied before admission, served from the admission day
        "outside_window",
        "pass",
        "carer_7d",
        IN_STAY,
        change={
            "context": {
                "planned_at": t("2026-06-03"),
                "hospitalisation": {**CARER_STAY, "admitted_on": "2026-06-03"},
            }
        },
    ),
    # --- filing_deadline: 中宏 宏悦万家 "住院以出院当日起计算时效" (discharged Monday 1 June) --
    Row(  # the 10th working day after the discharge day: Monday 15 June, to its end
        "filing_deadline",
        "boundary",
        "travel_hywj",
        "住院以出院当日起计算时效",
        change={
            "at": t("2026-06-15", 23),
            **stay(admitted_on="2026-05-25", discharged_on="2026-06-01"),
        },
    ),
    Row(
        "filing_deadline",
        "fail",
        "travel_hywj",
        "住院以出院当日起计算时效",
        change={
            "at": t("2026-06-16", 9),
            **stay(admitted_on="2026-05-25", discharged_on="2026-06-01"),
        },
        expect=("filing_deadline",),
        message="截至2026年6月15日",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.code}-{r.case}-{i}" for i, r in enumerate(ROWS)])
def test_time_kind_rows(row: Row, ask):
    check_row(row, ask)


def assessment(ask, region: str | None):
    """The 小康 出院综合评估 answer for a stay in ``region`` (None: no place given)."""
    policy = make_policy("xiaokang.rsyj", expires_on=date(2036, 1, 1), waiting_days=None)
    hospitalisation = {"admitted_on": "2026-05-28"}
    if region:
        hospitalisation["region"] = region
    body = {
        "policy": policy.number,
        "member": "M1",
        "benefit": "xiaokang.rsyj.rehab_guide",
        "at": t("2026-06-01"),
        "context": {"planned_at": t("2026-06-02"), "hospitalisation": hospitalisation},
    }
    response = ask(body)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("region", "code", "mode"),
    [
        (
            "330106",
            "assessment_mode.inside",
            "现场评估（服务人员前往住院医院或居住地）",
        ),  # 杭州西湖区
        ("330127", "assessment_mode.outside", "远程评估"),  # 淳安县: outside the urban districts
    ],
)
def test_the_331_cities_decide_onsite_or_remote_assessment_not_eligibility(ask, region, code, mode):
    # 四、（二）1.1 a/b: inside the 331 cities' urban districts onsite, outside remote
    answer = assessment(ask, region)

    assert answer["tier"]["code"] == code
    assert mode in answer["tier"]["message"]
    assert "1.1 a." in answer["tier"]["clause"]
    assert "not_in_network" not in [r["code"] for r in answer["reasons"]]


def test_without_a_place_no_assessment_mode_is_guessed(ask):
    assert assessment(ask, None)["tier"] is None


@pytest.mark.parametrize(
    ("on", "month"),
    [
        (date(2026, 3, 15), date(2026, 3, 15)),  # the opening day starts month 1
        (date(2026, 4, 14), date(2026, 3, 15)),  # the last day of month 1
        (date(2026, 4, 15), date(2026, 4, 15)),  # boundary: month 2 begins
        (date(2026, 6, 14), date(2026, 5, 15)),  # month 3, the window's last day
    ],
)
def test_each_month_of_the_home_visit_window_is_its_own_pool(on, month):
    # 中宏 院后居家上门康复指导 "每月1次，为期3个月": one request a month from the start
    assert window_month(date(2026, 3, 15), on) == month


def test_the_home_visit_carries_one_request_a_month_inside_three_times_in_three_months():
    from benefits.models import Benefit

    terms = Benefit.objects.get(code="manulife.dmm.post_discharge_care.home_guidance").parsed_terms
    assert [(lim.kind, lim.amount, lim.period) for lim in terms.quota.limits] == [
        ("requests", Decimal(1), "window_month")
    ]
    assert "每月1次" in terms.quota.clause
