"""Fulfilment tiers: the plain functions with their boundaries, then the tier in the answer of
POST /api/staff/v1/eligibility for real catalogue benefits, in Chinese with the numbers."""

from datetime import date
from decimal import Decimal

import pytest

from benefits.eligibility.tiers import (
    AdvanceInput,
    TierFacts,
    fulfilment_tier,
    great_circle_km,
)
from benefits.models import Benefit
from benefits.terms.benefit_terms import parse_terms
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import Insured, ledger, make_policy

ask = support.ask  # fixtures
fresh_memos = support.fresh_memos


def catalogue_terms(code: str):
    return Benefit.objects.get(code=code).parsed_terms


# --- the plain functions ----------------------------------------------------------------


def test_great_circle_distance_is_in_whole_kilometres_rounded_half_up():
    # 上海市 and 泰州市 centres, from the region data: 200.03 km apart
    shanghai = (Decimal("31.230372"), Decimal("121.473662"))
    taizhou = (Decimal("32.455536"), Decimal("119.922933"))
    assert great_circle_km(shanghai, taizhou) == Decimal(200)
    assert great_circle_km(shanghai, shanghai) == Decimal(0)
    # 天津市 and 滨州市: 200.86 km
    assert great_circle_km(
        (Decimal("39.084158"), Decimal("117.200983")), (Decimal("37.381980"), Decimal("117.970699"))
    ) == Decimal(201)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("km", "code", "words"),
    [
        (Decimal(0), "short_haul", "行驶距离0公里"),
        (Decimal(200), "short_haul", "属200公里以内（含）"),  # 9.4 "200 公里以内（含）"
        (Decimal(201), "long_haul", "属超过200公里：承担客户及一名家属"),
    ],
)
def test_discharge_transport_is_a_car_within_200_km_inclusive_and_a_ticket_beyond(km, code, words):
    tier = fulfilment_tier(
        catalogue_terms("pingan.health.discharge_transport"), TierFacts(distance_km=km)
    )
    assert tier is not None
    assert (tier.code, tier.kind) == (code, "distance")
    assert words in tier.message
    assert tier.clause.startswith("9.4")


@pytest.mark.django_db
def test_a_distance_beyond_the_only_tier_has_no_tier():
    # 中宏 院后交通 is "限 200 公里以内": nothing is printed for farther
    terms = catalogue_terms("manulife.dmm.post_discharge_care.transport")
    assert fulfilment_tier(terms, TierFacts(distance_km=Decimal(200))).code == "within_200km"
    assert fulfilment_tier(terms, TierFacts(distance_km=Decimal(201))) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "code"),
    [
        # 9.4 "以最短实际交通行驶路线为准": 215 km by road is over, whatever the line says
        (TierFacts(distance_km=Decimal(215), straight_km=Decimal(185)), "long_haul"),
        # a straight line of 185 km proves nothing about the road: to be confirmed
        (TierFacts(straight_km=Decimal(185)), "to_be_confirmed"),
        (TierFacts(straight_km=Decimal(12)), "to_be_confirmed"),
        # a straight line over 200 km proves the road is over 200 km too
        (TierFacts(straight_km=Decimal(201)), "long_haul"),
    ],
)
def test_the_tier_is_decided_on_the_road_and_a_straight_line_proves_only_over(facts, code):
    tier = fulfilment_tier(catalogue_terms("pingan.health.discharge_transport"), facts)

    assert tier is not None
    assert tier.code == code
    if code == "to_be_confirmed":
        assert tier.label == "待核实行驶距离"
        assert "须按最短实际行驶路线核实" in tier.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("city", "code", "message"),
    [
        (
            "北京市",
            "tier1_cities",
            "北京市适用一线城市护工费用补贴：每天不超过300元，最多7天，合计不超过2100元",
        ),
        ("深圳市", "tier1_cities", "合计不超过2100元"),
        (
            "成都市",
            "other_cities",
            "成都市适用其他城市护工费用补贴：每天不超过250元，最多7天，合计不超过1750元",
        ),
    ],
)
def test_the_carer_subsidy_rate_depends_on_the_city(city, code, message):
    tier = fulfilment_tier(
        catalogue_terms("pingan.health.inpatient_carer_7d"), TierFacts(city=city)
    )
    assert tier.code == code
    assert message in tier.message


@pytest.mark.django_db
def test_the_carer_subsidy_needs_the_city():
    terms = catalogue_terms("pingan.health.inpatient_carer_7d")
    assert fulfilment_tier(terms, TierFacts()) is None


ADVANCE = "pingan.health.inpatient_advance"


def advance(total, ratio, insurance=0, deductible=0, *, left=None) -> AdvanceInput:
    return AdvanceInput(
        estimated_total=Decimal(total),
        payout_ratio=Decimal(ratio),
        medical_insurance=Decimal(insurance),
        deductible=Decimal(deductible),
        sum_insured_left=Decimal(left) if left is not None else None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "amount", "capped"),
    [
        # (50000 − 20000 − 10000) × 0.8
        (advance(50000, "0.8", 20000, 10000), "16000", False),
        # never above the sum insured left
        (advance(50000, "0.8", 20000, 10000, left=15000), "15000", True),
        # exactly the sum insured left is not capped
        (advance(50000, "0.8", 20000, 10000, left=16000), "16000", False),
        # what insurance and the deductible cover leaves nothing to advance
        (advance(9000, "0.9", 5000, 5000), "0", False),
        # to the fen
        (advance("1000.01", "0.55"), "550.01", False),
    ],
)
def test_the_advance_follows_the_handbook_formula_capped_by_the_sum_insured(given, amount, capped):
    tier = fulfilment_tier(catalogue_terms(ADVANCE), TierFacts(advance=given))
    assert tier.details["amount"] == amount
    assert tier.details["capped"] is capped
    assert tier.message.startswith(f"可垫付{amount}元 =（预计就医总金额")
    assert "不含首次押金" in tier.message
    assert ("以剩余保额" in tier.message) is capped


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "code"), [(Decimal("1999.99"), None), (Decimal(2000), "special_disease_drug_review")]
)
def test_a_drug_from_2000_cny_needs_the_prescription_review(amount, code):
    tier = fulfilment_tier(catalogue_terms("pingan.health.drug_service"), TierFacts(amount=amount))
    assert (tier.code if tier else None) == code
    if tier:
        assert "未按流程审核的按60%赔付" in tier.message


def test_the_subsidy_cap_left_and_what_this_request_still_gets():
    terms = parse_terms(
        {
            "summary": "t",
            "quota": {
                "unit": "cny",
                "category_caps": [
                    {"category": "in_province", "label": "省内", "amount": 2000},
                    {"category": "out_of_province", "label": "省外", "amount": 5000},
                ],
                "clause": "001 三、（一）",
            },
        }
    )
    facts = TierFacts(
        category="out_of_province",
        amount=Decimal(1500),
        cap_left={"in_province": Decimal(2000), "out_of_province": Decimal(1000)},
    )
    tier = fulfilment_tier(terms, facts)
    assert tier.message == "省外额度本期上限5000元，剩余1000元；本次申请1500元，可补贴1000元"
    assert tier.details["payable"] == "1000"


# --- through HTTP -----------------------------------------------------------------------

pytestmark = [pytest.mark.usefixtures("fresh_memos")]


def transport(ask, home: str, hospital: dict, **context: str) -> dict:
    policy = make_policy(
        "pingan.health", members=(Insured("M1", date(1980, 5, 1), home_city=home),)
    )
    return ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": "pingan.health.discharge_transport",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {
                "planned_at": "2026-06-03T10:00:00+08:00",
                "hospitalisation": {
                    "admitted_on": "2026-05-25",
                    "discharged_on": "2026-06-03",
                    **hospital,
                },
                **context,
            },
        }
    ).json()


@pytest.mark.django_db
def test_exactly_200_km_by_road_is_the_short_haul_car(ask):
    # 9.4 "200 公里以内（含）", by road as staff entered it
    answer = transport(ask, "310000", {"region": "321200"}, road_distance_km="200")
    assert answer["eligible"] is True
    assert answer["tier"]["code"] == "short_haul"
    assert answer["tier"]["details"]["distance_km"] == "200"
    assert answer["tier"]["details"]["measured"] == "road"
    assert "行驶距离200公里" in answer["tier"]["message"]


@pytest.mark.django_db
def test_200_km_in_a_straight_line_is_to_be_confirmed_never_the_car(ask):
    # home 上海市, hospital in 泰州市: 200 km between the city centres, no road distance
    answer = transport(ask, "310000", {"region": "321200"})
    assert answer["eligible"] is True
    assert answer["tier"]["code"] == "to_be_confirmed"
    assert answer["tier"]["label"] == "待核实行驶距离"
    assert "直线距离约200公里" in answer["tier"]["message"]


@pytest.mark.django_db
def test_215_km_by_road_is_the_ticket_though_the_straight_line_is_185(ask):
    # home 北京市, hospital in 沧州市: about 185 km in a straight line
    straight = transport(ask, "110000", {"region": "130900"})
    assert straight["tier"]["code"] == "to_be_confirmed"
    assert 175 <= int(straight["tier"]["details"]["distance_km"]) <= 195

    answer = transport(ask, "110000", {"region": "130900"}, road_distance_km="215")

    assert answer["tier"]["code"] == "long_haul"
    assert answer["tier"]["details"]["measured"] == "road"


@pytest.mark.django_db
def test_201_km_in_a_straight_line_is_a_ticket_home_for_the_insured_and_one_relative(ask):
    # home 天津市, hospital in 滨州市: 201 km in a straight line, so more by road
    answer = transport(ask, "120000", {"region": "371600"})
    assert answer["tier"]["code"] == "long_haul"
    assert answer["tier"]["details"]["distance_km"] == "201"
    assert answer["tier"]["details"]["measured"] == "straight_line"


@pytest.mark.django_db
def test_a_listed_hospital_without_a_region_is_placed_by_its_list_entry(ask):
    # 北京高博医院 is in the MDT annex, listed under 北京; the insured lives in 北京朝阳区
    answer = transport(ask, "110105", {"hospital": "北京高博医院"})
    assert answer["tier"]["code"] == "to_be_confirmed"
    assert int(answer["tier"]["details"]["distance_km"]) < 20


@pytest.mark.django_db
def test_a_routing_backend_gives_the_road_distance(ask, settings):
    # given a routing backend (none is configured by default) that says 150 km by road
    settings.ROUTING_BACKEND = "tests.benefits.test_eligibility_tiers.road_150_km"

    answer = transport(ask, "120000", {"region": "371600"})

    assert answer["tier"]["code"] == "short_haul"
    assert answer["tier"]["details"]["measured"] == "road"


def road_150_km(home: tuple[Decimal, Decimal], hospital: tuple[Decimal, Decimal]) -> Decimal:
    return Decimal(150)


@pytest.mark.django_db
def test_no_home_city_means_no_distance_tier(ask):
    policy = make_policy("pingan.health", members=(Insured("M1", date(1980, 5, 1)),))
    answer = ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": "pingan.health.discharge_transport",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"hospitalisation": {"admitted_on": "2026-05-25", "region": "110101"}},
        }
    ).json()
    assert answer["tier"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(("region", "rate"), [("110101", "300"), ("510104", "250")])
def test_the_carer_subsidy_rate_of_the_hospital_city(ask, region, rate):
    policy = make_policy("pingan.health")
    answer = ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": "pingan.health.inpatient_carer_7d",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"hospitalisation": {"admitted_on": "2026-05-30", "region": region}},
        }
    ).json()
    assert answer["tier"]["kind"] == "daily_rate"
    assert answer["tier"]["details"]["day_rate"] == rate


@pytest.mark.django_db
def test_the_advance_amount_in_the_answer(ask):
    policy = make_policy("pingan.health")
    answer = ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": ADVANCE,
            "at": "2026-06-01T10:00:00+08:00",
            "context": {
                "hospitalisation": {"admitted_on": "2026-05-30", "region": "110101"},
                "advance": {
                    "estimated_total": "80000",
                    "medical_insurance": "30000",
                    "deductible": "10000",
                    "payout_ratio": "0.9",
                    "sum_insured_left": "50000",
                },
            },
        }
    ).json()
    assert answer["tier"]["details"]["amount"] == "36000"
    assert answer["tier"]["message"].startswith(
        "可垫付36000元 =（预计就医总金额80000元 − 医保支付30000元 − 免赔额10000元）× 赔付比例90%"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ratio", ["0", "1.5", "-0.1"])
def test_an_impossible_payout_ratio_is_refused(ask, ratio):
    policy = make_policy("pingan.health")
    response = ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": ADVANCE,
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"advance": {"estimated_total": "1000", "payout_ratio": ratio}},
        }
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


@pytest.mark.django_db
def test_the_subsidy_cap_left_after_an_earlier_subsidy(ask):
    policy = make_policy("manulife.dmm")
    ledger(
        policy,
        "manulife.dmm.travel_subsidy",
        on=date(2026, 5, 1),
        amount=Decimal(4200),
        category="out_of_province",
        then="use",
    )
    answer = ask(
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": "manulife.dmm.travel_subsidy",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {
                "diagnosis": {"confirmed": True, "diagnosed_on": "2026-05-01"},
                "category": "out_of_province",
                "amount": "500",
            },
        }
    ).json()
    assert (
        answer["tier"]["message"] == "省外额度本期上限5000元，剩余800元；本次申请500元，可补贴500元"
    )
