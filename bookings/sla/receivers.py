"""Connects the SLA clocks and the scheduled messages to the request lifecycle and to the
working calendar. Imported from ``BookingsConfig.ready``."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver
from kombu.exceptions import OperationalError as BrokerUnavailable

from benefits.signals import calendar_changed
from bookings.messages.followups import followups_on_event
from bookings.models import RequestEvent, ServiceRequest
from bookings.signals import request_event
from bookings.sla.clocks import sla_on_event, sla_recompute

logger = logging.getLogger(__name__)


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
    worker. Sent after the admin's change committed, so the worker reads the new calendar.
    If the broker is down the admin's change must still reach the deadlines: recompute here."""
    from bookings.tasks import recompute_sla_deadlines

    try:
        recompute_sla_deadlines.delay(sorted(years))
    except BrokerUnavailable:
        logger.warning("broker unavailable: recomputing SLA deadlines for %s inline", sorted(years))
        sla_recompute(years)
