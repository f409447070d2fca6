"""Every (event, status) pair of the transition table through ``request_transition``: the
allowed ones move the request to the table's target, every other one is refused with
``transition_not_allowed`` (409, naming the event and the status, as the APIs answer it) and
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from bookings.lifecycle.services import request_transition
from bookings.lifecycle.workflow import TRANSITIONS, allowed_events
from bookings.models import OPEN_STATUSES, QuotaOutcome, ServiceRequest, Status
from bookings.vendors.services import vendor_event
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from tests.clock import at
from tests.factories import outpatient_request

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
BOOKED = at(2026, 3, 20, 9)


class Rollback(Exception):
    pass


def in_status(status: str) -> ServiceRequest:
    request = outpatient_request(number=f"MATRIX-{status}", at=at(2026, 3, 2, 10), actor=OPS)
    ServiceRequest.objects.filter(pk=request.pk).update(
        status=status,
        vendor=request.benefit.vendor,
        scheduled_at=BOOKED if status != Status.SUBMITTED else None,
    )
    request.refresh_from_db()
    return request


def needs(event: str, request: ServiceRequest) -> dict[str, Any]:
    if event == "assigned":
        return {"vendor": request.benefit.vendor}
    if event == "scheduled":
        return {"at": at(2026, 3, 21, 9)}
    return {}


@pytest.mark.parametrize("status", list(Status.values))
def test_every_event_from_this_status_moves_as_the_table_says_or_is_refused(status):
    request = in_status(status)
    for event, transition in TRANSITIONS.items():
        allowed = status in transition.sources
        try:
            with transaction.atomic():
                moved = request_transition(
                    request, event, actor=OPS, now=at(2026, 3, 3, 10), **needs(event, request)
                )
                assert allowed, f"{event} from {status} should be refused"
                assert moved.status == (transition.target or status), (event, status)
                raise Rollback
        except Rollback:
            continue
        except DomainError as refused:
            assert not allowed, f"{event} from {status} refused: {refused.message}"
            assert (refused.code, refused.status) == ("transition_not_allowed", 409)
            assert refused.details == {"event": event, "current_status": status}
            assert str(Status(status).label) in refused.message
        request.refresh_from_db()
        assert request.status == status and request.quota_outcome == QuotaOutcome.HELD


def test_ended_requests_accept_no_event_and_open_ones_have_a_way_forward():
    for status in Status.values:
        if status in OPEN_STATUSES:
            assert allowed_events(status), status
        else:
            assert allowed_events(status) == [], status
    # a submission is created, never transitioned to
    assert TRANSITIONS["submitted"].sources == frozenset()


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.COMPLETED, Status.CANCELLED])
def test_a_vendor_reporting_a_step_out_of_order_gets_409(status):
    request = in_status(status)
    with pytest.raises(DomainError) as refused:
        vendor_event(request, vendor=request.benefit.vendor, event="in_service")
    assert (refused.value.code, refused.value.status) == ("transition_not_allowed", 409)
