"""Scheduled messages (day-before reminders, follow-ups), the Celery beat schedules, and one
run of the SLA scan through a real Celery worker and Redis."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from benefits.demo import policy_with_members
from benefits.eligibility.facts import StayInput
from benefits.models import Benefit, Insurer, Product, Service, Vendor
from bookings import tasks as booking_tasks
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.messages.followups import followups_send
from bookings.models import FollowUp, Milestone, Notification, ServiceRequest
from portal.kernel.actor import Actor
from portal.models import SmsMessage
from portal.site.celery import app as portal_app
from tests.clock import at
from tests.factories import outpatient_request

OPS = Actor(label="insurer:ops")
PHONE = "13800138000"
Kind = FollowUp.Kind


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)`` sets what ``timezone.now()`` returns (events carry that time)."""
    state = {"now": at(2026, 3, 2, 9)}
    monkeypatch.setattr(timezone, "now", lambda: state["now"])
    return lambda moment: state.update(now=moment)


def assigned_request(clock, number: str) -> ServiceRequest:
    """A 门诊协助 request submitted Monday 2 March 2026 10:00, approved and assigned."""
    clock(at(2026, 3, 2, 10))
    request = outpatient_request(number=number, at=at(2026, 3, 2, 10), actor=OPS, phone=PHONE)
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=request.benefit.vendor)
    return request


def reminders(request: ServiceRequest) -> list[tuple[datetime, bool]]:
    rows = FollowUp.objects.filter(request=request, kind=Kind.APPOINTMENT_REMINDER)
    return [(row.due_at, row.cancelled) for row in rows.order_by("due_at")]


@pytest.mark.django_db
def test_an_appointment_gets_a_reminder_at_10_the_day_before_and_a_reschedule_moves_it(clock):
    request = assigned_request(clock, "PA-REMIND-1")

    # when the vendor books Tuesday 10 March 9:00
    clock(at(2026, 3, 3, 15))
    request_transition(request, "scheduled", actor=OPS, at=at(2026, 3, 10, 9))
    assert reminders(request) == [(at(2026, 3, 9, 10), False)]

    # and moves it to Thursday 12 March 14:00
    clock(at(2026, 3, 5, 11))
    request_transition(request, "scheduled", actor=OPS, at=at(2026, 3, 12, 14))

    # then the Monday reminder is cancelled and one goes out Wednesday 10:00
    assert reminders(request) == [(at(2026, 3, 9, 10), True), (at(2026, 3, 11, 10), False)]


@pytest.mark.django_db
def test_a_cancelled_request_sends_no_reminder(clock):
    request = assigned_request(clock, "PA-REMIND-2")
    clock(at(2026, 3, 3, 15))
    request_transition(request, "scheduled", actor=OPS, at=at(2026, 3, 10, 9))
    clock(at(2026, 3, 4, 9))
    request_transition(request, "cancelled", actor=OPS, reason="已自行挂号")

    assert reminders(request) == [(at(2026, 3, 9, 10), True)]
    assert followups_send(at(2026, 3, 9, 10)) == 0


@pytest.mark.django_db
def test_sending_due_reminders_twice_sends_each_once(clock, django_capture_on_commit_callbacks):
    # given a reminder due Monday 10:00
    request = assigned_request(clock, "PA-REMIND-3")
    clock(at(2026, 3, 3, 15))
    request_transition(request, "scheduled", actor=OPS, at=at(2026, 3, 10, 9), place="瑞金医院")
    before = Notification.objects.filter(request=request).count()

    # when the sender runs before it is due, when it is due, and again
    with django_capture_on_commit_callbacks(execute=True):
        early = followups_send(at(2026, 3, 9, 9, 59))
        first = followups_send(at(2026, 3, 9, 10))
        second = followups_send(at(2026, 3, 9, 10, 10))

    # then exactly one portal notice and one SMS, naming the appointment in Shanghai time
    assert (early, first, second) == (0, 1, 0)
    notices = Notification.objects.filter(request=request).order_by("-id")
    assert notices.count() == before + 1
    assert notices[0].title == "就诊前一日提醒：门诊协助"
    assert "2026年03月10日 09:00" in notices[0].body and "瑞金医院" in notices[0].body
    texts = list(SmsMessage.objects.filter(phone=PHONE, template="appointment_reminder"))
    assert len(texts) == 1
    assert "2026年03月10日 09:00" in texts[0].body and request.ref in texts[0].body
    assert FollowUp.objects.get(request=request).sent_at == at(2026, 3, 9, 10)


@pytest.mark.django_db
def test_pingan_rehab_followup_schedules_three_monthly_follow_ups_after_completion(
    clock, django_capture_on_commit_callbacks
):
    # given 平安 康复随访 "3个月内…共计完成3次", completed on 20 March 2026
    clock(at(2026, 3, 12, 10))
    policy = policy_with_members(
        number="PA-REHAB-1",
        product="pingan.health",
        members=[("赵二", date(1960, 6, 6), "self")],
        effective_on=date(2026, 1, 2),
        phones={0: PHONE},
    )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=Benefit.objects.get(code="pingan.health.rehab_followup"),
            at=at(2026, 3, 12, 10),
            planned_at=at(2026, 3, 16, 10),
            stay=StayInput(
                admitted_on=date(2026, 3, 1), discharged_on=date(2026, 3, 10), region="310101"
            ),
            hospital="复旦大学附属华山医院",
        ),
        actor=OPS,
    )
    for event, moment in [("approved", 12), ("assigned", 13), ("in_service", 16)]:
        clock(at(2026, 3, moment, 10))
        extra = {"vendor": request.benefit.vendor} if event == "assigned" else {}
        request_transition(request, event, actor=OPS, **extra)
    clock(at(2026, 3, 20, 16))
    request_transition(request, "completed", actor=OPS)

    # then three follow-ups, a month apart, at 10:00
    rows = FollowUp.objects.filter(request=request, kind=Kind.FOLLOW_UP).order_by("due_at")
    assert [row.due_at for row in rows] == [
        at(2026, 4, 20, 10),
        at(2026, 5, 20, 10),
        at(2026, 6, 20, 10),
    ]
    # and the first goes out on its day, naming the vendor that will call
    with django_capture_on_commit_callbacks(execute=True):
        assert followups_send(at(2026, 4, 20, 10)) == 1
    text = SmsMessage.objects.get(template="follow_up")
    assert request.benefit.vendor.name in text.body


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_runs_on_shanghai_time():
    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())

    tasks = {task.name: task for task in PeriodicTask.objects.filter(task__startswith="bookings.")}
    assert set(tasks) == {
        "sla-scan",
        "follow-ups",
        "vendor-webhooks",
        "policy-status",
        "records-retention",
    }
    retention = tasks["records-retention"].crontab
    assert (retention.hour, retention.minute) == ("2", "10")  # at night, Shanghai time
    scan, follow_ups = tasks["sla-scan"], tasks["follow-ups"]
    assert (scan.task, scan.crontab.minute, str(scan.crontab.timezone)) == (
        "bookings.tasks.scan_sla",
        "*/5",
        "Asia/Shanghai",
    )
    assert (follow_ups.task, follow_ups.crontab.minute) == (
        "bookings.tasks.send_follow_ups",
        "*/10",
    )
    assert tasks["vendor-webhooks"].interval.every == 1
    assert CrontabSchedule.objects.filter(minute__in=["*/5", "*/10"]).count() == 2
    daily = {
        task.task: (task.crontab.hour, task.crontab.minute)
        for task in PeriodicTask.objects.filter(crontab__hour="0")
    }
    assert daily == {
        "bookings.tasks.sweep_policy_status": ("0", "30"),
        "benefits.tasks.run_anniversaries": ("0", "40"),
        "benefits.tasks.expire_windows": ("0", "50"),
    }


# --- a real worker ----------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def worker_app():
    """A Celery app on the project's settings with its own queue on Redis and a result
    backend, so the test can wait for the task's answer; the project's app stays current."""
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping

    app = Celery("sla-e2e", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=settings.REDIS_URL,
        result_backend=settings.REDIS_URL,
        task_always_eager=False,
        task_default_queue=f"test-sla-{uuid.uuid4().hex}",
        worker_hijack_root_logger=False,
    )
    yield app
    portal_app.set_current()
    portal_app.set_default()


@contextmanager
def committed_request(prefix: str, person: str, **fields: Any) -> Iterator[ServiceRequest]:
    """A request on a catalogue of its own (a transactional test may have flushed the loaded
    one), committed for real so a worker thread, with its own connection, sees it; removed
    afterwards. Call it with the database unblocked."""
    code = prefix.lower()
    insurer = Insurer.objects.create(code=code, name=f"{prefix}保险", short_name=prefix)
    vendor = Vendor.objects.create(code=f"{code}.team", name=f"{prefix}服务团队", insurer=insurer)
    product = Product.objects.create(
        code=f"{code}.p",
        name=f"{prefix}测试产品",
        insurer=insurer,
        handbook_title="-",
        seed_file="-",
    )
    service = Service.objects.create(code=f"{code}.assist", name="门诊协助", category="就医")
    benefit = Benefit.objects.create(
        code=f"{code}.p.assist",
        product=product,
        service=service,
        vendor=vendor,
        name="门诊协助",
        terms={"summary": "门诊协助", "quota": {"unit": "unlimited"}},
        source_file="-",
        source_section="-",
        clause_text="-",
    )
    policy = policy_with_members(
        number=f"{prefix}-1",
        product=product.code,
        members=[(person, date(1982, 2, 2), "self")],
        effective_on=date(2026, 1, 2),
    )
    member = policy.members.get()
    request = ServiceRequest.objects.create(
        ref=f"SR{prefix}01",
        policy=policy,
        member=member,
        recipient=member,
        benefit=benefit,
        vendor=vendor,
        **fields,
    )
    try:
        yield request
    finally:
        holder = policy.holder
        for row in (request, member, policy, holder, benefit, service, product, vendor, insurer):
            row.delete()


@pytest.fixture
def overdue_milestone(django_db_setup, django_db_blocker):
    """A pending milestone past its deadline, committed for real (``committed_request``)."""
    with django_db_blocker.unblock(), committed_request("E2ESLA", "钱七") as request:
        now = timezone.now()
        yield Milestone.objects.create(
            request=request,
            code="contact",
            label="服务专员联系客户",
            starts_on="submitted",
            met_by="contacted",
            state=Milestone.State.PENDING,
            started_at=now - timedelta(hours=3),
            due_at=now - timedelta(hours=1),
        )


@pytest.mark.skipif(not redis_answers(settings.REDIS_URL), reason="no Redis at REDIS_URL")
def test_a_real_worker_runs_the_sla_scan_and_breaches_the_overdue_milestone(
    worker_app, overdue_milestone, django_db_blocker
):
    from celery.contrib.testing.worker import start_worker

    with django_db_blocker.unblock():
        with start_worker(worker_app, perform_ping_check=False, shutdown_timeout=30):
            result = worker_app.tasks[booking_tasks.scan_sla.name].delay()
            outcome = result.get(timeout=60)
        overdue_milestone.refresh_from_db()

    assert outcome == {"warned": 0, "breached": 1}
    assert overdue_milestone.state == Milestone.State.BREACHED
    assert overdue_milestone.breached_at is not None
