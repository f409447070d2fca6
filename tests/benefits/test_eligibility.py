"""The eligibility engine, table-driven: for each reason code a pass, a fail and the
boundary, each row naming the handbook clause; every failure is returned, not the first."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from benefits.eligibility.engine import evaluate
from benefits.eligibility.model import (
    DiagnosisFacts,
    Facts,
    PersonFacts,
    PolicyFacts,
    StayFacts,
)
from benefits.terms.benefit_terms import parse_terms
from tests.clock import TZ as SHANGHAI

POLICY = PolicyFacts(
    status="in_force",
    signed_on=date(2026, 1, 1),
    effective_on=date(2026, 1, 2),
    expires_on=date(2027, 1, 1),
    waiting_days=30,
)
ADULT = PersonFacts(birth_date=date(1980, 5, 1), is_insured_member=True)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def facts(**overrides) -> Facts:
    values = {"at": at(date(2026, 6, 1)), "policy": POLICY, "recipient": ADULT}
    values.update(overrides)
    return Facts(**values)


def terms(*rules, **extra):
    return parse_terms(
        {"summary": "t", "quota": {"unit": "unlimited"}, "rules": list(rules), **extra}
    )


WAITING = {
    "kind": "waiting_period",
    "days": 30,
    "inclusive": True,
    "waived_on_transfer": True,
    "diagnosis_inside_disqualifies": True,
    "clause": "003 等待期：生效日起30日内（含第30天）",
}
AGE = {"kind": "age", "max_years": 15, "clause": "004 四、儿童齿科 15周岁（含）以下"}
LEAD = {
    "kind": "lead_time",
    "min_lead": {"amount": 48, "unit": "hours"},
    "clause": "003 3.2 提前48小时",
}
STAY = {
    "kind": "hospitalisation_required",
    "min_days": 2,
    "exclude_day_surgery": True,
    "excluded_wards": ["icu", "vip", "special_needs"],
    "exclude_pregnancy": True,
    "clause": "003 住院探视 住院≥2天，非日间手术",
}
WINDOW = {
    "kind": "outside_window",
    "anchor": "discharge",
    "not_after": {"amount": 1, "unit": "months", "direction": "after"},
    "clause": "003 康复随访 出院后1个月内申请",
}
COOLING = {"kind": "cooling_off", "clause": "000 二、服务有效期（过犹豫期）"}
IN_FORCE = {"kind": "policy_not_in_force", "clause": "001 其他事项8 保险合同失效则服务终止"}
RECIPIENT = {
    "kind": "recipient_not_allowed",
    "allowed": ["insured", "family"],
    "family_relations": ["spouse", "child", "parent"],
    "family_must_be_insured": True,
    "clause": "003 服务共享规则",
}
CITIZEN = {"kind": "citizenship", "clause": "002 慈善赠药 仅限中国大陆公民"}

EFFECTIVE = POLICY.effective_on
CASES = [
    # (clause rule, facts, expected reason codes)
    (WAITING, facts(at=at(EFFECTIVE + timedelta(days=29))), ["waiting_period"]),  # day 30
    (WAITING, facts(at=at(EFFECTIVE + timedelta(days=30))), []),  # day 31
    (WAITING, facts(at=at(EFFECTIVE), policy=replace(POLICY, transferred=True)), []),
    (
        WAITING,
        facts(diagnosis=DiagnosisFacts(diagnosed_on=EFFECTIVE + timedelta(days=5), confirmed=True)),
        ["waiting_period"],
    ),
    (AGE, facts(recipient=replace(ADULT, birth_date=date(2010, 6, 2))), []),  # 15
    (AGE, facts(recipient=replace(ADULT, birth_date=date(2010, 6, 1))), ["age"]),  # 16 today
    (AGE, facts(), ["age"]),
    (LEAD, facts(planned_at=at(date(2026, 6, 3), 9)), ["lead_time"]),  # 47 h
    (LEAD, facts(planned_at=at(date(2026, 6, 3), 10)), []),  # 48 h
    (
        STAY,
        facts(stay=StayFacts(admitted_on=date(2026, 5, 31), discharged_on=date(2026, 5, 31))),
        ["hospitalisation_required"],
    ),
    (  # 算入不算出: admitted the 30th, out the 31st is one hospital day
        STAY,
        facts(stay=StayFacts(admitted_on=date(2026, 5, 30), discharged_on=date(2026, 5, 31))),
        ["hospitalisation_required"],
    ),
    (  # the 29th to the 31st: two days, the discharge day not counted
        STAY,
        facts(stay=StayFacts(admitted_on=date(2026, 5, 29), discharged_on=date(2026, 5, 31))),
        [],
    ),
    (
        STAY,
        facts(stay=StayFacts(admitted_on=date(2026, 5, 20), day_surgery=True)),
        ["hospitalisation_required"],
    ),
    (
        STAY,
        facts(stay=StayFacts(admitted_on=date(2026, 5, 20), ward="icu")),
        ["hospitalisation_required"],
    ),
    (
        WINDOW,
        facts(at=at(date(2026, 6, 15)), stay=StayFacts(date(2026, 5, 1), date(2026, 5, 15))),
        [],
    ),
    (
        WINDOW,
        facts(at=at(date(2026, 6, 16)), stay=StayFacts(date(2026, 5, 1), date(2026, 5, 15))),
        ["outside_window"],
    ),
    (COOLING, facts(at=at(date(2026, 1, 16))), ["cooling_off"]),  # 15 days after signing
    (COOLING, facts(at=at(date(2026, 1, 17))), []),
    (IN_FORCE, facts(policy=replace(POLICY, status="lapsed")), ["policy_not_in_force"]),
    (IN_FORCE, facts(at=at(date(2027, 1, 2))), ["policy_not_in_force"]),
    (IN_FORCE, facts(), []),
    (RECIPIENT, facts(recipient=replace(ADULT, relation="spouse")), []),
    (
        RECIPIENT,
        facts(recipient=replace(ADULT, relation="spouse", is_insured_member=False)),
        ["recipient_not_allowed"],
    ),
    (RECIPIENT, facts(recipient=replace(ADULT, relation="other")), ["recipient_not_allowed"]),
    (CITIZEN, facts(recipient=replace(ADULT, mainland_citizen=False)), ["citizenship"]),
    (CITIZEN, facts(), []),
]


@pytest.mark.parametrize(
    ("rule", "given", "expected"), CASES, ids=[f"{c[0]['kind']}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_table(rule, given, expected):
    verdict = evaluate(terms(rule), given)
    assert [r.code for r in verdict.reasons] == expected
    assert verdict.eligible is (expected == [])
    for reason in verdict.reasons:
        assert reason.clause == rule["clause"]


def test_days_are_beijing_days_whatever_the_zone_of_the_clock():
    # given the waiting period's last day, 31 Jan 2026 (effective 2 Jan, 30 days inclusive)
    # when a server in UTC asks at 16:30 on 31 Jan, which is 00:30 on 1 Feb in Beijing
    utc_evening = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    verdict = evaluate(terms(WAITING), facts(at=utc_evening))
    # then the waiting period is over: the Beijing day decides
    assert verdict.reasons == []
    # and an hour earlier in UTC (23:30 on 31 Jan in Beijing) it still runs
    verdict = evaluate(terms(WAITING), facts(at=utc_evening - timedelta(hours=1)))
    assert [r.code for r in verdict.reasons] == ["waiting_period"]


def test_a_missing_fact_is_asked_for_not_refused():
    # given a 48-hour lead time and no planned time
    verdict = evaluate(terms(LEAD), facts())
    # then the answer is "tell me more", with the fact to ask for, not a refusal
    assert verdict.outcome == "incomplete"
    assert verdict.eligible is False
    assert verdict.reasons == []
    assert [(m.fact, m.rule) for m in verdict.missing] == [("planned_at", "lead_time")]
    assert verdict.missing[0].message.startswith("请填写计划服务时间")


def test_a_refusal_outweighs_a_missing_fact():
    # given a lapsed policy and no planned time: more facts would not change the answer
    verdict = evaluate(terms(IN_FORCE, LEAD), facts(policy=replace(POLICY, status="lapsed")))
    assert verdict.outcome == "ineligible"
    assert [r.code for r in verdict.reasons] == ["policy_not_in_force"]
    assert [m.fact for m in verdict.missing] == ["planned_at"]


def test_the_waiting_period_message_names_its_last_day_and_the_next_eligible_date():
    verdict = evaluate(terms(WAITING), facts(at=at(date(2026, 1, 20))))
    assert verdict.reasons[0].message == "等待期至2026年1月31日结束，之后方可使用"
    assert verdict.next_eligible_on == date(2026, 2, 1)


def test_every_failed_rule_is_returned_not_only_the_first():
    verdict = evaluate(
        terms(IN_FORCE, WAITING, AGE, LEAD),
        facts(
            at=at(date(2026, 1, 10)),
            policy=replace(POLICY, status="lapsed"),
            planned_at=at(date(2026, 1, 11)),
        ),
    )
    assert [r.code for r in verdict.reasons] == [
        "policy_not_in_force",
        "waiting_period",
        "age",
        "lead_time",
    ]
    assert verdict.next_eligible_on is None  # a lapsed policy does not heal with time


def test_quota_prerequisite_and_exclusive_choice_come_from_the_terms():
    benefit_terms = parse_terms(
        {
            "summary": "t",
            "quota": {"unit": "times", "amount": "1", "clause": "004 儿童齿科 每年1次"},
            "prerequisites": [{"benefit": "xiaokang.rsyj.rehab_guide", "clause": "000 （三）"}],
            "exclusive_choice": {
                "group": "kids_dental",
                "options": [
                    {"code": "sealing", "label": "窝沟封闭", "amount": "4"},
                    {"code": "fluoride", "label": "涂氟", "amount": "1"},
                    {"code": "extraction", "label": "乳牙拔除", "amount": "1"},
                ],
                "clause": "004 3选1",
            },
        }
    )
    verdict = evaluate(
        benefit_terms,
        facts(
            remaining={"次数": Decimal(0)},
            needed={"次数": Decimal(1)},
            exclusive_groups_used=frozenset({"kids_dental"}),
        ),
    )
    assert [r.code for r in verdict.reasons] == [
        "quota_exhausted",
        "prerequisite_missing",
        "exclusive_choice_used",
    ]
    assert verdict.reasons[0].message == "次数本期剩余0，本次需要1"


def test_working_clock_rules_are_reported_unchecked_not_silently_passed():
    rule = {
        "kind": "filing_deadline",
        "deadlines": [
            {"after": "visit", "within": {"amount": 10, "unit": "days", "clock": "working"}}
        ],
        "clause": "001 10个工作日内",
    }
    verdict = evaluate(terms(rule), facts())
    assert verdict.unchecked == ["filing_deadline"]
