"""Scheduled messages after a request's events: the day-before appointment reminder and the
follow-ups (回访) some benefits promise after the service.

Rows live in the database (``FollowUp``) and ``followups_send`` finds the due ones, rather
than far-future ETAs in the broker: a reschedule moves a row, a cancellation cancels it, and
a lost worker loses nothing.

Follow-up plans are terms data (``terms.follow_ups``, ``benefits.terms.follow_ups.FollowUp``):
how many, how far apart, from which event, whether they stop at the policy's expiry, and the
clause they come from. Benefits whose handbook leaves the frequency to the vendor have none.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from benefits.calendar.durations import natural_delta
from bookings.lifecycle.workflow import ENDED_WITHOUT_SERVICE
from bookings.messages.notifications import contact_person, local_time, notify_person
from bookings.models import FollowUp, RequestEvent, ServiceRequest
from portal.kernel.clock import SHANGHAI

logger = logging.getLogger(__name__)

Kind = FollowUp.Kind
# Reminders and follow-ups go out in the morning, Shanghai time.
SEND_AT = time(10, 0)
# Rows claimed per query; the claim itself is one conditional UPDATE per row.
SEND_BATCH = 200


def _morning(day: date) -> datetime:
    return datetime.combine(day, SEND_AT, SHANGHAI)


def reminder_due(scheduled_at: datetime) -> datetime:
    """10:00 Shanghai on the day before the appointment."""
    return _morning(timezone.localtime(scheduled_at, SHANGHAI).date() - timedelta(days=1))


def reminder_schedule(request: ServiceRequest, at: datetime) -> FollowUp | None:
    """Put the request's appointment reminder on the day before ``request.scheduled_at``;
    a reschedule cancels the unsent one for the old day. None if the appointment is not
    after ``at`` (nothing left to remind of)."""
    scheduled_at = request.scheduled_at
    if scheduled_at is None or scheduled_at <= at:
        return None
    due = reminder_due(scheduled_at)
    FollowUp.objects.filter(
        request=request, kind=Kind.APPOINTMENT_REMINDER, sent_at__isnull=True, cancelled=False
    ).exclude(due_at=due).update(cancelled=True)
    row, _created = FollowUp.objects.get_or_create(
        request=request, kind=Kind.APPOINTMENT_REMINDER, due_at=due
    )
    if row.cancelled and row.sent_at is None:  # moved back to a day it was moved away from
        row.cancelled = False
        row.save(update_fields=["cancelled"])
    return row


def follow_ups_plan(request: ServiceRequest, completed_at: datetime) -> list[FollowUp]:
    """The follow-ups the benefit's terms promise after completion (``terms.follow_ups``)."""
    start = timezone.localtime(completed_at, SHANGHAI).date()
    days: list[date] = []
    for plan in request.benefit.parsed_terms.follow_ups:
        if plan.starts_on != "completed":
            continue
        # A whole number of natural days, weeks, months or years: the terms refuse anything else.
        step = natural_delta(plan.every)
        planned = [start + step * n for n in range(1, plan.count + 1)]
        if plan.until_policy_expiry:
            planned = [day for day in planned if day < request.policy.expires_on]
        days.extend(planned)
    if not days:
        return []
    return FollowUp.objects.bulk_create(
        [FollowUp(request=request, kind=Kind.FOLLOW_UP, due_at=_morning(day)) for day in days],
        ignore_conflicts=True,
    )


def followups_on_event(request: ServiceRequest, event: RequestEvent) -> None:
    """Keep the request's scheduled messages in step with its events (called inside the
    event's transaction)."""
    unsent = FollowUp.objects.filter(request=request, sent_at__isnull=True, cancelled=False)
    if event.event == "scheduled":
        reminder_schedule(request, event.at)
    elif event.event in ("in_service", "completed"):
        # The appointment is happening or done: nothing left to remind of.
        unsent.filter(kind=Kind.APPOINTMENT_REMINDER).update(cancelled=True)
        if event.event == "completed":
            follow_ups_plan(request, event.at)
    elif event.event in ENDED_WITHOUT_SERVICE:
        unsent.update(cancelled=True)


def _send(row: FollowUp) -> None:
    request = row.request
    context = {"ref": request.ref, "benefit": request.benefit.name}
    if row.kind == Kind.APPOINTMENT_REMINDER:
        context["scheduled_at"] = local_time(request.scheduled_at) if request.scheduled_at else ""
        context["place"] = request.place
        notify_person(contact_person(request), request, "appointment_reminder", context)
    else:
        context["vendor"] = request.vendor.name if request.vendor else request.benefit.vendor.name
        notify_person(contact_person(request), request, "follow_up", context)


def followups_send(now: datetime) -> int:
    """Send every reminder and follow-up due by ``now``; returns how many were sent.

    Each row is claimed by setting ``sent_at`` with ``WHERE sent_at IS NULL`` and sent only
    by the caller whose update changed it, so two workers (or a retried task) never send one
    twice. Sending is at most once: a provider failure after the claim is logged, not
    retried, because a reminder sent twice is worse than a portal notice without an SMS."""
    due = (
        FollowUp.objects.filter(sent_at__isnull=True, due_at__lte=now, cancelled=False)
        .select_related(
            "request__benefit__vendor",
            "request__vendor",
            "request__policy__holder",
            "request__recipient__person",
        )
        .order_by("due_at", "pk")
    )
    sent = 0
    while True:
        batch = list(due[:SEND_BATCH])
        if not batch:
            return sent
        for row in batch:
            with transaction.atomic():
                claimed = FollowUp.objects.filter(
                    pk=row.pk, sent_at__isnull=True, cancelled=False
                ).update(sent_at=now)
                if claimed == 1:
                    _send(row)
                    sent += 1
        if len(batch) < SEND_BATCH:
            return sent
