"""The eligibility rules through HTTP, table-driven: for each reason code of DOMAIN.md §3 a
pass, a fail and the boundary, on real catalogue benefits, each row naming the handbook clause
the rule cites. Every row starts from a request its benefit grants and changes one fact.

``filing_deadline`` counts working days on the Chinese calendar: after a visit on Friday
15 May 2026 the tenth working day is Friday 29 May.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from benefits.models import Benefit, Policy
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import Insured, ledger, make_policy

ask = support.ask  # fixtures
fresh_memos = support.fresh_memos

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]


def t(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


KIDS = (
    Insured("M1", date(1980, 5, 1), "self"),
    Insured("M2", date(2010, 6, 2), "child"),  # 16 on 2026-06-02
    Insured("M3", date(2015, 3, 1), "child"),
)
ABROAD = (
    Insured("M1", date(1980, 5, 1), "self"),
    Insured("M2", date(1983, 2, 1), "spouse", mainland=False, id_type="hk_macao_permit"),
    Insured("M3", date(1954, 4, 1), "parent", id_type="passport"),  # a citizen, by passport
)
XIAOKANG = {"expires_on": date(2036, 1, 1), "waiting_days": None}  # long-term plan


@dataclass(frozen=True)
class Base:
    benefit: str
    context: dict[str, Any]
    at: str = t("2026-06-01")
    member: str = "M1"
    policy: dict[str, Any] = field(default_factory=dict)
    # What the base use needs on the policy first (中宏 异地就医补贴: a green-channel use).
    given: Callable[[Policy], None] | None = None


# 中宏 异地就医补贴 needs a green-channel service used and a hospital outside the 户口 city.
SHANGHAI_HUKOU = (Insured("M1", date(1980, 5, 1), "self", hukou_city="310101"),)


DIAGNOSED = {"confirmed": True, "diagnosed_on": "2026-05-01"}
BASES = {
    "escort": Base("pingan.health.escort", {"planned_at": t("2026-06-04"), "region": "110105"}),
    "second_opinion": Base(
        "pingan.health.second_opinion", {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤"}}
    ),
    "tumor_mdt": Base("pingan.health.tumor_mdt", {"diagnosis": DIAGNOSED, "variant": "offline"}),
    "hospital_visit": Base(
        "pingan.health.hospital_visit",
        {
            "planned_at": t("2026-06-02", 12),
            "hospitalisation": {
                "hospital": "北京协和医院",
                "region": "110101",
                "admitted_on": "2026-05-28",
            },
        },
    ),
    "rehab_followup": Base(
        "pingan.health.rehab_followup",
        {
            "planned_at": t("2026-06-03"),
            "hospitalisation": {
                "region": "110101",
                "admitted_on": "2026-05-10",
                "discharged_on": "2026-05-15",
            },
        },
    ),
    "discharge_transport": Base(
        "pingan.health.discharge_transport",
        {
            "planned_at": t("2026-06-03"),
            "hospitalisation": {
                "region": "110101",
                "admitted_on": "2026-05-25",
                "discharged_on": "2026-06-03",
            },
        },
    ),
    "medical_consult": Base("xiaokang.rsyj.medical_consult", {}, policy=XIAOKANG),
    "home_rehab": Base(
        "xiaokang.rsyj.home_rehab_visit",
        {
            "planned_at": t("2026-06-02"),
            "hospitalisation": {"region": "110105", "admitted_on": "2026-05-28"},
        },
        policy=XIAOKANG,
    ),
    "kids_dental": Base(
        "manulife.hywj.kids_dental",
        {"variant": "fluoride_varnish"},
        member="M2",
        policy={"members": KIDS, "waiting_days": None, "expires_on": date(2028, 1, 1)},
    ),
    "charity_drug": Base(
        "axa.zysh.charity_drug", {"diagnosis": DIAGNOSED}, policy={"members": ABROAD}
    ),
    "proton_dmm": Base("manulife.dmm.proton_heavy_ion", {"diagnosis": DIAGNOSED}),
    "proton_hywj": Base(
        "manulife.hywj.proton_heavy_ion", {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤-重度"}}
    ),
    "carer_7d": Base(
        "pingan.health.inpatient_carer_7d",
        {
            "planned_at": t("2026-06-02"),
            "hospitalisation": {"region": "110101", "admitted_on": "2026-06-01"},
            "hospital_grade": "三级",
            "hospital_public": True,
            "days": "7",
        },
    ),
    "boao": Base(
        "axa.zysh.special_drug_boao",
        {
            "diagnosis": DIAGNOSED,
            "hospital": "博鳌超级医院",
            "site": "博鳌超级医院",
            "variant": "expert_clinic",
            "item": "Brigatinib",  # on 附表3
            "planned_at": t("2026-06-16"),
        },
    ),
    "ci_outpatient": Base(
        "manulife.hywj.ci_outpatient", {"diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤-重度"}}
    ),
    "travel_hywj": Base(
        "manulife.hywj.travel_subsidy",
        {
            "diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤-重度"},
            "category": "out_of_province",
            "amount": "1000",
            "hospitalisation": {
                "region": "110101",
                "admitted_on": "2026-05-10",
                "discharged_on": "2026-05-15",
            },  # a Friday
        },
        at=t("2026-05-29", 23),
        policy={"members": SHANGHAI_HUKOU},
        given=lambda policy: ledger(policy, "manulife.hywj.ci_outpatient", on=date(2026, 5, 9)),
    ),
    "travel": Base(
        "manulife.dmm.travel_subsidy",
        {
            "diagnosis": {**DIAGNOSED, "confirmed": False},  # 疑似 is enough here
            "category": "out_of_province",
            "amount": "5000",
            "planned_at": t("2026-05-25"),  # the visit the subsidy is claimed for
            "region": "110101",
        },
        policy={"members": SHANGHAI_HUKOU},
        given=lambda policy: ledger(policy, "manulife.dmm.expert_outpatient", on=date(2026, 5, 20)),
    ),
}


@dataclass(frozen=True)
class Row:
    code: str  # the reason code this row is about
    case: str  # pass, fail or boundary
    base: str
    clause: str  # a fragment of the handbook clause the rule cites
    change: dict[str, Any] = field(default_factory=dict)  # body changes; "context" is merged
    policy: dict[str, Any] = field(default_factory=dict)
    given: Callable[[Policy], None] | None = None
    expect: tuple[str, ...] = ()
    message: str = ""  # a fragment of the Chinese message of the row's reason (or missing fact)
    # Facts the engine must ask for (outcome "incomplete"), not refuse on.
    missing: tuple[str, ...] = ()


def at(day: str, planned: str | None = None, hour: int = 10) -> dict[str, Any]:
    change: dict[str, Any] = {"at": t(day, hour)}
    if planned:
        change["context"] = {"planned_at": t(planned)}
    return change


def ctx(**context: Any) -> dict[str, Any]:
    return {"context": context}


def stay(**values: Any) -> dict[str, Any]:
    return {"context": {"hospitalisation": {"region": "110101", **values}}}


ROWS = [
    # --- policy_not_in_force ------------------------------------------------------------
    Row("policy_not_in_force", "pass", "escort", "保险合同有效期一致"),
    Row(
        "policy_not_in_force",
        "fail",
        "escort",
        "保险合同有效期一致",
        policy={"status": "lapsed"},
        expect=("policy_not_in_force",),
        message="保单已失效",
    ),
    Row(
        "policy_not_in_force",
        "fail",
        "escort",
        "保险合同有效期一致",
        policy={"status": "terminated"},
        expect=("policy_not_in_force",),
        message="保单已终止",
    ),
    Row(  # the last day of the policy period
        "policy_not_in_force",
        "boundary",
        "escort",
        "保险合同有效期一致",
        change=at("2027-01-01", planned="2027-01-04"),
    ),
    Row(
        "policy_not_in_force",
        "boundary",
        "escort",
        "保险合同有效期一致",
        change=at("2027-01-02", planned="2027-01-05"),
        expect=("policy_not_in_force",),
        message="服务时间须在保单期间内（2026年1月2日至2027年1月1日）",
    ),
    # --- cooling_off (000: 15 days from signing, 2026-01-01) ------------------------------
    Row("cooling_off", "pass", "medical_consult", "过犹豫期"),
    Row(
        "cooling_off",
        "fail",
        "medical_consult",
        "过犹豫期",
        change=at("2026-01-05"),
        expect=("cooling_off",),
        message="犹豫期至2026年1月16日结束",
    ),
    Row(  # day 15 after signing is still inside
        "cooling_off",
        "boundary",
        "medical_consult",
        "过犹豫期",
        change=at("2026-01-16", hour=23),
        expect=("cooling_off",),
        message="犹豫期至2026年1月16日结束",
    ),
    Row("cooling_off", "boundary", "medical_consult", "过犹豫期", change=at("2026-01-17", hour=0)),
    # --- waiting_period (003: 30 days from 2026-01-02, day 30 inclusive) -----------------
    Row("waiting_period", "pass", "escort", "含第 30 天"),
    Row(
        "waiting_period",
        "fail",
        "escort",
        "含第 30 天",
        change=at("2026-01-10", planned="2026-01-13"),
        expect=("waiting_period",),
        message="等待期至2026年1月31日结束",
    ),
    Row(  # day 30
        "waiting_period",
        "boundary",
        "escort",
        "含第 30 天",
        change=at("2026-01-31", planned="2026-02-03"),
        expect=("waiting_period",),
        message="等待期至2026年1月31日结束",
    ),
    Row(  # day 31
        "waiting_period",
        "boundary",
        "escort",
        "含第 30 天",
        change=at("2026-02-01", planned="2026-02-04"),
    ),
    Row(  # 转保: no waiting period
        "waiting_period",
        "pass",
        "escort",
        "转保",
        change=at("2026-01-10", planned="2026-01-13"),
        policy={"transferred": True},
    ),
    Row(  # a disease diagnosed on day 30 never qualifies
        "waiting_period",
        "boundary",
        "second_opinion",
        "等待期后",
        change=ctx(diagnosis={**DIAGNOSED, "disease": "恶性肿瘤", "diagnosed_on": "2026-01-31"}),
        expect=("waiting_period",),
        message="疾病于等待期内（2026年1月31日）确诊",
    ),
    Row(
        "waiting_period",
        "boundary",
        "second_opinion",
        "等待期后",
        change=ctx(diagnosis={**DIAGNOSED, "disease": "恶性肿瘤", "diagnosed_on": "2026-02-01"}),
    ),
    # --- service_expired (000: one year from the effective date, not renewed) ------------
    Row("service_expired", "pass", "medical_consult", "保单生效日起 1年"),
    Row(
        "service_expired",
        "boundary",
        "medical_consult",
        "保单生效日起 1年",
        change=at("2027-01-01"),
    ),
    Row(
        "service_expired",
        "boundary",
        "medical_consult",
        "保单生效日起 1年",
        change=at("2027-01-02"),
        expect=("service_expired",),
        message="服务有效期已于2027年1月1日届满",
    ),
    Row(
        "service_expired",
        "fail",
        "medical_consult",
        "保单生效日起 1年",
        change=at("2030-06-01"),
        expect=("service_expired",),
    ),
    # --- condition_not_covered (003 二诊: the 18 critical illnesses, 疑似 accepted) ---------
    Row("condition_not_covered", "pass", "second_opinion", "18 种"),
    Row(
        "condition_not_covered",
        "fail",
        "second_opinion",
        "18 种",
        change=ctx(diagnosis={**DIAGNOSED, "disease": "高血压"}),
        expect=("condition_not_covered",),
        message="所患疾病不在本服务约定的疾病范围内",
    ),
    Row(
        "condition_not_covered",
        "fail",
        "second_opinion",
        "18 种",
        change=ctx(diagnosis=None),
        missing=("diagnosis",),
        message="请提供诊断信息",
    ),
    Row(  # 疑似 is enough for 二诊 …
        "condition_not_covered",
        "boundary",
        "second_opinion",
        "疑似",
        change=ctx(diagnosis={**DIAGNOSED, "disease": "恶性肿瘤", "confirmed": False}),
    ),
    Row(  # … but not for 质子重离子 (004), which needs the disease confirmed
        "condition_not_covered",
        "boundary",
        "proton_hywj",
        "质子重离子绿通",
        change=ctx(diagnosis={**DIAGNOSED, "disease": "恶性肿瘤-重度", "confirmed": False}),
        expect=("condition_not_covered",),
        message="本服务须为确诊疾病",
    ),
    # --- condition_unsuitable (001 质子重离子 六、（五）1.) ---------------------------------
    Row("condition_unsuitable", "pass", "proton_dmm", "不适合的情况"),
    Row(
        "condition_unsuitable",
        "fail",
        "proton_dmm",
        "不适合的情况",
        change=ctx(conditions=["haematological_tumour"]),
        expect=("condition_unsuitable",),
        message="属于不适用情形：血液系统肿瘤",
    ),
    Row(  # a condition that rules out another service only
        "condition_unsuitable",
        "boundary",
        "proton_dmm",
        "不适合的情况",
        change=ctx(conditions=["infectious_disease"]),
    ),
    Row(
        "condition_unsuitable",
        "fail",
        "escort",
        "特殊约定",
        change=ctx(conditions=["infectious_disease", "violent_tendency"]),
        expect=("condition_unsuitable",),
        message="患有传染性疾病、有暴力倾向",
    ),
    # --- hospitalisation_required (003 住院探视: ≥ 2 days, not day surgery) ---------------
    Row("hospitalisation_required", "pass", "hospital_visit", "住院天数大于 2 天"),
    Row(  # 算入不算出 (DOMAIN §3): 1 June in, 2 June out is one hospital day
        "hospitalisation_required",
        "boundary",
        "hospital_visit",
        "住院天数大于 2 天",
        change=stay(admitted_on="2026-06-01", discharged_on="2026-06-02"),
        expect=("hospitalisation_required",),
        message="住院须不少于2天，本次住院1天",
    ),
    Row(  # 31 May in, 2 June out: two days
        "hospitalisation_required",
        "boundary",
        "hospital_visit",
        "住院天数大于 2 天",
        change=stay(admitted_on="2026-05-31", discharged_on="2026-06-02"),
    ),
    Row(
        "hospitalisation_required",
        "fail",
        "hospital_visit",
        "日间手术除外",
        change=stay(admitted_on="2026-05-28", day_surgery=True),
        expect=("hospitalisation_required",),
        message="日间手术不属于本服务的住院范围",
    ),
    Row(
        "hospitalisation_required",
        "fail",
        "hospital_visit",
        "因疾病或者意外住院",
        change=ctx(hospitalisation=None, region="110101"),
        missing=("hospitalisation",),
        message="本服务须在住院时使用",
    ),
    # --- outside_window (003 康复随访: within one month after discharge, 2026-05-15) -------
    Row("outside_window", "pass", "rehab_followup", "出院 1 个月以内"),
    Row(
        "outside_window",
        "boundary",
        "rehab_followup",
        "出院 1 个月以内",
        change=at("2026-06-15", planned="2026-06-17"),
    ),
    Row(
        "outside_window",
        "boundary",
        "rehab_followup",
        "出院 1 个月以内",
        change=at("2026-06-16", planned="2026-06-18"),
        expect=("outside_window",),
        message="已超过时限（2026年6月15日）",
    ),
    Row(  # 出院交通: apply at least 24 h before discharge (2026-06-03)
        "outside_window",
        "boundary",
        "discharge_transport",
        "出院前 24 小时",
        change=at("2026-06-02", hour=9),
    ),
    Row(
        "outside_window",
        "fail",
        "discharge_transport",
        "出院前 24 小时",
        change=at("2026-06-03", hour=8),
        expect=("outside_window",),
        message="已超过时限（2026年6月2日）",
    ),
    # --- age (004 儿童齿科: 15 inclusive; M2 born 2010-06-02) ----------------------------
    Row("age", "pass", "kids_dental", "15 周岁（含）以下", change={"member": "M3"}),
    Row("age", "boundary", "kids_dental", "15 周岁（含）以下"),  # 15 on 2026-06-01
    Row(
        "age",
        "boundary",
        "kids_dental",
        "15 周岁（含）以下",
        change=at("2026-06-02"),
        expect=("age",),
        message="服务对象须不超过15周岁（含），当前16周岁",
    ),
    Row(
        "age",
        "fail",
        "kids_dental",
        "15 周岁（含）以下",
        change={"member": "M1"},
        expect=("age",),
        message="当前46周岁",
    ),
    # --- recipient_not_allowed (003 共享: immediate relatives insured on the policy) ------
    Row("recipient_not_allowed", "pass", "escort", "服务共享规则", change=ctx(recipient="M2")),
    Row(
        "recipient_not_allowed",
        "fail",
        "escort",
        "服务共享规则",
        change=ctx(recipient="M4"),
        expect=("recipient_not_allowed",),
        message="服务对象须为被保险人的直系亲属",
    ),
    Row(  # MDT is for the insured alone, even for a spouse on the same family policy
        "recipient_not_allowed",
        "boundary",
        "tumor_mdt",
        "仅限被保险人本人使用",
        change=ctx(recipient="M2"),
        expect=("recipient_not_allowed",),
        message="本服务仅限被保险人本人使用",
    ),
    # --- not_in_network (003 陪诊: 附件3 cities, urban districts only) --------------------
    Row("not_in_network", "pass", "escort", "3.4", change=ctx(region="330106")),  # 杭州西湖区
    Row("not_in_network", "boundary", "escort", "3.4", change=ctx(region="330100")),  # 杭州市
    Row(  # 建德市: a county-level city of 杭州, outside its urban districts
        "not_in_network",
        "boundary",
        "escort",
        "3.4",
        change=ctx(region="330182"),
        expect=("not_in_network",),
        message="服务地点不在本服务的网络范围内",
    ),
    Row(
        "not_in_network",
        "fail",
        "escort",
        "3.4",
        change=ctx(region="330127"),  # 淳安县
        expect=("not_in_network",),
    ),
    Row(  # 000 上门康护 is checked at the insured's home, not at the hospital
        "not_in_network",
        "fail",
        "home_rehab",
        "全国 331 城市市区范围",
        policy={"members": (Insured("M1", date(1980, 5, 1), home_city="330127"),)},
        given=lambda policy: ledger(
            policy, "xiaokang.rsyj.rehab_guide", on=date(2026, 6, 1), then="deliver"
        ),
        expect=("not_in_network",),
    ),
    Row(  # MDT offline: the named hospital must be one of the 8
        "not_in_network",
        "pass",
        "tumor_mdt",
        "指定医疗机构",
        change=ctx(hospital="北京高博医院"),
    ),
    Row(
        "not_in_network",
        "fail",
        "tumor_mdt",
        "指定医疗机构",
        change=ctx(hospital="北京协和医院"),
        expect=("not_in_network",),
    ),
    # --- lead_time (003 陪诊: 48 natural hours) -------------------------------------------
    Row("lead_time", "pass", "escort", "提前 48 小时"),
    Row(
        "lead_time",
        "boundary",
        "escort",
        "提前 48 小时",
        change=ctx(planned_at=t("2026-06-03", 10)),
    ),
    Row(
        "lead_time",
        "boundary",
        "escort",
        "提前 48 小时",
        change=ctx(planned_at=t("2026-06-03", 9)),
        expect=("lead_time",),
        message="须至少提前48小时申请，当前距服务开始约47小时",
    ),
    Row(
        "lead_time",
        "fail",
        "escort",
        "提前 48 小时",
        change=ctx(planned_at=None),
        missing=("planned_at",),
        message="请填写计划服务时间",
    ),
    # --- quota_exhausted (003 陪诊: 1 a policy year, shared by the family) ----------------
    Row(
        "quota_exhausted",
        "fail",
        "escort",
        "每个保险期间 1次",
        given=lambda policy: ledger(policy, "pingan.health.escort", ref="M2", on=date(2026, 5, 1)),
        expect=("quota_exhausted",),
        message="次数本期剩余0，本次需要1",
    ),
    Row(  # a cancelled request gives the unit back: exactly one left
        "quota_exhausted",
        "pass",
        "escort",
        "每个保险期间 1次",
        given=lambda policy: ledger(
            policy, "pingan.health.escort", ref="M2", on=date(2026, 5, 1), then="release"
        ),
    ),
    Row(  # used in the first policy year; asked on its last day …
        "quota_exhausted",
        "boundary",
        "escort",
        "不可跨保单年度累计",
        change=at("2027-01-01", planned="2027-01-04"),
        policy={"expires_on": date(2028, 1, 1)},
        given=lambda policy: ledger(
            policy, "pingan.health.escort", on=date(2026, 6, 1), then="use"
        ),
        expect=("quota_exhausted",),
    ),
    Row(  # … and on the first day of the next
        "quota_exhausted",
        "boundary",
        "escort",
        "不可跨保单年度累计",
        change=at("2027-01-02", planned="2027-01-05"),
        policy={"expires_on": date(2028, 1, 1)},
        given=lambda policy: ledger(
            policy, "pingan.health.escort", on=date(2026, 6, 1), then="use"
        ),
    ),
    Row(  # 001 异地就医补贴: 5000 CNY out of province, exactly the cap
        "quota_exhausted",
        "boundary",
        "travel",
        "省外最高 5000 元",
    ),
    Row(
        "quota_exhausted",
        "boundary",
        "travel",
        "省外最高 5000 元",
        change=ctx(amount="5000.01"),
        expect=("quota_exhausted",),
        message="省外金额（元）本期剩余5000，本次需要5000.01",
    ),
    Row(
        "quota_exhausted",
        "fail",
        "travel",
        "省外最高 5000 元",
        change=ctx(amount="1001"),
        given=lambda policy: ledger(
            policy,
            "manulife.dmm.travel_subsidy",
            on=date(2026, 5, 1),
            amount=Decimal(4000),
            category="out_of_province",
            then="use",
        ),
        expect=("quota_exhausted",),
        message="本期剩余1000",
    ),
    # --- prerequisite_missing (000 上门康护 needs the 康护指导书 delivered) ----------------
    Row(
        "prerequisite_missing",
        "fail",
        "home_rehab",
        "首先完成院后综合评估",
        expect=("prerequisite_missing",),
        message="须先完成“院后居家康护指导书”",
    ),
    Row(
        "prerequisite_missing",
        "pass",
        "home_rehab",
        "首先完成院后综合评估",
        given=lambda policy: ledger(
            policy, "xiaokang.rsyj.rehab_guide", on=date(2026, 5, 20), then="deliver"
        ),
    ),
    Row(  # counted as used (a late cancellation) but never delivered: not met
        "prerequisite_missing",
        "boundary",
        "home_rehab",
        "首先完成院后综合评估",
        given=lambda policy: ledger(
            policy, "xiaokang.rsyj.rehab_guide", on=date(2026, 5, 20), then="use"
        ),
        expect=("prerequisite_missing",),
    ),
    Row(  # booked but not delivered yet
        "prerequisite_missing",
        "boundary",
        "home_rehab",
        "首先完成院后综合评估",
        given=lambda policy: ledger(policy, "xiaokang.rsyj.rehab_guide", on=date(2026, 5, 20)),
        expect=("prerequisite_missing",),
    ),
    # --- exclusive_choice_used (004 儿童齿科 3选1 a policy year) ---------------------------
    Row("exclusive_choice_used", "pass", "kids_dental", "3 选 1", change={"member": "M3"}),
    Row(
        "exclusive_choice_used",
        "fail",
        "kids_dental",
        "3 选 1",
        change={"member": "M3"},
        given=lambda policy: ledger(
            policy, "manulife.hywj.kids_dental", ref="M3", on=date(2026, 3, 1), then="use"
        ),
        expect=("quota_exhausted", "exclusive_choice_used"),
        message="本保单年度已选择过3选1中的项目",
    ),
    Row(  # chosen in the previous policy year
        "exclusive_choice_used",
        "boundary",
        "kids_dental",
        "3 选 1",
        change={"member": "M3", **at("2027-01-02")},
        given=lambda policy: ledger(
            policy, "manulife.hywj.kids_dental", ref="M3", on=date(2026, 3, 1), then="use"
        ),
    ),
    # --- citizenship (002 慈善赠药: mainland citizens only) -------------------------------
    Row("citizenship", "pass", "charity_drug", "仅限中国大陆公民"),
    Row(
        "citizenship",
        "fail",
        "charity_drug",
        "仅限中国大陆公民",
        change={"member": "M2"},
        expect=("citizenship",),
        message="本服务仅限中国大陆居民",
    ),
    Row(  # the citizenship decides, not the document: a mainland citizen with a passport
        "citizenship", "boundary", "charity_drug", "仅限中国大陆公民", change={"member": "M3"}
    ),
    # --- filing_deadline: 10 working days after the visit (异地就医补贴) ---------------------
    Row("filing_deadline", "pass", "travel", "就诊后 10 个工作日内"),
    Row(  # the 10th working day after Friday 15 May is Friday 29 May, to its end
        "filing_deadline",
        "boundary",
        "travel",
        "就诊后 10 个工作日内",
        change={"at": t("2026-05-29", 23), "context": {"planned_at": t("2026-05-15")}},
    ),
    Row(  # the next working day is too late
        "filing_deadline",
        "fail",
        "travel",
        "就诊后 10 个工作日内",
        change={"at": t("2026-06-01"), "context": {"planned_at": t("2026-05-15")}},
        expect=("filing_deadline",),
        message="截至2026年5月29日",
    ),
    Row(  # no visit date: the engine asks for it rather than passing
        "filing_deadline",
        "fail",
        "travel",
        "就诊后 10 个工作日内",
        change={"context": {"planned_at": None}},
        missing=("planned_at",),
        message="请提供就诊日期",
    ),
    # --- issue 12: fields now evaluated, readings fixed ------------------------------------
    # 000 "过犹豫期" prints no length: the policy's own cooling-off period decides (20 days)
    Row(
        "cooling_off",
        "fail",
        "medical_consult",
        "过犹豫期",
        change=at("2026-01-20"),
        given=lambda policy: Policy.objects.filter(pk=policy.pk).update(cooling_off_days=20),
        expect=("cooling_off",),
        message="犹豫期至2026年1月21日结束",
    ),
    Row(
        "cooling_off",
        "boundary",
        "medical_consult",
        "过犹豫期",
        change=at("2026-01-22"),
        given=lambda policy: Policy.objects.filter(pk=policy.pk).update(cooling_off_days=20),
    ),
    # 002 "初次罹患…恶性肿瘤-重度": a cancer first diagnosed before the policy took effect
    Row(
        "condition_not_covered",
        "fail",
        "charity_drug",
        "初次罹患",
        change=ctx(diagnosis={**DIAGNOSED, "first_diagnosed_on": "2025-12-20"}),
        expect=("condition_not_covered",),
        message="本服务限保单生效（2026年1月2日）后初次确诊，该疾病于2025年12月20日已确诊",
    ),
    Row(  # first diagnosed on the effective date itself: after the policy began
        "condition_not_covered",
        "boundary",
        "charity_drug",
        "初次罹患",
        change=ctx(diagnosis={**DIAGNOSED, "first_diagnosed_on": "2026-01-02"}),
        expect=("waiting_period",),  # … though inside the waiting period, which refuses it
    ),
    # 003 6.2 "最多提供 7 天专属护工服务"，6.4 "不支持服务天数拆分使用"
    Row("quota_exhausted", "pass", "carer_7d", "最多提供 7 天"),
    Row(
        "quota_exhausted",
        "fail",
        "carer_7d",
        "最多提供 7 天",
        change=ctx(days="10"),
        expect=("quota_exhausted", "quota_exhausted"),
        message="最多连续7天，本次申请10天",
    ),
    Row(
        "quota_exhausted",
        "boundary",
        "carer_7d",
        "最多提供 7 天",
        change=ctx(days="8"),
        expect=("quota_exhausted", "quota_exhausted"),
        message="单次最长7天，本次申请8天",
    ),
    # 003 6.2 "公立二级及以上医院": the grade and ownership, when staff give them
    Row(
        "not_in_network",
        "fail",
        "carer_7d",
        "公立二级及以上医院",
        change=ctx(hospital_grade="一级"),
        expect=("not_in_network",),
        message="本服务限二级及以上医院，该医院为一级",
    ),
    Row(
        "not_in_network",
        "fail",
        "carer_7d",
        "公立二级及以上医院",
        change=ctx(hospital_public=False),
        expect=("not_in_network",),
        message="本服务仅限公立医院",
    ),
    Row(
        "not_in_network",
        "boundary",
        "carer_7d",
        "公立二级及以上医院",
        change=ctx(hospital_grade="二级"),
    ),
    # 002 服务标准3 "博鳌超级医院：…专家门诊须至少提前 15 天预约"
    Row("lead_time", "pass", "boao", "专家门诊须至少提前 15 天预约"),
    Row(
        "lead_time",
        "boundary",
        "boao",
        "专家门诊须至少提前 15 天预约",
        change=ctx(planned_at=t("2026-06-16", 9)),
        expect=("lead_time",),
        message="须至少提前15天申请",
    ),
    Row(  # the 2-day lead of 博鳌恒大's 普通门诊 does not carry over to another clinic
        "lead_time",
        "pass",
        "boao",
        "普通门诊须至少提前 2 天预约",
        change=ctx(site="博鳌恒大国际医院", variant="ordinary_clinic", planned_at=t("2026-06-03")),
    ),
    Row(  # no clinic given: the engine asks which one, rather than assume the shortest lead
        "lead_time",
        "fail",
        "boao",
        "专家门诊须至少提前 15 天预约",
        change=ctx(site=None),
        missing=("site",),
        message="请选择就诊医院及门诊类型，可选：博鳌恒大国际医院、博鳌超级医院",
    ),
    # 004 一、(四)3.8) "陪诊不支持如下人群使用：住院病人…": the 陪诊 only, not the booking
    Row(
        "condition_unsuitable",
        "pass",
        "ci_outpatient",
        "陪诊不支持如下人群使用",
        change=ctx(conditions=["escort_inpatient", "escort_observation"]),
    ),
    Row(  # 3.2) "门诊预约服务不含…急诊" refuses the booking itself
        "condition_unsuitable",
        "fail",
        "ci_outpatient",
        "门诊预约服务不含产检、分娩、急诊",
        change=ctx(conditions=["emergency", "escort_inpatient"]),
        expect=("condition_unsuitable",),
        message="属于不适用情形：急诊",
    ),
    # 003 8.2 申请条件 3）"仅限客户住院期间申请和提供服务"
    Row(
        "outside_window",
        "fail",
        "hospital_visit",
        "仅限客户住院期间申请和提供服务",
        change=stay(admitted_on="2026-06-02", hospital="北京协和医院"),
        # not admitted yet: no hospital day counts either
        expect=("hospitalisation_required", "outside_window"),
        message="须在2026年6月2日及以后使用",
    ),
    Row(
        "outside_window",
        "fail",
        "hospital_visit",
        "仅限客户住院期间申请和提供服务",
        change=stay(admitted_on="2026-05-28", discharged_on="2026-06-01"),
        expect=("outside_window",),
        message="已超过时限（2026年6月1日）",
    ),
    Row(  # served on the discharge day: still during the stay
        "outside_window",
        "boundary",
        "hospital_visit",
        "仅限客户住院期间申请和提供服务",
        change=stay(admitted_on="2026-05-28", discharged_on="2026-06-02"),
    ),
    # 004 一、(四)6.2) "住院以出院当日起计算时效": day 1 is the first working day after the
    # discharge (Friday 15 May), so the 10th is Friday 29 May, to its end
    Row("filing_deadline", "boundary", "travel_hywj", "住院以出院当日起计算时效"),
    Row(
        "filing_deadline",
        "fail",
        "travel_hywj",
        "住院以出院当日起计算时效",
        change=at("2026-06-01"),
        expect=("filing_deadline",),
        message="截至2026年5月29日",
    ),
]


def _body(row: Row, policy: Policy) -> dict[str, Any]:
    base = BASES[row.base]
    context = {**base.context, **row.change.get("context", {})}
    body = {
        "policy": policy.number,
        "member": base.member,
        "benefit": base.benefit,
        "at": base.at,
        **{k: v for k, v in row.change.items() if k != "context"},
        "context": {k: v for k, v in context.items() if v is not None},
    }
    return body


def _cited(benefit: Benefit, code: str) -> list[str]:
    """The clauses the benefit's terms cite for ``code``."""
    terms = benefit.parsed_terms
    if code == "quota_exhausted":
        return [terms.quota.clause]
    if code == "prerequisite_missing":
        return [p.clause for p in terms.prerequisites]
    if code == "exclusive_choice_used":
        return [terms.exclusive_choice.clause] if terms.exclusive_choice else []
    return [rule.clause for rule in terms.rules if rule.kind == code]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.code}-{r.case}-{i}" for i, r in enumerate(ROWS)])
def test_rule_table(row: Row, ask):
    # given the benefit's rule cites the handbook clause the row names
    base = BASES[row.base]
    benefit = Benefit.objects.get(code=base.benefit)
    assert any(row.clause in clause for clause in _cited(benefit, row.code)), row.clause
    # and a policy, changed as the row says, with its ledger
    policy = make_policy(benefit.product.code, **{**base.policy, **row.policy})
    if base.given:
        base.given(policy)
    if row.given:
        row.given(policy)

    # when staff ask
    response = ask(_body(row, policy))

    # then exactly the row's reasons come back, each citing its clause
    assert response.status_code == 200, response.content
    answer = response.json()
    assert tuple(r["code"] for r in answer["reasons"]) == row.expect
    assert tuple(m["fact"] for m in answer["missing"]) == row.missing
    outcome = "ineligible" if row.expect else "incomplete" if row.missing else "eligible"
    assert answer["outcome"] == outcome
    assert answer["eligible"] is (outcome == "eligible")
    mine = [r for r in answer["reasons"] if r["code"] == row.code]
    for reason in mine:
        assert row.clause in reason["clause"]
    if row.message:
        said = [item["message"] for item in answer["reasons"] + answer["missing"]]
        assert any(row.message in message for message in said), said


def test_a_network_list_not_imported_yet_is_reported_unchecked_not_failed(ask):
    # given 儿童齿科's network exists only as a QR code in the handbook (no rows imported)
    policy = make_policy("manulife.hywj", **BASES["kids_dental"].policy)

    answer = ask(_body(Row("age", "pass", "kids_dental", ""), policy)).json()

    assert answer["eligible"] is True
    # (and the policy's sum insured, which the test policy does not record)
    assert answer["unchecked"] == ["not_in_network", "sum_insured_below"]


def test_a_qr_code_network_lets_no_named_hospital_pass_silently(ask):
    # given 儿童齿科's network (附件四) exists only as a QR code, and a clinic is named
    policy = make_policy("manulife.hywj", **BASES["kids_dental"].policy)
    row = Row("age", "pass", "kids_dental", "", change=ctx(hospital="北京协和医院"))

    answer = ask(_body(row, policy)).json()

    # then the network is reported as not checkable yet, for whichever clinic
    assert answer["unchecked"] == ["not_in_network", "sum_insured_below"]
    assert "not_in_network" not in [r["code"] for r in answer["reasons"]]


def test_a_hospital_grade_nobody_gave_is_unchecked_not_passed(ask):
    # given 7天住院陪护 needs "公立二级及以上医院", no annex prints a grade, and staff gave none
    policy = make_policy("pingan.health")
    row = Row("not_in_network", "", "carer_7d", "", change=ctx(hospital_grade=None))
    body = _body(row, policy)
    del body["context"]["hospital_public"]

    answer = ask(body).json()

    assert answer["outcome"] == "eligible"
    assert answer["unchecked"] == ["not_in_network"]


def test_an_escort_exclusion_refuses_the_escort_part_only(ask):
    # given an inpatient asks for 重疾门诊安排 (which includes a 陪诊)
    policy = make_policy("manulife.hywj")
    row = Row(
        "condition_unsuitable", "", "ci_outpatient", "", change=ctx(conditions=["escort_inpatient"])
    )

    answer = ask(_body(row, policy)).json()

    # then the booking is granted and the answer says the 陪诊 is not
    assert answer["outcome"] == "eligible"
    assert [(r["code"], r["message"]) for r in answer["limitations"]] == [
        ("condition_unsuitable", "陪诊不适用（住院病人），其余服务仍可使用")
    ]
    assert "3.8) 陪诊不支持如下人群使用" in answer["limitations"][0]["clause"]


@pytest.mark.parametrize(
    "benefit",
    [
        "axa.zysh.special_drug_domestic",
        "axa.zysh.device_direct_pay",
        "axa.zysh.special_drug_boao",
        "axa.zysh.charity_drug",
    ],
)
def test_a_cancer_first_diagnosed_before_the_policy_fails_every_axa_first_diagnosis_benefit(
    ask, benefit
):
    # given a cancer diagnosed again in May 2026 but first diagnosed before the policy began
    policy = make_policy("axa.zysh")
    body = {
        "policy": policy.number,
        "member": "M1",
        "benefit": benefit,
        "at": t("2026-06-01"),
        "context": {
            "diagnosis": {**DIAGNOSED, "first_diagnosed_on": "2025-11-01"},
            "hospital": "博鳌超级医院",
            "site": "博鳌超级医院（专家门诊）",
            "planned_at": t("2026-06-20"),
        },
    }

    answer = ask(body).json()

    assert answer["outcome"] == "ineligible"
    assert [r["message"] for r in answer["reasons"] if r["code"] == "condition_not_covered"] == [
        "本服务限保单生效（2026年1月2日）后初次确诊，该疾病于2025年11月1日已确诊"
    ]


def test_discharge_transport_limited_to_200_km_is_refused_beyond_it(ask):
    # given 中宏 出院交通 "限 200 公里以内" and a home 230 km away by road
    policy = make_policy("manulife.dmm")
    body = {
        "policy": policy.number,
        "member": "M1",
        "benefit": "manulife.dmm.post_discharge_care.transport",
        "at": t("2026-06-01"),
        "context": {
            "diagnosis": {**DIAGNOSED, "disease": "恶性肿瘤"},
            "hospitalisation": {
                "region": "110101",
                "admitted_on": "2026-05-20",
                "discharged_on": "2026-06-03",
            },
            "planned_at": t("2026-06-03"),
            "road_distance_km": "230",
        },
    }

    answer = ask(body).json()

    assert (
        "not_in_network",
        "家庭常住地距住院医院行驶距离230公里，超出本服务200公里以内的范围",
    ) in [(r["code"], r["message"]) for r in answer["reasons"]]
    assert answer["tier"] is None
