"""Services that ended on a given instant, written straight to the tables (the lifecycle is
tested elsewhere; settlement reads only the ending event, the request and its consumption)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal

from benefits.models import Benefit, Policy
from bookings.models import (
    Consumption,
    ContractPrice,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    Status,
)
from portal.kernel.clock import SHANGHAI

_refs = itertools.count(1)
ENDINGS = {
    "completed": Status.COMPLETED,
    "cancelled": Status.CANCELLED,
    "no_show": Status.NO_SHOW,
    "failed": Status.FAILED,
}


def shanghai(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def ended(
    policy: Policy,
    benefit: Benefit,
    at: datetime,
    *,
    event: str = "completed",
    outcome: str = QuotaOutcome.USED,
    consumed: dict[str, Decimal] | None = None,
    amount: Decimal | None = None,
) -> ServiceRequest:
    member = policy.members.first()
    assert member is not None
    request = ServiceRequest.objects.create(
        ref=f"T{next(_refs):08d}",
        policy=policy,
        member=member,
        recipient=member,
        benefit=benefit,
        vendor=benefit.vendor,
        status=ENDINGS[event],
        quota_outcome=outcome,
        amount=amount,
    )
    ending = RequestEvent.objects.create(
        request=request, event=event, to_status=ENDINGS[event], actor_label="服务商"
    )
    RequestEvent.objects.filter(pk=ending.pk).update(at=at)
    for measure, quantity in (consumed or {}).items():
        Consumption.objects.create(request=request, measure=measure, amount=quantity)
    return request


def price(benefit: Benefit, start: date, **fields: object) -> ContractPrice:
    fields.setdefault("basis", "times")
    row = ContractPrice(vendor=benefit.vendor, benefit=benefit, effective_from=start, **fields)
    row.full_clean()
    row.save()
    return row
