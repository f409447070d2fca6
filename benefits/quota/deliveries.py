"""Recording that a use was delivered (``Delivery``): what a prerequisite asks for."""

from __future__ import annotations

from datetime import datetime

from benefits.models import Delivery


def delivery_record(
    *, policy_id: int, person_id: int, benefit_id: int, request_ref: str, at: datetime
) -> bool:
    """Record the delivery of request ``request_ref`` once; True when it is new."""
    _delivery, created = Delivery.objects.get_or_create(
        request_ref=request_ref,
        defaults={
            "policy_id": policy_id,
            "person_id": person_id,
            "benefit_id": benefit_id,
            "delivered_at": at,
        },
    )
    return created
