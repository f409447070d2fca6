"""The policyholder's rating of a completed service: one per request, 1–5 stars and a
comment; the vendor that delivered is kept with it for the SLA dashboard's scorecard."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from bookings.lifecycle.events import record_event
from bookings.models import Rating, ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError, ErrorCode

STARS = range(1, 6)
COMMENT_MAX_CHARS = 500


def can_rate(request: ServiceRequest) -> bool:
    return request.status == Status.COMPLETED


def request_rate(request: ServiceRequest, *, stars: int, comment: str, actor: Actor) -> Rating:
    """Record the rating and a timeline row. Refused before completion or a second time."""
    if not can_rate(request):
        raise DomainError(
            ErrorCode.RATING_NOT_ALLOWED,
            "服务完成后才能评价",
            status=409,
            status_now=request.status,
        )
    if stars not in STARS:
        raise DomainError(ErrorCode.INVALID_INPUT, "请选择1到5星")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                request=request,
                vendor_id=request.vendor_id,
                stars=stars,
                comment=comment.strip()[:COMMENT_MAX_CHARS],
                rated_by=actor.user,
            )
            record_event(request, "rated", request.status, actor, f"{stars}星", stars=stars)
    except IntegrityError:
        raise DomainError(ErrorCode.ALREADY_RATED, "您已评价过这次服务", status=409) from None
    return rating
