"""What meets an SLA milestone, and which of several printed variants is measured, come from
the benefit's terms (``met_by``, ``alternative``), not from the milestone's code: real
catalogue milestones of every handbook, driven event by event."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from benefits.demo import policy_with_members
from benefits.models import Benefit
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import Milestone, RequestEvent, ServiceRequest
from bookings.sla.clocks import sla_on_event
from portal.kernel.actor import Actor
from tests.clock import Clock, at

pytestmark = pytest.mark.django_db
State = Milestone.State
OPS = Actor(label="insurer:ops")
MONDAY = at(2026, 3, 2, 10)


def bare_request(benefit: Benefit, ref: str) -> ServiceRequest:
    """A request on ``benefit`` with no eligibility checks: only its SLA is under test."""
    policy = policy_with_members(
        number=f"MET-{ref}",
        product=benefit.product.code,
        members=[("林一", date(1980, 1, 1), "self")],
        effective_on=date(2025, 12, 1),
    )
    member = policy.members.get()
    return ServiceRequest.objects.create(
        ref=ref, policy=policy, member=member, recipient=member, benefit=benefit
    )


def happen(request: ServiceRequest, event: str, when: datetime) -> None:
    sla_on_event(request, RequestEvent(request=request, event=event, at=when))


def state_of(request: ServiceRequest, code: str) -> str:
    return Milestone.objects.get(request=request, code=code).state


# (benefit, milestone, the events up to the one that meets it, the handbook clause)
MET_BY_CASES = [
    (
        "pingan.health.outpatient_assist",
        "contact",
        ["submitted", "approved", "assigned", "contacted"],
        "平安 1.3 2）服务专员 2 个工作小时内联系客户",
    ),
    (
        # its clock starts on plan_confirmed, the event "反馈" usually means: the next step meets it
        "pingan.health.admission_assist",
        "progress_feedback",
        ["submitted", "records_complete", "approved", "assigned", "plan_confirmed", "scheduled"],
        "平安 5.3 2）……就医方案确定后启动服务……3）24 小时内反馈安排进展",
    ),
    (
        "manulife.dmm.deposit_advance",
        "records_collected",
        ["submitted", "records_complete"],
        "中宏 百万无忧 二、（三）服务标准 1 个自然日内完成资料收集",
    ),
    (
        "axa.zysh.device_direct_pay",
        "hospital_arranged",
        ["submitted", "approved", "assigned", "contacted", "plan_confirmed", "scheduled"],
        "安盛 特定医疗器械直付·服务标准2 审核通过后5个工作日内……安排客户就医",
    ),
    (
        "manulife.hywj.psych_counselling",
        "phone_consultation",
        ["submitted", "approved", "assigned", "scheduled", "in_service"],
        "中宏团体 重疾心理咨询 预约完成后，心理专家在 1 个工作日内……提供电话咨询",
    ),
    (
        "xiaokang.rsyj.rehab_guide",
        "guide_issued",
        ["submitted", "records_complete", "approved", "assigned", "in_service", "completed"],
        "小康 四、（二）1.2 在 48 小时内……定制详细的《院后居家康护指导书》",
    ),
]


@pytest.mark.parametrize(
    ("benefit_code", "code", "events", "clause"),
    MET_BY_CASES,
    ids=[f"{case[0]}.{case[1]}" for case in MET_BY_CASES],
)
def test_a_catalogue_milestone_is_met_by_the_event_its_terms_name(
    benefit_code, code, events, clause
):
    # given the milestone as the terms state it
    benefit = Benefit.objects.get(code=benefit_code)
    spec = next(m for m in benefit.parsed_terms.sla if m.code == code)
    assert spec.met_by == events[-1], clause
    request = bare_request(benefit, f"MET{len(events)}{code[:12].upper()}")

    # when every event before the one that meets it happens, a minute apart
    for minute, event in enumerate(events[:-1]):
        happen(request, event, MONDAY + timedelta(minutes=minute))

    # then its clock runs, unmet; and the event the terms name meets it
    row = Milestone.objects.get(request=request, code=code)
    assert (row.state, row.met_by) == (State.PENDING, spec.met_by), clause
    happen(request, events[-1], MONDAY + timedelta(minutes=len(events)))
    assert state_of(request, code) == State.MET, clause


def test_the_engine_follows_the_terms_not_the_milestone_code():
    # given 平安 门诊协助 "联系客户" re-declared as met by the appointment
    benefit = Benefit.objects.get(code="pingan.health.outpatient_assist")
    terms = benefit.terms
    terms["sla"] = [
        {**m, "met_by": "scheduled"} if m["code"] == "contact" else m for m in terms["sla"]
    ]
    Benefit.objects.filter(pk=benefit.pk).update(terms=terms)
    request = bare_request(Benefit.objects.get(pk=benefit.pk), "METTERMS01")

    # when the vendor records a contact, then an appointment
    for minute, event in enumerate(["submitted", "approved", "assigned", "contacted"]):
        happen(request, event, MONDAY + timedelta(minutes=minute))
    assert state_of(request, "contact") == State.PENDING
    happen(request, "scheduled", MONDAY + timedelta(minutes=10))

    # then only the appointment met it
    assert state_of(request, "contact") == State.MET


# --- alternatives: one variant kept --------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "kept", "cancelled", "due"),
    [
        # 中宏团体 各项服务次数和时效说明·电话医生: 客户 9:00-21:00 致电 5 分钟内回电
        # one minute left at 20:59, four more from 9:00 the next day
        (
            at(2026, 3, 2, 20, 59),
            "doctor_callback_day",
            "doctor_callback_night",
            at(2026, 3, 3, 9, 4),
        ),
        # ……21:00-24:00 和 00:00-9:00 致电，医生需要在次日 11:00 前回电
        (at(2026, 3, 2, 21, 1), "doctor_callback_night", "doctor_callback_day", at(2026, 3, 3, 11)),
        (at(2026, 3, 3, 8, 59), "doctor_callback_night", "doctor_callback_day", at(2026, 3, 3, 11)),
        (
            at(2026, 3, 3, 9, 0),
            "doctor_callback_day",
            "doctor_callback_night",
            at(2026, 3, 3, 9, 5),
        ),
    ],
)
def test_phone_doctor_keeps_the_callback_promise_of_the_hour_the_request_came_in(
    monkeypatch, submitted, kept, cancelled, due
):
    Clock(monkeypatch, submitted)
    policy = policy_with_members(
        number=f"MET-PD-{submitted:%d%H%M}",
        product="manulife.hywj",
        members=[("林一", date(1980, 1, 1), "self")],
        effective_on=date(2025, 12, 1),
        expires_on=date(2027, 11, 30),
    )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=Benefit.objects.get(code="manulife.hywj.phone_doctor"),
            at=submitted,
        ),
        actor=OPS,
    )

    rows = {m.code: m for m in Milestone.objects.filter(request=request)}
    assert rows[kept].state == State.PENDING
    assert rows[cancelled].state == State.CANCELLED
    assert rows["agent_response"].state == State.PENDING  # not in the group: always measured
    assert rows[kept].due_at == due
