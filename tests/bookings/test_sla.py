"""SLA milestones of real catalogue benefits, driven through the request lifecycle: when
each clock starts, when it is due on the Chinese working calendar, met or breached, the
scanner's warnings and breaches, recomputation when a year is confirmed, vendor KPIs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from benefits.calendar.services import calendar_years_confirm
from benefits.demo import policy_with_members
from benefits.eligibility.facts import DiagnosisInput, StayInput
from benefits.models import Benefit, CalendarDay, Vendor
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import Milestone, ServiceRequest, VendorWebhook, WebhookDelivery
from bookings.sla.clocks import breach_candidates, sla_scan, warning_candidates
from bookings.sla.selectors import vendor_scorecard
from bookings.tasks import recompute_sla_deadlines
from portal.kernel.actor import Actor
from portal.kernel.outbox import outbox_relay
from portal.models import TaskOutbox
from portal.site.celery import app as celery_app
from tests.clock import Clock, at

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
VENDOR = Actor(label="vendor:test")
State = Milestone.State


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, at(2026, 3, 2, 9))


def submit(clock: Clock, product: str, benefit: str, when: datetime, **extra) -> ServiceRequest:
    clock.set(when)
    policy = policy_with_members(
        number=f"SLA-{benefit.rsplit('.', 1)[-1]}-{when:%m%d%H%M}"[:40],
        product=product,
        members=[("林一", date(1980, 1, 1), "self")],
        effective_on=date(2025, 12, 1),
        expires_on=date(2027, 11, 30),
    )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=Benefit.objects.get(code=benefit),
            at=when,
            **extra,
        ),
        actor=OPS,
    )
    return request


def step(clock: Clock, request: ServiceRequest, event: str, when: datetime, **data) -> None:
    clock.set(when)
    request_transition(request, event, actor=OPS, **data)


def milestones(request: ServiceRequest) -> dict[str, Milestone]:
    return {m.code: m for m in Milestone.objects.filter(request=request)}


def outpatient_assist(clock: Clock, when: datetime) -> ServiceRequest:
    return submit(clock, "pingan.health", "pingan.health.outpatient_assist", when, region="上海市")


def assign(clock: Clock, request: ServiceRequest, when: datetime) -> None:
    step(clock, request, "approved", when)
    step(clock, request, "assigned", when, vendor=request.benefit.vendor)


# --- when clocks start and fall due ---------------------------------------------------------


def test_pingan_outpatient_contact_submitted_at_2030_is_due_1030_the_next_working_day(clock):
    # given 平安 门诊协助 "2个工作小时内联系", service hours 9:00-21:00 on working days
    request = outpatient_assist(clock, at(2026, 3, 2, 20, 30))  # Monday evening

    # then half an hour is left on Monday and 1.5 hours run from Tuesday 9:00
    rows = milestones(request)
    contact = rows["contact"]
    assert contact.state == State.PENDING
    assert contact.met_by == "contacted"
    assert contact.started_at == at(2026, 3, 2, 20, 30)
    assert contact.due_at == at(2026, 3, 3, 10, 30)
    assert contact.provisional is False
    # 24 working hours: 0.5 Monday + 12 Tuesday + 11.5 Wednesday
    assert rows["progress_feedback"].due_at == at(2026, 3, 4, 20, 30)
    # "4个工作日内完成预约" starts only when the plan is confirmed
    assert rows["booked"].state == State.WAITING and rows["booked"].due_at is None


def test_xiaokang_transport_48_natural_hours_run_through_the_weekend(clock):
    request = submit(
        clock,
        "xiaokang.rsyj",
        "xiaokang.rsyj.discharge_transport_escort",
        at(2026, 4, 3, 18),  # Friday, 清明 weekend ahead
        stay=StayInput(
            admitted_on=date(2026, 3, 25), discharged_on=date(2026, 4, 6), region="330102"
        ),
        hospital="浙江大学医学院附属第一医院",
        planned_at=at(2026, 4, 6, 10),
    )
    fulfil = milestones(request)["fulfil"]
    assert (fulfil.state, fulfil.met_by) == (State.PENDING, "scheduled")
    assert fulfil.due_at == at(2026, 4, 5, 18)


def test_pingan_second_opinion_report_in_5_working_days_skips_national_day_2026(clock):
    # given the records are complete on 30 September 2026
    request = submit(
        clock,
        "pingan.health",
        "pingan.health.second_opinion",
        at(2026, 9, 29, 10),
        diagnosis=DiagnosisInput(confirmed=True, diagnosed_on=date(2026, 9, 1), disease="恶性肿瘤"),
    )
    assert milestones(request)["opinion_report"].state == State.WAITING
    step(clock, request, "records_complete", at(2026, 9, 30, 10))

    # then 10-01..07 are holidays and Saturday 10-10 is a make-up working day:
    # 10-08, 10-09, 10-10, 10-12, 10-13; the day ends at 21:00 (service hours)
    report = milestones(request)["opinion_report"]
    assert report.state == State.PENDING
    assert report.due_at == at(2026, 10, 13, 21)
    assert report.provisional is False


@pytest.fixture
def eager_tasks():
    """Tasks queued with ``delay`` run at once, in the test's thread and transaction."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_a_clock_running_into_unconfirmed_2027_is_provisional_until_the_year_is_confirmed(
    clock, superuser, eager_tasks, django_capture_on_commit_callbacks
):
    # given a contact clock started on New Year's Eve 2026 at 20:30, 2027 not yet confirmed
    request = outpatient_assist(clock, at(2026, 12, 31, 20, 30))
    contact = milestones(request)["contact"]
    assert contact.due_at == at(2027, 1, 1, 10, 30)  # weekdays only: Friday 1 January
    assert contact.provisional is True

    # when an admin enters 元旦 2027 and confirms the year
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(
            date=date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电〔2026〕"
        )
        calendar_years_confirm(years=[2027], user=superuser)

    # then the deadline moves to Monday 4 January and is firm
    contact.refresh_from_db()
    assert contact.due_at == at(2027, 1, 4, 10, 30)
    assert contact.provisional is False


def test_confirming_a_year_while_the_broker_is_down_moves_the_deadlines_once_it_is_back(
    clock, superuser, eager_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    # given a provisional deadline in 2027 and a broker that refuses connections
    request = outpatient_assist(clock, at(2026, 12, 31, 20, 30))

    broker = {"down": True}
    publish = recompute_sla_deadlines.apply_async

    def refuse(*args, **kwargs):
        if broker["down"]:
            raise BrokerUnavailable("Error 111 connecting to redis. Connection refused.")
        return publish(*args, **kwargs)

    monkeypatch.setattr(recompute_sla_deadlines, "apply_async", refuse)

    # when the admin confirms the year: the change is saved, nothing raises
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(
            date=date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电〔2026〕"
        )
        calendar_years_confirm(years=[2027], user=superuser)

    # then the recomputation waits in the outbox (a row per calendar change, one task)
    waiting = TaskOutbox.objects.filter(sent_at__isnull=True)
    assert [(row.task, row.args, row.attempts) for row in waiting] == [
        (recompute_sla_deadlines.name, [[2027]], 1)
    ] * 2
    assert milestones(request)["contact"].provisional is True

    # and once the broker is back the relay sends it and the deadline moves
    broker["down"] = False
    relayed = outbox_relay(now=timezone.now() + timedelta(minutes=1))
    assert (relayed.sent, relayed.rows, relayed.failed) == (1, 2, 0)
    contact = milestones(request)["contact"]
    assert (contact.due_at, contact.provisional) == (at(2027, 1, 4, 10, 30), False)


# --- met, late, cancelled ---------------------------------------------------------------------


def test_contact_within_two_working_hours_is_met(clock):
    request = outpatient_assist(clock, at(2026, 3, 2, 20, 30))
    assign(clock, request, at(2026, 3, 3, 9, 10))
    step(clock, request, "contacted", at(2026, 3, 3, 10, 30))  # exactly at the deadline

    contact = milestones(request)["contact"]
    assert contact.state == State.MET
    assert contact.met_at == at(2026, 3, 3, 10, 30)
    assert contact.breached_at is None


def test_a_late_contact_stays_breached_and_records_when_it_was_done(clock):
    request = outpatient_assist(clock, at(2026, 3, 2, 20, 30))
    assign(clock, request, at(2026, 3, 3, 9, 10))
    step(clock, request, "contacted", at(2026, 3, 3, 10, 31))

    contact = milestones(request)["contact"]
    assert contact.state == State.BREACHED
    assert contact.met_at == at(2026, 3, 3, 10, 31)
    assert contact.breached_at == at(2026, 3, 3, 10, 31)


def test_scheduling_without_a_recorded_contact_meets_the_earlier_promises_too(clock):
    # given the vendor goes straight from assignment to an appointment the next afternoon
    request = outpatient_assist(clock, at(2026, 3, 2, 10))
    assign(clock, request, at(2026, 3, 2, 10, 5))
    step(clock, request, "scheduled", at(2026, 3, 3, 15), at=at(2026, 3, 10, 9))

    # then contacting and feedback are met by the appointment, late or not
    rows = milestones(request)
    assert rows["contact"].state == State.BREACHED  # due 12:00 on the day of submission
    assert rows["contact"].met_at == at(2026, 3, 3, 15)
    assert rows["progress_feedback"].state == State.MET  # due Wednesday 10:00
    # the booking clock never started (no plan was confirmed): nothing to measure
    assert rows["booked"].state == State.WAITING
    step(clock, request, "in_service", at(2026, 3, 10, 9))
    step(clock, request, "completed", at(2026, 3, 10, 11))
    assert milestones(request)["booked"].state == State.CANCELLED


def test_cancelling_a_request_cancels_its_open_milestones_and_keeps_a_breach(clock):
    request = outpatient_assist(clock, at(2026, 3, 2, 10))
    Milestone.objects.filter(request=request, code="contact").update(
        state=State.BREACHED, breached_at=at(2026, 3, 2, 12)
    )
    step(clock, request, "cancelled", at(2026, 3, 2, 15))

    states = {code: m.state for code, m in milestones(request).items()}
    assert states == {
        "contact": State.BREACHED,
        "progress_feedback": State.CANCELLED,
        "booked": State.CANCELLED,
    }


def test_phone_doctor_keeps_the_night_promise_for_a_call_at_2230(clock):
    # given 中宏团体 电话医生: 5 minutes for calls 9:00-21:00, else 2 hours from 9:00
    request = submit(clock, "manulife.hywj", "manulife.hywj.phone_doctor", at(2026, 3, 2, 22, 30))

    rows = milestones(request)
    assert rows["doctor_callback_day"].state == State.CANCELLED
    assert rows["doctor_callback_night"].state == State.PENDING
    assert rows["doctor_callback_night"].due_at == at(2026, 3, 3, 11)


# --- the scanner ----------------------------------------------------------------------------


@pytest.fixture
def vendor_webhook():
    vendor = Benefit.objects.get(code="pingan.health.outpatient_assist").vendor
    return VendorWebhook.objects.create(
        vendor=vendor, url="https://vendor.example/hook", secret="s3cret"
    )


def test_the_scan_breaches_and_warns_once_and_a_second_run_changes_nothing(
    clock, settings, vendor_webhook, django_capture_on_commit_callbacks
):
    # given two assigned requests: one contact overdue, one with 20 minutes left
    settings.OPERATIONS_EMAILS = ["ops@insurer.example"]
    overdue = outpatient_assist(clock, at(2026, 3, 2, 9))
    assign(clock, overdue, at(2026, 3, 2, 9, 5))
    soon = outpatient_assist(clock, at(2026, 3, 2, 9, 40))
    assign(clock, soon, at(2026, 3, 2, 9, 45))
    now = at(2026, 3, 2, 11, 20)  # overdue's contact was due 11:00, soon's is due 11:40

    # when the scan runs twice
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_scan(now)
    with django_capture_on_commit_callbacks(execute=True):
        second = sla_scan(now + timedelta(minutes=1))

    # then one breach and one warning, notified once each, and nothing the second time
    assert (first.breached, first.warned) == (1, 1)
    assert (second.breached, second.warned) == (0, 0)
    breached = milestones(overdue)["contact"]
    assert (breached.state, breached.breached_at) == (State.BREACHED, now)
    assert milestones(soon)["contact"].warned_at == now
    assert sorted(m.subject for m in mail.outbox) == [
        "服务时效即将到期：1项",
        "服务时效已超时：1项",
    ]
    breach_mail = next(m for m in mail.outbox if "超时" in m.subject)
    assert overdue.ref in breach_mail.body and "服务专员联系客户" in breach_mail.body
    assert mail.outbox[0].to == ["ops@insurer.example"]
    deliveries = WebhookDelivery.objects.filter(
        webhook=vendor_webhook, event__startswith="milestone."
    ).order_by("event")
    assert [(d.event, d.payload["ref"]) for d in deliveries] == [
        ("milestone.breached", overdue.ref),
        ("milestone.warning", soon.ref),
    ]


def test_a_milestone_is_warned_once_a_quarter_of_its_clock_is_left_at_most_an_hour_ahead(clock):
    # given a request submitted Monday 9:00: contact due 11:00 (a 2-hour span), feedback due
    # Tuesday 21:00 (24 working hours over a 36-hour span)
    request = outpatient_assist(clock, at(2026, 3, 2, 9))
    rows = milestones(request)
    assert rows["contact"].due_at == at(2026, 3, 2, 11)
    assert rows["progress_feedback"].due_at == at(2026, 3, 3, 21)

    # then the contact is warned 30 minutes ahead (a quarter of 2 hours)
    assert sla_scan(at(2026, 3, 2, 10, 29)).warned == 0
    assert sla_scan(at(2026, 3, 2, 10, 30)).warned == 1
    # and the feedback one hour ahead (a quarter would be 9 hours)
    assert sla_scan(at(2026, 3, 3, 19, 59)).warned == 0
    assert sla_scan(at(2026, 3, 3, 20)).warned == 1
    assert milestones(request)["progress_feedback"].warned_at == at(2026, 3, 3, 20)


def test_the_scan_reads_only_the_index_range_of_due_milestones():
    # The cost must follow what is due, not how many milestones are open.
    now = at(2026, 3, 2, 12)
    for queryset in (breach_candidates(now), warning_candidates(now)):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "USING INDEX milestone_state_due (state=? AND due_at" in plan
            else:
                # A test table is tiny; ask whether the index can serve the query at all.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = " ".join(row[0] for row in cursor.fetchall())
                assert "milestone_state_due" in plan


# --- vendor KPIs ----------------------------------------------------------------------------


def test_the_vendor_scorecard_counts_on_time_and_averages_working_hours(
    clock, django_assert_num_queries
):
    # given three contacts by the same vendor: 1 h and 1.5 working hours (met), one late
    times = [
        (at(2026, 3, 2, 10), at(2026, 3, 2, 11)),  # 1 working hour
        (at(2026, 3, 2, 20, 30), at(2026, 3, 3, 10)),  # 0.5 + 1 = 1.5 working hours
        (at(2026, 3, 4, 10), at(2026, 3, 4, 12, 30)),  # 2.5 working hours: late
    ]
    for submitted, contacted in times:
        request = outpatient_assist(clock, submitted)
        assign(clock, request, submitted + timedelta(minutes=5))
        step(clock, request, "contacted", contacted)
    vendor = Benefit.objects.get(code="pingan.health.outpatient_assist").vendor

    # when (counts per code, the met rows' times, the benefits, the calendar's days and years)
    with django_assert_num_queries(5):
        lines = vendor_scorecard(vendor, at(2026, 3, 1), at(2026, 4, 1))

    # then
    contact = next(line for line in lines if line.code == "contact")
    assert (contact.count, contact.on_time, contact.late) == (3, 2, 1)
    assert contact.on_time_pct == Decimal("66.7")
    assert (contact.unit, contact.clock, contact.target_due) == ("hours", "working", 2)
    assert contact.average_elapsed == Decimal("1.67")  # (1 + 1.5 + 2.5) / 3
    assert contact.within_target is True
    other = Vendor.objects.exclude(pk=vendor.pk).first()
    assert vendor_scorecard(other, at(2026, 3, 1), at(2026, 4, 1)) == []
