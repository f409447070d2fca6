"""The rule kinds of issue 14 the policy owns (sum insured and plan, riders, item lists,
any-one-of prerequisites, mutual exclusion, 异地, amount pre-checks, documents, variants,
out-of-scope requests, review gates), each with pass / fail / boundary rows citing the
handbook clause, through the staff API over HTTP; and the catalogue round-trips."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benefits.catalogue.files import read_catalogue
from benefits.models import Benefit, Policy
from benefits.terms.benefit_terms import parse_terms, terms_to_json
from portal.kernel.staff_auth import staff_token_issue
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import Insured, ledger, make_policy

ask = support.ask  # fixtures
fresh_memos = support.fresh_memos

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]

AT = "2026-06-01T10:00:00+08:00"
DIAGNOSED = {"confirmed": True, "diagnosed_on": "2026-05-01"}


def t(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def policy_of(product: str, **attributes: Any) -> Policy:
    """A policy (M1 the insured) carrying the attributes the core system records."""
    members = attributes.pop("members", support.FAMILY)
    policy = make_policy(product, members=members)
    if attributes:
        Policy.objects.filter(pk=policy.pk).update(**attributes)
        policy.refresh_from_db()
    return policy


def answer(ask, policy: Policy, benefit: str, context: dict[str, Any], at: str = AT):
    response = ask(
        {"policy": policy.number, "member": "M1", "benefit": benefit, "at": at, "context": context}
    )
    assert response.status_code == 200, response.content
    return response.json()


def codes(data: dict[str, Any]) -> list[str]:
    return [r["code"] for r in data["reasons"]]


def cited(data: dict[str, Any], code: str) -> list[str]:
    return [r["clause"] for r in data["reasons"] if r["code"] == code]


# --- sum_insured_below: 中宏 "降低保额无法达到相应标准" (34 benefits) ----------------------

DMM_PHONE = "manulife.dmm.phone_consult"
STANDARD = Decimal("1000000")


@pytest.mark.parametrize(
    ("case", "sum_insured", "expect"),
    [
        ("pass", Decimal("2000000"), []),
        ("boundary: exactly the standard", STANDARD, []),
        ("fail: reduced below it", Decimal("999999.99"), ["sum_insured_below"]),
    ],
)
def test_a_manulife_policy_reduced_below_its_standard_ends_the_services(
    ask, case, sum_insured, expect
):
    # 001 其他需要被服务人注意的事项 8. "降低保额无法达到相应标准，则对应的健康管理服务自动终止"
    policy = policy_of("manulife.dmm", sum_insured=sum_insured, standard_sum_insured=STANDARD)

    data = answer(ask, policy, DMM_PHONE, {})

    assert codes(data) == expect, case
    if expect:
        assert "降低保额无法达到相应标准" in cited(data, "sum_insured_below")[0]
        assert "999,999.99元低于本服务要求的1,000,000元" in data["reasons"][0]["message"]
    assert "sum_insured_below" not in data["unchecked"]


def test_a_policy_without_a_recorded_sum_insured_is_unchecked_not_passed(ask):
    policy = policy_of("manulife.hywj")

    data = answer(ask, policy, "manulife.hywj.phone_doctor", {})

    assert "sum_insured_below" in data["unchecked"]


def test_the_policy_api_records_the_sum_insured_and_eligibility_ends_the_benefit(
    client, staff_user, ask
):
    # given a 中宏 policy the core system sends with its sum insured reduced below standard
    _, raw = staff_token_issue(user=staff_user, name="core")
    body = {
        "number": "MDMM-SI-1",
        "product": "manulife.dmm",
        "signed_on": "2026-01-01",
        "effective_on": "2026-01-02",
        "expires_on": "2027-01-01",
        "sum_insured": "500000",
        "standard_sum_insured": "1000000",
        "plan_level": "计划一",
        "riders": ["ci_rider"],
        "holder": {"name": "王大明", "id_number": "11010519491231002X"},
        "members": [
            {"ref": "M1", "name": "王大明", "id_number": "11010519491231002X", "relation": "self"}
        ],
    }
    headers = {"authorization": f"Bearer {raw}"}
    response = client.post(
        "/api/staff/v1/policies",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (Decimal(shown["sum_insured"]), shown["plan_level"], shown["riders"]) == (
        Decimal("500000"),
        "计划一",
        ["ci_rider"],
    )

    # when staff ask about a service of it
    data = answer(ask, Policy.objects.get(number="MDMM-SI-1"), DMM_PHONE, {})

    # then it has ended, with the reason and the clause
    assert data["outcome"] == "ineligible"
    assert codes(data) == ["sum_insured_below"]


def test_a_plan_level_rule_refuses_another_plan():
    from benefits.eligibility.checks_policy import _sum_insured
    from benefits.terms.rules import SumInsuredRule
    from tests.benefits.test_eligibility import facts as make_facts

    rule = SumInsuredRule(kind="sum_insured_below", plan_levels=["计划二"], clause="x")
    facts = make_facts()
    on_plan = make_facts(
        policy=type(facts.policy)(**{**facts.policy.__dict__, "plan_level": "计划二"})
    )
    other = make_facts(
        policy=type(facts.policy)(**{**facts.policy.__dict__, "plan_level": "计划一"})
    )
    assert _sum_insured(rule, on_plan) is None
    assert "计划一" in str(_sum_insured(rule, other))


# --- rider_missing: 安盛 器械直付 "如投保特定医疗器械费用医疗保险" --------------------------

DEVICE = "axa.zysh.device_direct_pay"
DEVICE_CONTEXT = {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤-重度"}, "item": "optune"}


@pytest.mark.parametrize(
    ("case", "riders", "refused"),
    [
        ("pass: the rider is on the policy", ["device_medical_expense"], False),
        ("fail: no rider", [], True),
        ("boundary: another rider only", ["ci_rider"], True),
    ],
)
def test_device_direct_pay_needs_the_device_rider(ask, case, riders, refused):
    policy = policy_of("axa.zysh", riders=riders)

    data = answer(ask, policy, DEVICE, DEVICE_CONTEXT)

    assert ("rider_missing" in codes(data)) is refused, case
    if refused:
        assert "如投保特定医疗器械费用医疗保险" in cited(data, "rider_missing")[0]
        assert (
            "特定医疗器械费用医疗保险"
            in data["reasons"][codes(data).index("rider_missing")]["message"]
        )


# --- item_not_on_list: 中宏 检查加急 9 项; 安盛 5 devices with their own conditions -------------

EXAM = "manulife.dmm.exam_expedite"
EXAM_CONTEXT = {"diagnosis": DIAGNOSED}


@pytest.mark.parametrize(
    ("case", "item", "expect", "missing"),
    [
        ("pass", "MRI", [], []),
        ("boundary: an alias of the listed B 超", "B超", [], []),
        ("fail: not one of the 9", "心脏彩超造影", ["item_not_on_list"], []),
        ("incomplete: no item named", None, [], ["item"]),
    ],
)
def test_exam_expedite_only_for_the_nine_examinations(ask, case, item, expect, missing):
    # 001 服务一览表 检查加急 "B 超、彩超、CT、PET-CT、胃镜、肠镜、肾脏穿刺、腰椎穿刺、MRI 等
    # 9 个项目"
    policy = policy_of("manulife.dmm")
    context = {**EXAM_CONTEXT, **({"item": item} if item else {})}

    data = answer(ask, policy, EXAM, context)

    assert codes(data) == expect, case
    assert [m["fact"] for m in data["missing"]] == missing
    if expect:
        assert "9 个项目" in cited(data, "item_not_on_list")[0]


@pytest.mark.parametrize(
    ("case", "birth", "refused"),
    [
        ("pass: 30 years old", date(1996, 1, 1), False),
        ("boundary: 22 today", date(2004, 6, 1), False),
        ("fail: 21", date(2004, 6, 2), True),
    ],
)
def test_the_optune_device_is_for_22_and_over(ask, case, birth, refused):
    # 002 院外特定医疗器械清单 爱普盾 "适用于22岁及以上……"
    policy = policy_of(
        "axa.zysh",
        members=(Insured("M1", birth, "self", home_city="110105"),),
        riders=["device_medical_expense"],
    )

    data = answer(ask, policy, DEVICE, DEVICE_CONTEXT)

    assert ("item_not_on_list" in codes(data)) is refused, case
    if refused:
        assert "22" in data["reasons"][codes(data).index("item_not_on_list")]["message"]


# --- prerequisite_any: 中宏 陪诊 needs *a* green-channel service ---------------------------

ESCORT = "manulife.dmm.escort"


@pytest.mark.parametrize(
    ("case", "used", "refused"),
    [
        ("pass: an expert appointment held", "manulife.dmm.expert_outpatient", False),
        ("pass: an exam expedite held", "manulife.dmm.exam_expedite", False),
        ("fail: none used", None, True),
        ("boundary: another member's use does not count", "M2", True),
    ],
)
def test_the_dmm_escort_needs_one_green_channel_service(ask, case, used, refused):
    policy = policy_of("manulife.dmm")
    if used == "M2":
        ledger(policy, "manulife.dmm.expert_outpatient", ref="M2", on=date(2026, 5, 20))
    elif used:
        ledger(policy, used, on=date(2026, 5, 20))

    data = answer(ask, policy, ESCORT, {"diagnosis": DIAGNOSED, "planned_at": t("2026-06-10")})

    assert ("prerequisite_missing" in codes(data)) is refused, case
    if refused:
        message = data["reasons"][codes(data).index("prerequisite_missing")]["message"]
        assert "专家门诊预约" in message and "之一" in message


# --- mutually_exclusive: 平安 垫付 vs 预赔 ---------------------------------------------------


@pytest.mark.parametrize(
    ("case", "also", "refused"),
    [
        ("pass", [], False),
        ("fail: 预赔 already", ["pre_claim"], True),
        ("boundary: other", ["x"], False),
    ],
)
def test_pingan_advance_and_pre_claim_are_not_both_used(ask, case, also, refused):
    # 003 7.7 6、"垫付和预赔不可同时使用"
    policy = policy_of("pingan.health")
    context = {
        "hospitalisation": {"region": "110101", "admitted_on": "2026-05-28"},
        "also_using": also,
    }

    data = answer(ask, policy, "pingan.health.inpatient_advance", context)

    assert ("mutually_exclusive" in codes(data)) is refused, case
    if refused:
        assert "预赔" in cited(data, "mutually_exclusive")[0]


# --- amount_check: 平安 自费金额需超过免赔额 --------------------------------------------------


@pytest.mark.parametrize(
    ("case", "self_pay", "refused"),
    [
        ("pass", "12000", False),
        ("boundary: equal is not over", "10000", True),
        ("fail", "800", True),
    ],
)
def test_pingan_advance_needs_self_pay_above_the_deductible_and_says_the_amounts(
    ask, case, self_pay, refused
):
    # 003 7.4 2、"自费金额需超过免赔额"
    policy = policy_of("pingan.health")
    context = {
        "hospitalisation": {"region": "110101", "admitted_on": "2026-05-28"},
        "self_pay": self_pay,
        "deductible": "10000",
    }

    data = answer(ask, policy, "pingan.health.inpatient_advance", context)

    assert ("amount_check" in codes(data)) is refused, case
    (check,) = data["amount_checks"]
    assert (Decimal(check["amount"]), Decimal(check["limit"])) == (
        Decimal(self_pay),
        Decimal("10000"),
    )
    assert "免赔额10,000元" in check["message"]


def test_without_the_bill_the_amount_check_is_unchecked(ask):
    policy = policy_of("pingan.health")
    context = {"hospitalisation": {"region": "110101", "admitted_on": "2026-05-28"}}

    data = answer(ask, policy, "pingan.health.inpatient_advance", context)

    assert "amount_check" in data["unchecked"] and data["amount_checks"] == []


# --- not_away_from_home: 中宏 异地就医补贴 -------------------------------------------------


@pytest.mark.parametrize(
    ("case", "hukou", "region", "refused"),
    [
        ("pass: 户口 上海, visit in 北京", "310101", "110101", False),
        ("boundary: another district of the same city", "110105", "110101", True),
        ("fail: the same district", "110101", "110101", True),
    ],
)
def test_the_travel_subsidy_is_for_a_hospital_outside_the_hukou_city(
    ask, case, hukou, region, refused
):
    policy = policy_of(
        "manulife.dmm", members=(Insured("M1", date(1980, 5, 1), "self", hukou_city=hukou),)
    )
    ledger(policy, "manulife.dmm.expert_outpatient", on=date(2026, 5, 20))
    context = {
        "diagnosis": DIAGNOSED,
        "category": "out_of_province",
        "amount": "100",
        "planned_at": t("2026-05-25"),
        "region": region,
    }

    data = answer(ask, policy, "manulife.dmm.travel_subsidy", context)

    assert ("not_away_from_home" in codes(data)) is refused, case
    if refused:
        assert "户口所在地与就诊医院所在地为不同城市" in cited(data, "not_away_from_home")[0]


def test_without_a_recorded_hukou_the_engine_asks_for_it(ask):
    policy = policy_of("manulife.hywj")
    ledger(policy, "manulife.hywj.ci_outpatient", on=date(2026, 5, 20))
    context = {"category": "in_province", "amount": "10", "planned_at": t("2026-05-25")}

    data = answer(ask, policy, "manulife.hywj.travel_subsidy", {**context, "region": "110101"})

    assert "hukou_city" in [m["fact"] for m in data["missing"]]


# --- document_invalid: 平安 处方 3 个自然日 ----------------------------------------------------


@pytest.mark.parametrize(
    ("case", "issued", "refused"),
    [
        ("pass: issued the day before", "2026-05-31", False),
        ("boundary: the third day", "2026-05-30", False),
        ("fail: the fourth day", "2026-05-29", True),
    ],
)
def test_a_prescription_is_valid_three_natural_days(ask, case, issued, refused):
    policy = policy_of("pingan.health")
    context = {
        "diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤"},
        "planned_at": t("2026-06-01", 15),
        "documents": {"prescription": {"issued_on": issued}},
    }

    data = answer(ask, policy, "pingan.health.drug_service", context)

    assert ("document_invalid" in codes(data)) is refused, case
    if refused:
        assert "3 个自然日" in cited(data, "document_invalid")[0]


# --- only_for / variants: MDT offline list, 儿童齿科 per option, 平安 援助用药 citizenship -------


@pytest.mark.parametrize(
    ("case", "variant", "hospital", "expect", "missing"),
    [
        ("pass: offline at a listed hospital", "offline", "北京高博医院", [], []),
        ("fail: offline elsewhere", "offline", "北京协和医院", ["not_in_network"], []),
        ("boundary: online ignores the offline list", "online", "北京协和医院", [], []),
        ("incomplete: which mode", None, "北京协和医院", [], ["variant"]),
        ("incomplete: a mode MDT has not", "drive_in", "北京协和医院", [], ["variant"]),
    ],
)
def test_the_mdt_hospital_list_binds_the_offline_mode_only(
    ask, case, variant, hospital, expect, missing
):
    # 003 4.4 1）"被保险人如选择线下面诊咨询形式，服务地点仅限……指定医疗机构"
    policy = policy_of("pingan.health")
    context = {"diagnosis": DIAGNOSED, "hospital": hospital}
    if variant:
        context["variant"] = variant

    data = answer(ask, policy, "pingan.health.tumor_mdt", context)

    assert codes(data) == expect, case
    assert [m["fact"] for m in data["missing"]] == missing


def test_the_aid_application_citizenship_binds_that_sub_service_only(ask):
    policy = policy_of("pingan.health", members=support.FAMILY)
    abroad = (Insured("M1", date(1980, 5, 1), "self", mainland=False, id_type="hk_macao_permit"),)
    foreign = policy_of("pingan.health", members=abroad)
    context = {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤"}, "planned_at": t("2026-06-05")}

    purchase = answer(ask, foreign, "pingan.health.drug_service", context)
    aid = answer(
        ask, foreign, "pingan.health.drug_service", {**context, "variant": "aid_application"}
    )
    citizen = answer(
        ask, policy, "pingan.health.drug_service", {**context, "variant": "aid_application"}
    )

    assert "citizenship" not in codes(purchase)  # the default variant: 购药
    assert "citizenship" in codes(aid)
    assert "citizenship" not in codes(citizen)


# --- out_of_scope: 中宏团体 住院安排 加床/转科 -----------------------------------------------


@pytest.mark.parametrize(
    ("case", "request_type", "refused"),
    [
        ("pass: an ordinary admission", None, False),
        ("fail: 加床", "add_bed", True),
        ("fail: 转科室", "transfer_department", True),
        ("boundary: unknown type", "other", False),
    ],
)
def test_hywj_admission_does_not_take_extra_beds_or_transfers(ask, case, request_type, refused):
    policy = policy_of("manulife.hywj")
    context = {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤-重度"}}
    if request_type:
        context["request_type"] = request_type

    data = answer(ask, policy, "manulife.hywj.ci_admission", context)

    assert ("out_of_scope" in codes(data)) is refused, case
    if refused:
        assert "4.4" in cited(data, "out_of_scope")[0]


# --- ward rehab_sanatorium: 平安 7天住院陪护 -----------------------------------------------


def test_a_rehab_sanatorium_stay_does_not_get_the_7_day_carer(ask):
    policy = policy_of("pingan.health")
    context = {
        "planned_at": t("2026-06-02"),
        "hospitalisation": {
            "region": "110101",
            "admitted_on": "2026-06-01",
            "ward": "rehab_sanatorium",
        },
        "hospital_grade": "三级",
        "hospital_public": True,
        "days": "7",
    }

    data = answer(ask, policy, "pingan.health.inpatient_carer_7d", context)

    assert "hospitalisation_required" in codes(data)
    assert (
        "康复疗养病房" in data["reasons"][codes(data).index("hospitalisation_required")]["message"]
    )


# --- the catalogue round-trips -------------------------------------------------------------

CATALOGUE = read_catalogue()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CATALOGUE.benefits))
def test_every_benefits_terms_survive_dump_and_load(benefit):
    dumped = terms_to_json(benefit.terms)
    again = parse_terms(json.loads(json.dumps(dumped, ensure_ascii=False)))
    assert again == benefit.terms
    assert terms_to_json(again) == dumped


def test_the_catalogue_report_lists_every_product_with_its_rule_kinds(capsys):
    from django.core.management import call_command

    call_command("catalogue_report", "--json")
    data = json.loads(capsys.readouterr().out)

    assert {p["code"] for p in data} == {p.code for p in CATALOGUE.products}
    benefits = {b["code"]: b for p in data for b in p["benefits"]}
    assert "sum_insured_below" in benefits["manulife.dmm.phone_consult"]["rule_kinds"]
    assert benefits["axa.zysh.special_drug_boao"]["reviews"] == [
        "boao_hospital_assessment（hospital → approved）"
    ]
    assert Benefit.objects.count() == len(benefits)


@pytest.mark.parametrize(
    ("case", "request_type", "refused"),
    [
        ("pass", None, False),
        ("fail: 急诊", "emergency", True),
        ("fail: 产检", "prenatal_checkup", True),
    ],
)
def test_pingan_outpatient_assist_takes_no_prenatal_or_emergency_visits(
    ask, case, request_type, refused
):
    # 003 1.1 服务内容 "产检、建档、急诊不在该服务范围内"
    policy = policy_of("pingan.health")
    context: dict[str, Any] = {"planned_at": t("2026-06-10"), "hospital": "北京协和医院"}
    if request_type:
        context["request_type"] = request_type

    data = answer(ask, policy, "pingan.health.outpatient_assist", context)

    assert ("out_of_scope" in codes(data)) is refused, case
    if refused:
        assert "产检、建档、急诊不在该服务范围内" in cited(data, "out_of_scope")[0]


def test_the_new_rule_kinds_read_in_chinese_where_terms_are_shown():
    from benefits.terms.display import describe_terms

    shown = {
        b.code: dict(describe_terms(b.terms))["使用条件"]
        for b in CATALOGUE.benefits
        if b.code in ("kangning.anxin.exam_expedite", "kangning.anxin.inpatient_advance")
    }

    assert (
        "检查项目须在名单内：CT、MRI、无痛胃镜、无痛肠镜" in shown["kangning.anxin.exam_expedite"]
    )
    assert "不可与预赔同时使用" in shown["kangning.anxin.inpatient_advance"]
    assert not any("kind=" in line for lines in shown.values() for line in lines)
