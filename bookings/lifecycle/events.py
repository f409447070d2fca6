"""What every lifecycle step leaves behind: the request's event, and the portal
notification that tells the policyholder."""

from __future__ import annotations

from typing import Any

from bookings.models import Notification, RequestEvent, ServiceRequest
from bookings.signals import request_event
from portal.kernel.actor import Actor


def record_event(
    request: ServiceRequest,
    event: str,
    from_status: str,
    actor: Actor,
    reason: str = "",
    **data: Any,
) -> RequestEvent:
    """Write the request's event (``to_status`` is its status now) and announce it."""
    recorded = RequestEvent.objects.create(
        request=request,
        event=event,
        from_status=from_status,
        to_status=request.status,
        actor=actor.user,
        actor_label=actor.label,
        reason=reason[:300],
        data=data,
    )
    request_event.send(sender=ServiceRequest, request=request, event=recorded)
    return recorded


def notify(request: ServiceRequest, *, title: str, body: str) -> Notification:
    """A portal notification for the person who acts for the recipient (the holder)."""
    return Notification.objects.create(
        person_id=request.policy.holder_id, request=request, title=title[:120], body=body
    )
