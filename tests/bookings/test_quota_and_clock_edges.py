"""Edges nothing else pins: a no-show, a money cap held on the right category, a vendor
reporting more than was held, the bulk expiry of a partly held pool, an anniversary of a
policy still marked in force after its expiry, a breach at exactly the due time, working-day
milestones of a 7×24 benefit, and the next eligible date when several timed rules fail."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from benefits.calendar.selectors import calendar_cached
from benefits.demo import policy_with_members
from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import DiagnosisInput
from benefits.eligibility.model import DiagnosisFacts, Facts, PersonFacts, PolicyFacts
from benefits.models import Benefit, Policy, QuotaBalance
from benefits.quota.anniversaries import anniversaries_run
from benefits.quota.ledger import (
    PoolKey,
    balance_open,
    ledger_totals,
    quota_expire_bulk,
    quota_hold,
    quota_use,
)
from benefits.terms.benefit_terms import parse_terms
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.submission import NotEligible, RequestInput, request_submit
from bookings.models import Milestone, QuotaOutcome, Status
from bookings.sla.clocks import milestone_clock, sla_scan
from bookings.vendors.services import consumption_record, vendor_event
from coverage.models import Region
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from tests.benefits.eligibility_support import ledger
from tests.clock import TZ, Clock, at
from tests.factories import outpatient_request

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
TRAVEL = "manulife.dmm.travel_subsidy"


def pool(policy: Policy, code: str, category: str = "") -> QuotaBalance:
    return QuotaBalance.objects.get(policy=policy, benefit__code=code, category=category)


# --- no-show --------------------------------------------------------------------------------


def test_a_no_show_uses_the_booking_and_stops_its_clocks():
    # 平安 门诊协助: no_show_counts_as_used (the default; 1.1 特殊事项 "视同该次服务已完成")
    request = outpatient_request(number="EDGE-NOSHOW", at=at(2026, 3, 2, 10), actor=OPS)
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=request.benefit.vendor)
    request_transition(request, "scheduled", actor=OPS, at=at(2026, 3, 10, 9))

    request_transition(request, "no_show", actor=OPS, reason="客户未到院")

    request.refresh_from_db()
    assert (request.status, request.quota_outcome) == (Status.NO_SHOW, QuotaOutcome.USED)
    assert pool(request.policy, request.benefit.code).remaining == 0
    assert request.events.get(event="no_show").data["consequence"] == "爽约视为已使用"
    assert not request.milestones.filter(state=Milestone.State.PENDING).exists()


# --- the money cap per category ----------------------------------------------------------


def travel_policy(number: str) -> Policy:
    """郑一, 户口 in 上海, who has used a green-channel service (异地就医补贴 needs both)."""
    policy = policy_with_members(
        number=number,
        product="manulife.dmm",
        members=[("郑一", date(1978, 4, 4), "self")],
        effective_on=date(2026, 1, 2),
        signed_on=date(2026, 1, 1),
        waiting_days=30,
    )
    person = policy.members.get().person
    person.hukou_city = Region.objects.get(code="310101")
    person.save(update_fields=["hukou_city"])
    ledger(policy, "manulife.dmm.expert_outpatient", on=date(2026, 5, 2))
    return policy


def travel(policy: Policy, category: str, amount: int, when: datetime) -> RequestInput:
    return RequestInput(
        policy=policy,
        member=policy.members.get(),
        benefit=Benefit.objects.get(code=TRAVEL),
        at=when,
        category=category,
        amount=Decimal(amount),
        planned_at=when - timedelta(days=6),
        region="110101",  # the visit in 北京
        diagnosis=DiagnosisInput(confirmed=False, diagnosed_on=date(2026, 5, 1)),
    )


def test_a_travel_subsidy_holds_on_its_own_category_pool_only():
    # 中宏 001 三、（一）异地就医补贴 "省内最高 2000 元/年，省外最高 5000 元/年"
    policy = travel_policy("EDGE-TRAVEL-CAT")
    request_submit(travel(policy, "in_province", 1500, at(2026, 6, 1, 10)), actor=OPS)

    in_province = pool(policy, TRAVEL, "in_province")
    assert (in_province.held, in_province.remaining) == (1500, 500)
    assert not QuotaBalance.objects.filter(policy=policy, category="out_of_province", held__gt=0)
    with pytest.raises(NotEligible):  # 600 more 省内 exceeds the 2000
        request_submit(travel(policy, "in_province", 600, at(2026, 6, 2, 10)), actor=OPS)
    # the 省外 cap is whole
    request_submit(travel(policy, "out_of_province", 5000, at(2026, 6, 2, 10)), actor=OPS)
    assert pool(policy, TRAVEL, "out_of_province").held == 5000


def test_a_vendor_reporting_more_than_was_held_is_refused_with_a_stable_code():
    policy = travel_policy("EDGE-TRAVEL-OVER")
    request, _ = request_submit(travel(policy, "in_province", 1500, at(2026, 6, 1, 10)), actor=OPS)
    vendor = request.benefit.vendor
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=vendor)
    consumption_record(request, measure="cny", amount=Decimal(1000))

    with pytest.raises(DomainError) as refused:
        consumption_record(request, measure="cny", amount=Decimal(600))  # 1600 > 1500

    assert (refused.value.code, refused.value.status) == ("consumption_exceeds_hold", 422)
    assert "1500" in refused.value.message and "1600" in refused.value.message
    # the 1000 reported stays the truth: completion uses it and returns 500
    vendor_event(request, vendor=vendor, event="completed")
    cap = pool(policy, TRAVEL, "in_province")
    assert (cap.held, cap.used, cap.remaining) == (0, 1000, 1000)


# --- bulk expiry of a partly held pool ------------------------------------------------------


def test_bulk_expiry_keeps_the_hold_of_a_pool_of_several_units_and_takes_the_rest():
    # a 心理咨询 pool of 6 (中宏 "每年6次"): one used, two held by an open request; at the
    # year's end the 3 neither used nor held expire, the 2 held stay for that request
    policy = travel_policy("EDGE-EXPIRE-BULK")
    key = PoolKey(
        benefit=Benefit.objects.get(code="manulife.dmm.psych_hotline"),
        policy=policy,
        person=policy.members.get().person,
        pool_kind=QuotaBalance.PoolKind.MEMBER_FAMILY,
        measure="times",
        period_key="year:2026-01-02",
        period_start=date(2026, 1, 2),
        period_end=date(2027, 1, 1),
    )
    balance = balance_open(key=key, amount=Decimal(6), reason="开通")
    quota_hold(holds=[(balance, Decimal(2))], request_ref="SR-OPEN", reason="占用")
    quota_hold(holds=[(balance, Decimal(1))], request_ref="SR-DONE", reason="占用")
    quota_use(balance=balance, request_ref="SR-DONE", reason="完成")
    balances = QuotaBalance.objects.filter(pk=balance.pk)

    expired = quota_expire_bulk(balances=balances, reason="保单年度结束")
    again = quota_expire_bulk(balances=balances, reason="保单年度结束")

    balance.refresh_from_db()
    assert (expired, again) == (1, 0)
    assert (balance.granted, balance.held, balance.used, balance.remaining) == (3, 2, 1, 0)
    assert balance.entries.filter(kind="expire").get().amount == 3
    assert ledger_totals(balance) == {"granted": 3, "held": 2, "used": 1}
    # the open request still uses its hold in the old period
    quota_use(balance=balance, request_ref="SR-OPEN", reason="完成")
    balance.refresh_from_db()
    assert (balance.held, balance.used) == (0, 3)


# --- anniversary of a policy marked in force after its expiry ----------------------------


def test_no_new_year_opens_for_a_policy_still_marked_in_force_after_it_expired():
    policy = policy_with_members(
        number="EDGE-ANNIV-STALE",
        product="xiaokang.rsyj",
        members=[("陈三", date(1975, 3, 4), "self")],
        effective_on=date(2025, 3, 1),
        expires_on=date(2026, 2, 28),
    )
    assert policy.status == Policy.Status.IN_FORCE  # the daily sweep has not run yet

    result = anniversaries_run(date(2026, 3, 1))

    assert (result.policies, result.opened) == (0, 0)
    assert not QuotaBalance.objects.filter(policy=policy, period_key="year:2026-03-01").exists()


# --- SLA: exactly the due time ----------------------------------------------------------------


def test_a_milestone_is_not_breached_at_exactly_its_due_time_and_is_one_instant_later(
    monkeypatch,
):
    # "2个工作小时内联系": contacting at the due minute is on time (milestone_meet), so the
    # scan must not call it late at that minute either.
    clock = Clock(monkeypatch, at(2026, 3, 2, 9))
    request = outpatient_request(number="EDGE-SLA-DUE", at=at(2026, 3, 2, 9), actor=OPS)
    late = outpatient_request(number="EDGE-SLA-LATE", at=at(2026, 3, 2, 9), actor=OPS)
    contact = request.milestones.get(code="contact")
    due = contact.due_at
    assert due == at(2026, 3, 2, 11)

    at_due = sla_scan(due)
    contact.refresh_from_db()
    assert (at_due.breached, contact.state) == (0, Milestone.State.PENDING)
    assert late.milestones.get(code="contact").state == Milestone.State.PENDING
    clock.set(due)
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=request.benefit.vendor)
    request_transition(request, "contacted", actor=OPS)
    contact.refresh_from_db()
    assert contact.state == Milestone.State.MET

    after = sla_scan(due + timedelta(microseconds=1))
    assert after.breached == 1
    assert late.milestones.get(code="contact").state == Milestone.State.BREACHED


# --- working days of a 7×24 benefit -----------------------------------------------------


def test_a_7x24_benefit_counts_working_days_on_the_statutory_calendar():
    # 安盛 院外特药直付(国内) 服务时间 "7x24小时（含公共节假日、春节）"; 服务标准2 "1个工作日内
    # 完成权益及药品审核": from Friday it is due at the end of Monday, not of Saturday; from
    # the eve of 国庆 2026 (30 September) at the end of the first working day after it.
    terms = Benefit.objects.get(code="axa.zysh.special_drug_domestic").parsed_terms
    review = next(spec for spec in terms.sla if spec.code == "review")
    assert terms.service_hours is not None and terms.service_hours.days == "every_day"

    def due(start: datetime) -> datetime:
        return milestone_clock(review, terms, start, calendar_cached()).due.due.astimezone(TZ)

    assert due(at(2026, 3, 6, 10)) == datetime.combine(date(2026, 3, 9), time.max, TZ)
    assert due(at(2026, 9, 30, 10)).date() == date(2026, 10, 8)  # 国庆 1–7 October


# --- the next eligible date with several timed failures -------------------------------------

POLICY = PolicyFacts(
    status="in_force",
    signed_on=date(2026, 1, 1),
    effective_on=date(2026, 1, 2),
    expires_on=date(2027, 1, 1),
    waiting_days=30,
)
TIMED = parse_terms(
    {
        "summary": "t",
        "quota": {"unit": "unlimited"},
        "rules": [
            {"kind": "cooling_off", "days": 40, "clause": "犹豫期 40 日（假设）"},
            {"kind": "waiting_period", "days": 30, "inclusive": True, "clause": "等待期 30 日"},
        ],
    }
)


def facts(on: date, policy: PolicyFacts = POLICY) -> Facts:
    return Facts(
        at=datetime(on.year, on.month, on.day, 10, tzinfo=TZ),
        policy=policy,
        recipient=PersonFacts(birth_date=date(1980, 5, 1), is_insured_member=True),
    )


def test_the_next_eligible_date_is_when_the_last_of_the_timed_rules_passes():
    # cooling-off to 10 February, waiting period to 31 January: both fail on 20 January
    verdict = evaluate(TIMED, facts(date(2026, 1, 20)))

    assert [r.code for r in verdict.reasons] == ["cooling_off", "waiting_period"]
    assert verdict.next_eligible_on == date(2026, 2, 11)
    assert evaluate(TIMED, facts(date(2026, 2, 11))).reasons == []
    assert [r.code for r in evaluate(TIMED, facts(date(2026, 2, 10))).reasons] == ["cooling_off"]


def test_no_next_eligible_date_is_offered_after_the_policy_has_expired():
    # a policy of a few weeks: its waiting period outlasts it, so time alone never heals
    short = replace(POLICY, expires_on=date(2026, 1, 25))
    verdict = evaluate(TIMED, facts(date(2026, 1, 20), short))
    assert verdict.reasons
    assert verdict.next_eligible_on is None


def test_no_next_eligible_date_when_the_diagnosis_fell_inside_the_waiting_period():
    rules = parse_terms(
        {
            "summary": "t",
            "quota": {"unit": "unlimited"},
            "rules": [
                {
                    "kind": "waiting_period",
                    "days": 30,
                    "inclusive": True,
                    "diagnosis_inside_disqualifies": True,
                    "clause": "003 等待期内确诊不可使用",
                }
            ],
        }
    )
    diagnosed = replace(
        facts(date(2026, 1, 20)),
        diagnosis=DiagnosisFacts(diagnosed_on=date(2026, 1, 10), confirmed=True),
    )
    assert evaluate(rules, diagnosed).next_eligible_on is None
