"""Connects the SLA clocks and the scheduled messages to the request lifecycle and to the
working calendar. Imported from ``BookingsConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from benefits.signals import calendar_changed
from bookings.messages.followups import followups_on_event
from bookings.models import RequestEvent, ServiceRequest
from bookings.signals import request_event
from bookings.sla.clocks import sla_on_event
from portal.kernel.outbox import enqueue_on_commit


@receiver(request_event, sender=ServiceRequest, dispatch_uid="bookings.sla.receivers.on_event")
def on_request_event(
    sender: type[ServiceRequest], request: ServiceRequest, event: RequestEvent, **_: Any
) -> None:
    """Inside the event's transaction: the milestones and reminders commit with it."""
    sla_on_event(request, event)
    followups_on_event(request, event)


@receiver(calendar_changed, dispatch_uid="bookings.sla.receivers.on_calendar_changed")
def on_calendar_changed(sender: Any, years: frozenset[int], **_: Any) -> None:
    """Confirming a year (or editing its days) moves open deadlines: recompute them in a
    worker. Sent inside the admin's transaction, so the outbox row commits with the change
    and the worker, which gets the task only after the commit, reads the new calendar; a
    broker that is down delays the recomputation instead of failing the admin's save."""
    from bookings.tasks import recompute_sla_deadlines

    enqueue_on_commit(recompute_sla_deadlines, sorted(years))
