"""What cancelling or changing a booked service costs, read from the handbooks (平安, 003):
the notice to change a visit or a ride, the carer who must already be on duty, the MDT's
"24 小时以内（含 24 小时）" and its two changes; and what each cause of a cancellation costs.

The requests are held through the real ledger and moved through ``request_transition``;
eligibility is not the subject here, so they skip the submission checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from benefits.demo import policy_with_members
from benefits.models import Benefit, QuotaBalance
from benefits.quota.entitlements import pools_for
from benefits.quota.ledger import balance_open, quota_hold
from bookings.lifecycle.cancellation import cancellation_outcome, request_cancel_preview
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.staff import review_record
from bookings.lifecycle.workflow import TransitionNotAllowed
from bookings.models import QuotaOutcome, ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from tests.clock import at

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
BOOKED = at(2026, 5, 20, 10)
VISIT = "pingan.health.hospital_visit"
TRANSPORT = "pingan.health.discharge_transport"
CARER = "pingan.health.inpatient_carer_7d"
MDT = "pingan.health.tumor_mdt"
REHAB = "pingan.health.rehab_followup"
SERIAL = count(1)


def held_request(code: str, number: str) -> ServiceRequest:
    """A request for ``code`` on a new 平安 policy, its quota held as a submission holds it,
    approved and assigned to the benefit's vendor (not yet booked)."""
    policy = policy_with_members(
        number=number,
        product="pingan.health",
        members=[("林一", date(1970, 1, 1), "self")],
        effective_on=date(2026, 1, 2),
    )
    member = policy.members.get()
    benefit = Benefit.objects.get(code=code)
    ref = f"SR-READ-{next(SERIAL):04d}"  # refs are at most 20 characters
    pools = pools_for(
        benefit=benefit,
        policy=policy,
        person=member.person,
        on=date(2026, 5, 1),
        hospitalisation_id=1,
    )
    holds = [(balance_open(key=p.key, amount=p.amount, reason="开通"), Decimal(1)) for p in pools]
    quota_hold(holds=holds, request_ref=ref, reason="提交服务申请")
    request = ServiceRequest.objects.create(
        ref=ref,
        policy=policy,
        member=member,
        recipient=member,
        benefit=benefit,
        quota_outcome=QuotaOutcome.HELD,
    )
    for gate in benefit.parsed_terms.reviews:  # 平安 MDT: the 专案管理组's review first
        review_record(request, actor=OPS, gate=gate.code, passed=True, reason="审核通过")
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=benefit.vendor)
    return request


def booked_request(code: str, number: str, when: datetime = BOOKED) -> ServiceRequest:
    request = held_request(code, number)
    request_transition(request, "scheduled", actor=OPS, at=when, now=when - timedelta(days=5))
    request.refresh_from_db()
    return request


def balance(request: ServiceRequest) -> tuple[Decimal, Decimal, Decimal]:
    row = QuotaBalance.objects.get(policy=request.policy, benefit=request.benefit)
    return row.remaining, row.held, row.used


def outcome_of(request: ServiceRequest) -> str:
    request.refresh_from_db()
    return request.quota_outcome


# --- 住院探视 and 出院交通: a notice to change, not a deduction ----------------------------


@pytest.mark.parametrize("code", [VISIT, TRANSPORT])
def test_a_late_change_of_a_visit_or_a_ride_is_served_as_best_effort_and_costs_nothing(code):
    # 8.2 注意事项 2）/ 9.2 注意事项 5）"如需变更已约定的服务时间，客户需提前 4 小时通知；
    # 如客户未能提前变更已预约的服务，我方应尽力提供服务" — nothing says it counts as used.
    request = booked_request(code, f"PA-CHG-{code[-5:]}")

    moved = request_transition(
        request,
        "scheduled",
        actor=OPS,
        at=BOOKED + timedelta(hours=3),
        now=BOOKED - timedelta(hours=1),
    )

    assert moved.scheduled_at == BOOKED + timedelta(hours=3)
    assert outcome_of(request) == QuotaOutcome.HELD
    change = request.events.filter(event="scheduled").last()
    assert (
        change.data["consequence"]
        == "距服务开始不足4小时，将尽力按新时间安排服务，不扣减权益次数。"
    )


@pytest.mark.parametrize("code", [VISIT, TRANSPORT])
def test_cancelling_a_visit_or_a_ride_an_hour_before_returns_the_use(code):
    # Same clauses: the 4 hours are the notice to change the time; the handbook prints no
    # cancellation window, so a late cancellation is not counted as used.
    request = booked_request(code, f"PA-CXL-{code[-5:]}")
    when = BOOKED - timedelta(hours=1)

    assert request_cancel_preview(request, now=when).counts_as_used is False
    request_transition(request, "cancelled", actor=OPS, reason="家属接送", now=when)

    assert outcome_of(request) == QuotaOutcome.RELEASED
    assert balance(request) == (1, 0, 0)


# --- 7天住院陪护: used only when not told in time *and* the carer is on duty ----------------


@pytest.mark.parametrize("hours_before", [3, 1])
def test_a_carer_cancelled_before_arriving_is_returned_even_when_told_late(hours_before):
    # 6.4 "请提前一天或至少提前两小时……取消服务，权益会自动返还……如若不提前告知且护工已
    # 到岗，则视为服务已使用": told an hour before, the carer not yet there, nothing is used.
    request = booked_request(CARER, f"PA-CARER-{hours_before}")
    when = BOOKED - timedelta(hours=hours_before)

    preview = request_cancel_preview(request, now=when)
    request_transition(request, "cancelled", actor=OPS, reason="提前出院", now=when)

    assert preview.counts_as_used is False
    if hours_before < 2:
        assert preview.message == "距服务开始不足2小时，但尚未服务开始，现在取消不扣减权益次数。"
    assert outcome_of(request) == QuotaOutcome.RELEASED and balance(request) == (1, 0, 0)


def test_once_the_carer_is_on_duty_the_use_is_spent_and_unused_days_lapse():
    # 6.4 "如若不提前告知且护工已到岗，则视为服务已使用，无法进行取消"; 6.4 "不支持服务天数
    # 拆分使用，服务一旦开启便不能中断"; 6.5.5 "剩余服务时长将自动默认失效".
    request = booked_request(CARER, "PA-CARER-DUTY")

    request_transition(request, "in_service", actor=Actor(label="vendor:pingan_team"))

    # the use is spent at the start, before anyone reports how many days were worked
    assert outcome_of(request) == QuotaOutcome.USED
    assert balance(request) == (0, 0, 1)
    start = request.events.get(event="in_service")
    assert "不可拆分" in start.data["consequence"]
    with pytest.raises(TransitionNotAllowed):
        request_transition(request, "cancelled", actor=OPS, reason="不需要了")
    # a failure after the start gives nothing back either: the days left have lapsed
    request_transition(request, "failed", actor=OPS, reason="护工离岗")
    assert balance(request) == (0, 0, 1)
    assert request.events.get(event="failed").data["consequence"] == (
        "本次权益此前已计为已使用，不再返还。"
    )


# --- 肿瘤多学科会诊: "24 小时以内（含 24 小时）" and at most 2 changes -------------------------


@pytest.mark.parametrize(
    ("before", "counted_as_used"),
    [
        (timedelta(hours=24, minutes=1), False),
        (timedelta(hours=24), True),  # "含 24 小时": the boundary itself is late
        (timedelta(hours=23), True),
    ],
)
def test_mdt_cancelled_exactly_24_hours_before_counts_as_used(before, counted_as_used):
    # 4.4 4）"可在会诊咨询服务开始前 24 小时以上取消/修改预约"；5）"在会诊咨询服务开始前
    # 24 小时以内（含 24 小时）取消/修改预约，则视作服务权益已使用完毕"
    request = booked_request(MDT, f"PA-MDT-{int(before.total_seconds())}")
    when = BOOKED - before

    assert request_cancel_preview(request, now=when).counts_as_used is counted_as_used
    request_transition(request, "cancelled", actor=OPS, reason="改去外院", now=when)

    assert outcome_of(request) == (QuotaOutcome.USED if counted_as_used else QuotaOutcome.RELEASED)


def test_mdt_changed_exactly_24_hours_before_counts_as_used_and_moves_the_appointment():
    # 4.4 5）"24 小时以内（含 24 小时）取消/修改预约，则视作服务权益已使用完毕"
    request = booked_request(MDT, "PA-MDT-CHG-24")

    request_transition(
        request,
        "scheduled",
        actor=OPS,
        at=BOOKED + timedelta(days=2),
        now=BOOKED - timedelta(hours=24),
    )

    request.refresh_from_db()
    assert request.scheduled_at == BOOKED + timedelta(days=2)
    assert request.quota_outcome == QuotaOutcome.USED and balance(request) == (0, 0, 1)


def test_mdt_third_change_counts_as_used_and_so_does_a_cancellation_after_two():
    # 4.4 4）"最多 2 次。任何因被保险人爽约、超出 2次取消/修改预约，仍视作服务权益已使用完毕"
    changed = booked_request(MDT, "PA-MDT-3RD")
    cancelled = booked_request(MDT, "PA-MDT-2+C")
    week_before = BOOKED - timedelta(days=7)
    for request in (changed, cancelled):
        for n in (1, 2):
            request_transition(
                request, "scheduled", actor=OPS, at=BOOKED + timedelta(days=n), now=week_before
            )
        assert outcome_of(request) == QuotaOutcome.HELD  # two changes well ahead are free

    request_transition(
        changed, "scheduled", actor=OPS, at=BOOKED + timedelta(days=3), now=week_before
    )
    preview = request_cancel_preview(cancelled, now=week_before)
    request_transition(cancelled, "cancelled", actor=OPS, reason="不需要了", now=week_before)

    assert outcome_of(changed) == QuotaOutcome.USED
    assert changed.events.filter(event="scheduled").last().data["consequence"] == (
        "已变更预约2次（最多2次），本次改约后权益视为已使用。"
    )
    assert preview.counts_as_used is True
    assert outcome_of(cancelled) == QuotaOutcome.USED


def test_the_boundary_is_read_from_the_terms_not_from_code():
    # The same instant, exactly 24 h before: "以内（含 24 小时）" (boundary: late) is used,
    # "至少提前 24 小时" (boundary: in_time, 小康's reading) is free.
    terms = Benefit.objects.get(code=MDT).parsed_terms
    assert terms.cancellation is not None
    in_time = terms.model_copy(
        update={"cancellation": terms.cancellation.model_copy(update={"boundary": "in_time"})}
    )
    moment = {"reached": {"scheduled"}, "starts_at": BOOKED, "now": BOOKED - timedelta(hours=24)}

    assert cancellation_outcome(terms, **moment).counts_as_used is True
    assert cancellation_outcome(in_time, **moment).counts_as_used is False


def test_rehab_follow_up_cannot_be_moved_once_the_expert_time_is_confirmed():
    # 10.2 注意事项 1）"在服务人员与服务受益人预约确认专家时间后，本服务项目将不支持取消或调整"
    request = booked_request(REHAB, "PA-REHAB-CHG")

    with pytest.raises(DomainError) as refused:
        request_transition(
            request,
            "scheduled",
            actor=OPS,
            at=BOOKED + timedelta(days=1),
            now=BOOKED - timedelta(days=3),
        )

    assert (refused.value.code, refused.value.status) == ("change_not_allowed", 409)
    assert refused.value.message == "按服务规则，本服务预约确认后不支持变更时间"
    request.refresh_from_db()
    assert request.scheduled_at == BOOKED and request.changes == 0


# --- the cause decides -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "outcome", "label"),
    [
        ("member", QuotaOutcome.USED, "客户本人取消"),
        ("vendor_failure", QuotaOutcome.RELEASED, "服务商原因未能提供"),
        ("force_majeure", QuotaOutcome.USED, "不可抗力"),
        ("insurer", QuotaOutcome.RELEASED, "保险公司原因（如重复或误录申请）"),
    ],
)
def test_a_booked_rehab_follow_up_cancelled_costs_what_its_cause_costs(cause, outcome, label):
    # 10.2 1）booked = used for the member's own reasons; 不可抗力 "我们将暂停或终止本服务中
    # 相关服务项目的权益" — no promise to keep it (force_majeure_keeps_quota: false); a
    # vendor's failure returns it (vendor_failure_returns_quota, the default).
    request = booked_request(REHAB, f"PA-REHAB-{cause}")

    request_transition(request, "cancelled", actor=OPS, reason="来电", cause=cause)

    assert outcome_of(request) == outcome
    event = request.events.get(event="cancelled")
    assert (event.data["cause"], event.cause_label) == (cause, label)


def test_force_majeure_keeps_the_carer_use_even_after_booking():
    # 6.5.6 "因不可抗力（医院规定、自然灾害……）导致不能落实服务的……可以为客户保留当次权益"
    request = booked_request(CARER, "PA-CARER-FM")

    request_transition(
        request,
        "failed",
        actor=Actor(label="vendor:pingan_team"),
        reason="医院封闭管理",
        cause="force_majeure",
        now=BOOKED - timedelta(minutes=30),
    )

    assert outcome_of(request) == QuotaOutcome.RELEASED
    assert request.events.get(event="failed").data["consequence"] == (
        "因不可抗力未能提供服务，保留本次权益。"
    )


@pytest.mark.parametrize(
    ("event", "cause", "code"),
    [
        ("cancelled", "weather", "invalid_cause"),
        ("cancelled", "", None),
        ("failed", "member", "cause_not_allowed"),
        ("scheduled", "member", "cause_not_allowed"),
    ],
)
def test_a_cause_the_event_cannot_carry_is_refused_with_a_stable_code(event, cause, code):
    request = booked_request(MDT, f"PA-CAUSE-{event}-{cause or 'none'}")
    data = {"at": BOOKED + timedelta(days=9)} if event == "scheduled" else {}

    if code is None:  # none given: a cancellation is the member's own
        request_transition(request, event, actor=OPS, cause=cause, now=BOOKED - timedelta(days=9))
        assert request.events.get(event=event).data["cause"] == "member"
        return
    with pytest.raises(DomainError) as refused:
        request_transition(request, event, actor=OPS, cause=cause, **data)
    assert (refused.value.code, refused.value.status) == (code, 422)
    request.refresh_from_db()
    assert request.status == Status.SCHEDULED
