"""Cancelling, and the other endings the cancellation terms decide (no-show, vendor
failure): whether the use counts, and the sentence that says so before anyone confirms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from benefits.calendar.durations import duration_after
from benefits.calendar.selectors import calendar_cached
from benefits.calendar.workcalendar import WorkingCalendar
from benefits.terms import display as terms_display
from benefits.terms.benefit_terms import BenefitTerms
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
    terms: BenefitTerms,
    *,
    reached: set[str],
    starts_at: datetime | None,
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> CancelOutcome:
    """Whether cancelling now costs the use, and the sentence that says so before the
    policyholder confirms. A free window on the working clock is counted on ``calendar``
    (the cached working calendar when None) within the benefit's service hours."""
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
        # "至少提前12小时": free while the start is at least that far off on the window's
        # clock — cancelling exactly 12 hours before is still in time.
        if policy.free_before.clock == "working" and calendar is None:
            calendar = calendar_cached()
        earliest_free_start = duration_after(
            now, policy.free_before, calendar=calendar, hours=terms.service_hours
        ).due
        if starts_at < earliest_free_start:
            return CancelOutcome(
                True, f"距服务开始不足{window}，取消后本次权益视为已使用。", policy.clause
            )
        return CancelOutcome(
            False, f"距服务开始超过{window}，现在取消不扣减权益次数。", policy.clause
        )
    return CancelOutcome(False, "现在取消不扣减权益次数，已占用的额度将返还。", policy.clause)


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
