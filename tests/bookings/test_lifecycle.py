"""Whole lifecycles of representative benefits at the service layer: what is held on
submission, what is used or returned at the end, and every step on the record."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from benefits.demo import policy_with_members
from benefits.eligibility.facts import DiagnosisInput, StayInput
from benefits.models import Benefit, QuotaBalance, Vendor
from bookings.lifecycle.cancellation import request_cancel_preview
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.staff import review_record
from bookings.lifecycle.submission import NotEligible, RequestInput, request_submit
from bookings.lifecycle.workflow import TransitionNotAllowed
from bookings.models import QuotaOutcome, RequestEvent, Status
from portal.kernel.actor import Actor
from tests.clock import at
from tests.factories import outpatient_request

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")


def remaining(policy, benefit_code: str, measure: str = "times") -> Decimal:
    balance = QuotaBalance.objects.get(policy=policy, benefit__code=benefit_code, measure=measure)
    return balance.remaining


def deliver(request, *, scheduled_at: datetime | None = None) -> None:
    request_transition(request, "approved", actor=OPS)
    request_transition(
        request, "assigned", actor=OPS, vendor=request.benefit.vendor or Vendor.objects.first()
    )
    request_transition(request, "scheduled", actor=OPS, at=scheduled_at or at(2026, 6, 1, 9))


def test_a_pingan_family_member_uses_the_pooled_outpatient_assist_and_the_pool_is_gone_for_all():
    policy = policy_with_members(
        number="PA-LIFE-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self"), ("李二", date(1986, 2, 2), "spouse")],
        effective_on=date(2026, 1, 2),
    )
    holder, spouse = policy.members.order_by("ref")
    benefit = Benefit.objects.get(code="pingan.health.outpatient_assist")
    data = RequestInput(
        policy=policy,
        member=spouse,
        benefit=benefit,
        at=at(2026, 3, 2, 10),
        planned_at=at(2026, 3, 10, 9),
        region="上海市",
        submission_key="form-1",
    )
    request, created = request_submit(data, actor=OPS)
    assert created and request.status == Status.SUBMITTED
    assert request.quota_outcome == QuotaOutcome.HELD
    assert remaining(policy, benefit.code) == 0  # one family pool: nobody else can use it now

    with pytest.raises(NotEligible) as refused:
        request_submit(
            RequestInput(
                policy=policy,
                member=holder,
                benefit=benefit,
                at=at(2026, 3, 3, 10),
                region="上海市",
            ),
            actor=OPS,
        )
    assert [r["code"] for r in refused.value.details["reasons"]] == ["quota_exhausted"]

    deliver(request)
    request_transition(request, "in_service", actor=OPS)
    request_transition(request, "completed", actor=OPS)
    request.refresh_from_db()
    assert request.quota_outcome == QuotaOutcome.USED
    balance = QuotaBalance.objects.get(policy=policy, benefit=benefit)
    assert (balance.granted, balance.held, balance.used) == (1, 0, 1)
    assert list(request.events.values_list("event", flat=True)) == [
        "submitted",
        "approved",
        "assigned",
        "scheduled",
        "in_service",
        "completed",
    ]


def test_submitting_the_same_form_twice_makes_one_request_and_one_hold(django_user_model):
    user = django_user_model.objects.create_user(username="holder-1")
    policy = policy_with_members(
        number="PA-LIFE-2",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=date(2026, 1, 2),
    )
    data = RequestInput(
        policy=policy,
        member=policy.members.get(),
        benefit=Benefit.objects.get(code="pingan.health.outpatient_assist"),
        at=at(2026, 3, 2, 10),
        region="上海市",
        submission_key="same-form",
    )
    first, created_first = request_submit(data, actor=Actor(user=user, label="policyholder"))
    second, created_second = request_submit(data, actor=Actor(user=user, label="policyholder"))
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert QuotaBalance.objects.get(policy=policy).held == 1


def _xiaokang_transport(number: str):
    policy = policy_with_members(
        number=number,
        product="xiaokang.rsyj",
        members=[("赵三", date(1960, 5, 5), "self")],
        effective_on=date(2026, 1, 2),
        signed_on=date(2026, 1, 1),
    )
    benefit = Benefit.objects.get(code="xiaokang.rsyj.discharge_transport_escort")
    data = RequestInput(
        policy=policy,
        member=policy.members.get(),
        benefit=benefit,
        at=at(2026, 4, 1, 10),
        stay=StayInput(
            admitted_on=date(2026, 3, 25), discharged_on=date(2026, 4, 3), region="330102"
        ),
        hospital="浙江大学医学院附属第一医院",
        planned_at=at(2026, 4, 3, 10),
    )
    request, _ = request_submit(data, actor=OPS)
    deliver(request, scheduled_at=at(2026, 4, 3, 10))
    return policy, request


@pytest.mark.parametrize(
    ("hours_before", "counted_as_used", "left"),
    [(11, True, 0), (12, False, 1), (13, False, 1)],
)
def test_xiaokang_transport_cancelled_under_12_hours_before_the_car_counts_as_used(
    hours_before, counted_as_used, left
):
    policy, request = _xiaokang_transport(f"XK-CANCEL-{hours_before}")
    when = at(2026, 4, 3, 10) - timedelta(hours=hours_before)
    preview = request_cancel_preview(request, now=when)
    assert preview.counts_as_used is counted_as_used
    if counted_as_used:
        assert preview.message == "距服务开始不足12小时，取消后本次权益视为已使用。"
    request_transition(request, "cancelled", actor=OPS, reason="出院时间改变", now=when)
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    assert remaining(policy, request.benefit.code) == left
    event = request.events.get(event="cancelled")
    assert event.reason == "出院时间改变"
    assert event.data["consequence"] == preview.message


def test_axa_boao_special_drug_once_booked_is_used_even_if_cancelled():
    policy = policy_with_members(
        number="AXA-BOAO-1",
        product="axa.zysh",
        members=[("钱四", date(1970, 7, 7), "self")],
        effective_on=date(2026, 1, 2),
        waiting_days=90,
    )
    benefit = Benefit.objects.get(code="axa.zysh.special_drug_boao")
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=benefit,
            at=at(2026, 6, 1, 10),
            planned_at=at(2026, 6, 20, 9),
            region="琼海市",
            hospital="博鳌超级医院",
            site="博鳌超级医院",
            variant="expert_clinic",  # 专家门诊: 15 days ahead, 19 given
            item="Brigatinib",  # on 附表3
            diagnosis=DiagnosisInput(
                confirmed=True,
                diagnosed_on=date(2026, 5, 10),
                first_diagnosed_on=date(2026, 5, 10),
                disease="恶性肿瘤-重度",
            ),
        ),
        actor=OPS,
    )
    before = request_cancel_preview(request, now=at(2026, 6, 2, 10))
    assert before.counts_as_used is False
    # 服务流程3: the 博鳌 hospital's assessment comes before the approval
    review_record(
        request,
        actor=OPS,
        gate="boao_hospital_assessment",
        passed=True,
        reason="博鳌超级医院评估：适宜申请海外药品",
    )
    deliver(request, scheduled_at=at(2026, 6, 20, 9))
    after = request_cancel_preview(request, now=at(2026, 6, 3, 10))
    assert after.counts_as_used is True
    assert "预约成功" in after.message
    request_transition(request, "cancelled", actor=OPS, now=at(2026, 6, 3, 10))
    request.refresh_from_db()
    assert request.quota_outcome == QuotaOutcome.USED
    assert remaining(policy, benefit.code) == 0


def test_manulife_dmm_carer_second_request_over_30_days_is_refused():
    policy = policy_with_members(
        number="DMM-CARER-1",
        product="manulife.dmm",
        members=[("孙五", date(1975, 3, 3), "self")],
        effective_on=date(2026, 1, 2),
        waiting_days=90,
    )
    benefit = Benefit.objects.get(code="manulife.dmm.inpatient_carer")
    member = policy.members.get()

    def ask(days: int, when: datetime):
        return RequestInput(
            policy=policy,
            member=member,
            benefit=benefit,
            at=when,
            amount=Decimal(days),
            stay=StayInput(admitted_on=when.date() - timedelta(days=1)),
            hospital="北京协和医院",
            diagnosis=DiagnosisInput(confirmed=False, diagnosed_on=date(2026, 4, 20)),
        )

    first, _ = request_submit(ask(20, at(2026, 5, 1, 10)), actor=OPS)
    assert remaining(policy, benefit.code, "days") == 10
    with pytest.raises(NotEligible) as refused:
        request_submit(ask(15, at(2026, 6, 1, 10)), actor=OPS)
    reasons = refused.value.details["reasons"]
    assert [r["code"] for r in reasons] == ["quota_exhausted"]
    assert "剩余10" in reasons[0]["message"] and "需要15" in reasons[0]["message"]
    # Ten days still fit: days and requests are two pools, both held.
    second, _ = request_submit(ask(10, at(2026, 6, 1, 10)), actor=OPS)
    assert remaining(policy, benefit.code, "days") == 0
    assert remaining(policy, benefit.code, "requests") == 0
    assert first.pk != second.pk


def test_manulife_group_kids_dental_second_choice_in_a_year_is_refused():
    policy = policy_with_members(
        number="HYWJ-DENT-1",
        product="manulife.hywj",
        members=[("周六", date(1988, 8, 8), "self"), ("周小", date(2018, 8, 8), "child")],
        effective_on=date(2026, 1, 2),
    )
    child = policy.members.get(ref="M2")
    benefit = Benefit.objects.get(code="manulife.hywj.kids_dental")

    def choose(option: str, when: datetime) -> RequestInput:
        return RequestInput(
            policy=policy, member=child, benefit=benefit, at=when, option=option, region="北京市"
        )

    request_submit(choose("fluoride_varnish", at(2026, 3, 1, 10)), actor=OPS)
    with pytest.raises(NotEligible) as refused:
        request_submit(choose("pit_fissure_sealing", at(2026, 5, 1, 10)), actor=OPS)
    codes = {r["code"] for r in refused.value.details["reasons"]}
    assert "exclusive_choice_used" in codes


def test_a_vendor_failure_returns_the_quota_and_a_finished_request_cannot_move():
    request = outpatient_request(number="PA-FAIL-1", at=at(2026, 3, 2, 10), actor=OPS)
    deliver(request)
    request_transition(request, "failed", actor=Actor(label="vendor:x"), reason="专家停诊")
    request.refresh_from_db()
    assert request.status == Status.FAILED and request.quota_outcome == QuotaOutcome.RELEASED
    assert remaining(request.policy, request.benefit.code) == 1
    with pytest.raises(TransitionNotAllowed) as refused:
        request_transition(request, "completed", actor=OPS)
    assert refused.value.code == "transition_not_allowed"
    assert "未能提供" in refused.value.message
    assert RequestEvent.objects.filter(request=request, event="failed").get().reason == "专家停诊"
