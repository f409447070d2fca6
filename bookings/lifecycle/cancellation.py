"""Cancelling, and the other endings the cancellation terms decide (no-show, vendor
failure): whether the use counts, and the sentence that says so before anyone confirms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from benefits.terms import display as terms_display
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.timing import Duration
from bookings.lifecycle.workflow import transition_for
from bookings.models import ServiceRequest


@dataclass(frozen=True)
class CancelOutcome:
    counts_as_used: bool
    message: str
    clause: str = ""


def reached_events(request: ServiceRequest) -> set[str]:
    return set(request.events.values_list("event", flat=True))


def cancellation_outcome(
    terms: BenefitTerms, *, reached: set[str], starts_at: datetime | None, now: datetime
) -> CancelOutcome:
    """Whether cancelling now costs the use, and the sentence that says so before the
    policyholder confirms."""
    policy = terms.cancellation
    if policy is None:
        return CancelOutcome(False, "现在取消不扣减权益次数，已占用的额度将返还。")
    if policy.counted_as_used_from and policy.counted_as_used_from in reached:
        event = terms_display.EVENT_NAMES[policy.counted_as_used_from]
        return CancelOutcome(
            True, f"服务已{event}，按服务规则取消后本次权益视为已使用。", policy.clause
        )
    if policy.free_before and starts_at is not None:
        window = terms_display.duration(policy.free_before)
        # "至少提前12小时" — cancelling exactly 12 hours before is still in time.
        if starts_at - now < _as_timedelta(policy.free_before):
            return CancelOutcome(
                True, f"距服务开始不足{window}，取消后本次权益视为已使用。", policy.clause
            )
        return CancelOutcome(
            False, f"距服务开始超过{window}，现在取消不扣减权益次数。", policy.clause
        )
    return CancelOutcome(False, "现在取消不扣减权益次数，已占用的额度将返还。", policy.clause)


def _as_timedelta(duration: Duration) -> timedelta:
    amount = float(duration.amount)
    return {
        "minutes": timedelta(minutes=amount),
        "hours": timedelta(hours=amount),
        "days": timedelta(days=amount),
        "weeks": timedelta(weeks=amount),
    }.get(duration.unit, timedelta(days=amount))


def request_cancel_preview(
    request: ServiceRequest, *, now: datetime | None = None
) -> CancelOutcome:
    transition_for("cancelled", request.status)
    return cancellation_outcome(
        request.benefit.parsed_terms,
        reached=reached_events(request),
        starts_at=request.scheduled_at or request.planned_at,
        now=now or timezone.now(),
    )


def terms_decide(
    event: str, request: ServiceRequest, terms: BenefitTerms, now: datetime
) -> tuple[bool, str]:
    """(whether the use counts, the sentence that says so) for a transition the benefit's
    cancellation terms decide: cancelled, no_show, failed."""
    policy = terms.cancellation
    if event == "cancelled":
        outcome = cancellation_outcome(
            terms,
            reached=reached_events(request),
            starts_at=request.scheduled_at or request.planned_at,
            now=now,
        )
        return outcome.counts_as_used, outcome.message
    if event == "no_show":
        used = policy.no_show_counts_as_used if policy else True
        return used, "爽约视为已使用" if used else "爽约不扣减权益"
    # failed: the vendor could not deliver
    returned = policy.vendor_failure_returns_quota if policy else True
    return (not returned), ("权益已返还" if returned else "按服务规则视为已使用")
