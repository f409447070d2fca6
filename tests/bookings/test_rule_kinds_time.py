"""Issue 14, the time kinds the lifecycle and the SLA clocks own, on the real clock code with
time-machine in Asia/Shanghai:

- ``same_day`` (中宏 DMM 专业陪诊 "完成时效：就诊、入院或出院当日"): due at the end of the day
  the escort started, whatever the hour;
- ``target: fastest`` (平安 住院陪护 "最快 12 工作小时之内……护工到岗"): measured, never breached;
- ``paused_by`` (平安 住院垫付 "若涉及调查，调查时效不计入"): the clock stands still from the
  investigation to the next event, the deadline moves by as much;
- the ``hospital`` cause (中宏 宏悦万家 3.4 "因专家临时停诊……医院原因……乙方将与客户协调其他就诊
  时间"): an objective reason keeps the use the member's own cancellation would cost — also
  through the staff requests API over HTTP, with the ``investigate`` event.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Benefit
from bookings.lifecycle.cancellation import cause_outcome
from bookings.models import Milestone, QuotaOutcome, RequestEvent, ServiceRequest
from bookings.sla.clocks import breach_candidates, milestones_create, sla_on_event, sla_scan
from tests.bookings.test_staff_requests_api import Agent, approved
from tests.clock import at

pytestmark = pytest.mark.django_db
State = Milestone.State
REFS = count(1)


def request_for(benefit: str, when: datetime) -> ServiceRequest:
    """A bare request of ``benefit`` whose milestones were created at ``when``; the events
    are fed to the SLA code as the lifecycle records them."""
    found = Benefit.objects.select_related("product").get(code=benefit)
    with time_machine.travel(when, tick=False):
        policy = policy_with_members(
            number=f"TK-{benefit[-12:]}-{when:%d%H%M}",
            product=found.product.code,
            members=[("林一", date(1980, 1, 1), "self")],
            effective_on=date(2025, 12, 1),
            expires_on=date(2027, 11, 30),
        )
        request = ServiceRequest.objects.create(
            ref=f"TK{next(REFS):06d}",
            policy=policy,
            member=policy.members.get(),
            recipient=policy.members.get(),
            benefit=found,
        )
        milestones_create(request, request.benefit.parsed_terms)
    return request


def happens(request: ServiceRequest, event: str, when: datetime) -> None:
    with time_machine.travel(when, tick=False):
        recorded = RequestEvent.objects.create(
            request=request, event=event, to_status=request.status, actor_label="test"
        )
        sla_on_event(request, recorded)


def milestone(request: ServiceRequest, code: str) -> Milestone:
    return Milestone.objects.get(request=request, code=code)


# --- same_day -----------------------------------------------------------------------------

ESCORT = "manulife.dmm.escort"


def escort_started(when: datetime) -> ServiceRequest:
    request = request_for(ESCORT, when - timedelta(days=2))
    happens(request, "in_service", when)
    return request


def test_the_escort_started_late_in_the_evening_is_due_at_midnight_the_same_day():
    # 三、（三）6 "完成时效：就诊、入院或出院当日"
    request = escort_started(at(2026, 3, 2, 20, 30))

    row = milestone(request, "same_day_escort")
    assert (row.state, row.due_at) == (State.PENDING, at(2026, 3, 3, 0))
    assert "当日" in row.clause


@pytest.mark.parametrize(
    ("done", "state"),
    [
        (at(2026, 3, 2, 23, 59), State.MET),  # pass
        (at(2026, 3, 3, 0), State.MET),  # boundary: the due instant itself is in time
        (at(2026, 3, 3, 0, 30), State.BREACHED),  # fail: the next day
    ],
)
def test_the_same_day_escort_is_met_only_on_its_day(done, state):
    request = escort_started(at(2026, 3, 2, 9))

    happens(request, "completed", done)

    assert milestone(request, "same_day_escort").state == state


# --- target: fastest ----------------------------------------------------------------------

CARER = "pingan.health.inpatient_carer_7d"


def test_the_fastest_carer_time_is_measured_but_never_breached():
    # 6.2 "最快 12 工作小时之内落实服务，服务人员到岗" (工作日 9:00-21:00): confirmed on
    # Monday 2 March at 9:00, 12 working hours end on Monday at 21:00
    request = request_for(CARER, at(2026, 3, 2, 8))
    happens(request, "plan_confirmed", at(2026, 3, 2, 9))
    row = milestone(request, "carer_on_duty")
    assert (row.target, row.due_at) == ("fastest", at(2026, 3, 2, 21))

    sla_scan(at(2026, 3, 4, 12))  # well past the fastest time: no breach is reported
    happens(request, "in_service", at(2026, 3, 4, 12))

    row.refresh_from_db()
    assert (row.state, row.breached_at, row.met_at) == (State.MET, None, at(2026, 3, 4, 12))
    assert "最快" in row.clause


# --- paused_by ----------------------------------------------------------------------------

ADVANCE = "pingan.health.inpatient_advance"


def test_an_investigation_pauses_the_advance_decision_and_moves_its_deadline():
    # 7.6 "提交完整材料后……4小时之内做出垫付结论"; "若涉及调查，调查时效不计入"
    request = request_for(ADVANCE, at(2026, 3, 2, 8))
    happens(request, "records_complete", at(2026, 3, 2, 9))
    assert milestone(request, "advance_decision").due_at == at(2026, 3, 2, 13)

    happens(request, "investigating", at(2026, 3, 2, 10))  # 1 hour used, 3 left
    assert milestone(request, "advance_decision").paused_at == at(2026, 3, 2, 10)
    sla_scan(at(2026, 3, 2, 15))  # past the first deadline while paused: nothing breached
    assert milestone(request, "advance_decision").state == State.PENDING
    assert not breach_candidates(at(2026, 3, 2, 15)).filter(request=request).exists()

    happens(request, "approved", at(2026, 3, 2, 16))  # 6 hours paused: due 19:00, met at 16:00

    row = milestone(request, "advance_decision")
    assert (row.state, row.due_at, row.paused_at) == (State.MET, at(2026, 3, 2, 19), None)


def test_a_record_uploaded_during_an_investigation_does_not_restart_the_clock():
    # the member adds a receipt while the investigation runs: no step, the clock stays stopped
    request = request_for(ADVANCE, at(2026, 3, 2, 8))
    happens(request, "records_complete", at(2026, 3, 2, 9))
    happens(request, "investigating", at(2026, 3, 2, 10))
    happens(request, "document_added", at(2026, 3, 2, 11))
    happens(request, "reviewed", at(2026, 3, 2, 12))
    assert milestone(request, "advance_decision").paused_at == at(2026, 3, 2, 10)

    happens(request, "approved", at(2026, 3, 2, 16))  # resumed by the step: 6 hours paused
    assert milestone(request, "advance_decision").due_at == at(2026, 3, 2, 19)


def test_an_investigation_after_approval_pauses_the_payment_too():
    # 7.5 "打款时效：完整材料审核通过后 4小时内"; "若涉及调查，调查时效不计入"
    request = request_for(ADVANCE, at(2026, 3, 2, 8))
    happens(request, "records_complete", at(2026, 3, 2, 9))
    happens(request, "approved", at(2026, 3, 2, 10))
    happens(request, "investigating", at(2026, 3, 2, 11))
    happens(request, "assigned", at(2026, 3, 3, 11))  # a day of investigation

    assert milestone(request, "payment").due_at == at(2026, 3, 3, 14)


def test_without_an_investigation_the_advance_decision_is_late_after_four_hours():
    request = request_for(ADVANCE, at(2026, 3, 2, 8))
    happens(request, "records_complete", at(2026, 3, 2, 9))

    happens(request, "approved", at(2026, 3, 2, 13, 1))  # fail: one minute late

    assert milestone(request, "advance_decision").state == State.BREACHED


# --- the hospital's side: an objective cause ----------------------------------------------


@pytest.mark.parametrize(
    ("cause", "used", "said"),
    [
        ("member", True, "视为已使用"),
        ("hospital", False, "因医院原因未能按约定提供服务，保留本次权益。"),
        ("force_majeure", False, "因不可抗力未能提供服务，保留本次权益。"),
    ],
)
def test_a_booked_outpatient_visit_cancelled_costs_what_its_cause_costs(cause, used, said):
    # 中宏 宏悦万家 重疾门诊 3.3 "服务预约成功后，无法取消……因客户原因未能按时就诊" (used)
    # and 3.4 "如因专家临时停诊……医院原因……乙方将与客户协调其他就诊时间" (kept)
    benefit = Benefit.objects.get(code="manulife.hywj.ci_outpatient")
    request = request_for(benefit.code, at(2026, 3, 2, 8))
    RequestEvent.objects.create(request=request, event="scheduled", to_status="scheduled")
    terms = benefit.parsed_terms

    outcome = cause_outcome("cancelled", request, terms, at(2026, 3, 3, 9), cause)

    assert (outcome.counts_as_used, said in outcome.message) == (used, True)
    assert "医院原因" in outcome.clause


def test_the_hotline_cancels_for_the_hospital_and_investigates_over_http():
    operator = Agent("operator", ["pingan"])
    supervisor = Agent("supervisor", ["pingan"])
    _, ref = approved(operator, "TK-HOSPITAL")
    supervisor.event(ref, "h-a", "assign", vendor="pingan_team")
    operator.event(ref, "h-s", "schedule", at=(timezone.now() + timedelta(days=3)).isoformat())

    done = operator.event(ref, "h-c", "cancel", reason="专家临时停诊", cause="hospital")

    assert done.status_code == 200, done.content
    body = done.json()
    assert body["quota_outcome"] == QuotaOutcome.RELEASED
    last = body["timeline"][-1]
    assert (last["cause"], last["cause_label"]) == ("hospital", "医院原因（如专家临时停诊）")
    assert last["consequence"] == "因医院原因未能按约定提供服务，保留本次权益。"


def test_an_investigation_is_recorded_through_the_staff_api_without_changing_the_status():
    operator = Agent("operator", ["pingan"])
    policy = policy_with_members(
        number="TK-INVESTIGATE",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
    )
    ref = operator.submit(policy, "i-submit").json()["ref"]

    answer = operator.event(ref, "i-1", "investigate", reason="核实既往病史")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "submitted"
    assert answer.json()["timeline"][-1]["event"] == "investigating"


def test_a_paused_working_clock_adds_only_the_working_time_it_stood_still():
    # A clock paused while waiting for the member's records (``paused_by:
    # records_requested``), on 平安 陪诊's "4 工作小时内响应" (工作日 9:00-21:00): paused Monday
    # 20:30, resumed Tuesday 10:00 — the night adds nothing, 30 + 60 working minutes do.
    benefit = Benefit.objects.get(code="pingan.health.escort")
    terms = benefit.terms
    terms["sla"] = [
        {**m, "paused_by": ["records_requested"]} if m["code"] == "response" else m
        for m in terms["sla"]
    ]
    Benefit.objects.filter(pk=benefit.pk).update(terms=terms)
    request = request_for(benefit.code, at(2026, 3, 2, 20))
    happens(request, "submitted", at(2026, 3, 2, 20))
    assert milestone(request, "response").due_at == at(2026, 3, 3, 12)

    happens(request, "records_requested", at(2026, 3, 2, 20, 30))
    happens(request, "records_complete", at(2026, 3, 3, 10))

    assert milestone(request, "response").due_at == at(2026, 3, 3, 13, 30)
