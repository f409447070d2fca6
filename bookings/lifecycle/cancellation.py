"""Cancelling, changing the booked time, and the other endings the cancellation terms decide
(no-show, vendor failure): whether the use counts, and the sentence that says so before
anyone confirms.

A cancellation carries its cause. The member's own (subjective) cancellation is decided by
the timing rules (free window, "booked = used" — 中宏 "本服务启动后不可取消" reads so —,
changes beyond the allowed number); the objective causes — vendor failure, force majeure,
the hospital's side, a changed discharge date — by the benefit's flag for that cause; the
insurer's own mistake and the policy's end always return the use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from benefits.calendar.durations import duration_after
from benefits.calendar.selectors import calendar_cached
from benefits.calendar.workcalendar import WorkingCalendar
from benefits.terms import display as terms_display
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.cancellation import CancellationPolicy
from benefits.terms.timing import Duration
from bookings.lifecycle.workflow import PROGRESS, transition_for
from bookings.models import ServiceRequest
from portal.kernel.errors import DomainError

# Why a request ends without its service; recorded on the event, shown in the timeline.
CAUSES = {
    "member": gettext_lazy("客户本人取消"),
    "discharge_changed": gettext_lazy("出院日期变更"),
    "vendor_failure": gettext_lazy("服务商原因未能提供"),
    "force_majeure": gettext_lazy("不可抗力"),
    # An objective reason on the hospital's side, not the member's (专家临时停诊、医院原因).
    "hospital": gettext_lazy("医院原因（如专家临时停诊）"),
    "insurer": gettext_lazy("保险公司原因（如重复或误录申请）"),
    "policy_ended": gettext_lazy("保单终止"),
}
# The causes each event may carry (the first is the one it carries when none is given).
# ``policy_ended`` is the daily sweep's alone.
EVENT_CAUSES = {
    "cancelled": (
        "member",
        "discharge_changed",
        "vendor_failure",
        "force_majeure",
        "hospital",
        "insurer",
    ),
    "failed": ("vendor_failure", "force_majeure", "hospital"),
}
SYSTEM_CAUSES = frozenset({"policy_ended"})
RETURNED = "现在取消不扣减权益次数，已占用的额度将返还。"


@dataclass(frozen=True)
class CancelOutcome:
    counts_as_used: bool
    message: str
    clause: str = ""


def cause_for(event: str, cause: str | None, *, allowed: tuple[str, ...] | None = None) -> str:
    """The cause ``event`` carries: ``cause`` checked against what the caller's channel may
    say (``allowed``; the event's causes when None), or the first of them when none is
    given. Refuses, 422, an unknown cause (``invalid_cause``) and one this event or channel
    may not give (``cause_not_allowed``). Only an internal caller (``allowed`` None) may give
    a system cause (the daily sweep: ``policy_ended``)."""
    choices = allowed if allowed is not None else EVENT_CAUSES.get(event, ())
    if not cause:
        return choices[0] if choices else ""
    if cause not in CAUSES:
        raise DomainError(
            "invalid_cause",
            _("未知的原因类别“%(cause)s”，可选：%(choices)s")
            % {"cause": cause, "choices": "、".join(choices)},
            status=422,
            field="cause",
            cause=cause,
        )
    internal = allowed is None and cause in SYSTEM_CAUSES and event in EVENT_CAUSES
    if cause not in choices and not internal:
        raise DomainError(
            "cause_not_allowed",
            _("“%(cause)s”不能作为此操作的原因类别") % {"cause": CAUSES[cause]},
            status=422,
            field="cause",
            cause=cause,
        )
    return cause


def cause_label(cause: str) -> str:
    return str(CAUSES[cause]) if cause in CAUSES else cause


def reached_events(request: ServiceRequest) -> set[str]:
    """The events the request has reached: those recorded, and the steps of delivery before
    the furthest one (``PROGRESS``): "服务启动后" counts from the plan confirmed, which a booked
    bed implies whether or not the team reported it."""
    events = set(request.events.values_list("event", flat=True))
    furthest = max((PROGRESS.index(e) for e in events if e in PROGRESS), default=-1)
    return events | set(PROGRESS[: furthest + 1])


def _is_late(
    window: Duration,
    terms: BenefitTerms,
    *,
    starts_at: datetime,
    now: datetime,
    calendar: WorkingCalendar | None,
) -> bool:
    """Whether ``now`` is inside ``window`` before ``starts_at``, on the window's clock. The
    moment exactly ``window`` ahead is late only when the terms say so ("以内（含 24 小时）",
    ``boundary: late``); "至少提前12小时" leaves it in time."""
    assert terms.cancellation is not None
    if window.clock == "working" and calendar is None:
        calendar = calendar_cached()
    earliest_in_time = duration_after(now, window, calendar=calendar, hours=terms.service_hours).due
    if terms.cancellation.boundary == "late":
        return starts_at <= earliest_in_time
    return starts_at < earliest_in_time


def _beyond_changes(policy: CancellationPolicy, changes: int) -> bool:
    return policy.max_changes is not None and changes >= policy.max_changes


def cancellation_outcome(
    terms: BenefitTerms,
    *,
    reached: set[str],
    starts_at: datetime | None,
    now: datetime,
    changes: int = 0,
    calendar: WorkingCalendar | None = None,
) -> CancelOutcome:
    """Whether the member's own cancellation now costs the use, and the sentence that says
    so before the policyholder confirms. A free window on the working clock is counted on
    ``calendar`` (the cached working calendar when None) within the benefit's service
    hours. ``changes``: how often the booked time was already changed."""
    policy = terms.cancellation
    if policy is None:
        return CancelOutcome(False, RETURNED)
    if policy.counted_as_used_from and policy.counted_as_used_from in reached:
        event = terms_display.EVENT_NAMES[policy.counted_as_used_from]
        return CancelOutcome(
            True, f"服务已{event}，按服务规则取消后本次权益视为已使用。", policy.clause
        )
    if policy.beyond_max_changes == "used" and _beyond_changes(policy, changes):
        # MDT "最多 2 次……超出 2次取消/修改预约，仍视作服务权益已使用完毕": a cancellation
        # after the allowed changes is one more.
        return CancelOutcome(
            True,
            f"已变更预约{changes}次（最多{policy.max_changes}次），取消后本次权益视为已使用。",
            policy.clause,
        )
    if policy.free_before and starts_at is not None:
        window = terms_display.duration(policy.free_before)
        if not _is_late(policy.free_before, terms, starts_at=starts_at, now=now, calendar=calendar):
            return CancelOutcome(
                False, f"距服务开始超过{window}，现在取消不扣减权益次数。", policy.clause
            )
        needed = policy.late_counts_as_used_from
        if needed and needed not in reached:
            event = terms_display.EVENT_NAMES[needed]
            return CancelOutcome(
                False,
                f"距服务开始不足{window}，但尚未{event}，现在取消不扣减权益次数。",
                policy.clause,
            )
        return CancelOutcome(
            True, f"距服务开始不足{window}，取消后本次权益视为已使用。", policy.clause
        )
    return CancelOutcome(False, RETURNED, policy.clause)


def change_outcome(
    terms: BenefitTerms,
    *,
    changes: int,
    starts_at: datetime | None,
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> CancelOutcome:
    """What changing the booked time (``starts_at``) now costs, ``changes`` changes having
    been made already. Refuses (``change_not_allowed``, 409) a change beyond
    ``max_changes`` where the terms refuse rather than count it."""
    policy = terms.cancellation
    if policy is None:
        return CancelOutcome(False, "改约不扣减权益次数。")
    if _beyond_changes(policy, changes):
        if policy.beyond_max_changes == "refused":
            raise DomainError(
                "change_not_allowed",
                _("按服务规则，本服务预约确认后不支持变更时间")
                if policy.max_changes == 0
                else _("已变更预约%(n)d次，按服务规则最多%(max)d次，不能再变更")
                % {"n": changes, "max": policy.max_changes},
                status=409,
                changes=changes,
                max_changes=policy.max_changes,
            )
        return CancelOutcome(
            True,
            f"已变更预约{changes}次（最多{policy.max_changes}次），本次改约后权益视为已使用。",
            policy.clause,
        )
    notice = policy.change_notice
    if notice and starts_at is not None:
        late = _is_late(notice, terms, starts_at=starts_at, now=now, calendar=calendar)
        window = terms_display.duration(notice)
        if late and policy.late_change_counts_as_used:
            return CancelOutcome(
                True, f"距服务开始不足{window}，改约后本次权益视为已使用。", policy.clause
            )
        if late:
            return CancelOutcome(
                False,
                f"距服务开始不足{window}，将尽力按新时间安排服务，不扣减权益次数。",
                policy.clause,
            )
    return CancelOutcome(False, "改约不扣减权益次数。", policy.clause)


def request_cancel_preview(
    request: ServiceRequest, *, now: datetime | None = None, cause: str = "member"
) -> CancelOutcome:
    transition_for("cancelled", request.status)
    return cause_outcome(
        "cancelled", request, request.benefit.parsed_terms, now or timezone.now(), cause
    )


def _member_outcome(request: ServiceRequest, terms: BenefitTerms, now: datetime) -> CancelOutcome:
    return cancellation_outcome(
        terms,
        reached=reached_events(request),
        starts_at=request.scheduled_at or request.planned_at,
        now=now,
        changes=request.changes,
    )


def cause_outcome(
    event: str, request: ServiceRequest, terms: BenefitTerms, now: datetime, cause: str
) -> CancelOutcome:
    """The consequence of ending ``request`` by ``event`` (cancelled, failed) for ``cause``,
    as the benefit's terms say for that cause."""
    policy = terms.cancellation
    clause = policy.clause if policy else ""
    if cause in ("insurer", "policy_ended"):
        return CancelOutcome(False, "已占用的权益额度已返还。", clause)
    if cause == "vendor_failure":
        returned = policy.vendor_failure_returns_quota if policy else True
        message = "服务商原因未能提供服务，" + (
            "权益已返还。" if returned else "按服务规则视为已使用。"
        )
        return CancelOutcome(not returned, message, clause)
    if cause == "force_majeure" and (policy is None or policy.force_majeure_keeps_quota):
        return CancelOutcome(False, "因不可抗力未能提供服务，保留本次权益。", clause)
    if cause == "hospital" and (policy is None or policy.hospital_reason_keeps_quota):
        return CancelOutcome(False, "因医院原因未能按约定提供服务，保留本次权益。", clause)
    if cause == "discharge_changed" and (policy is None or policy.discharge_change_returns_quota):
        return CancelOutcome(False, "因出院日期变更取消，不扣减权益次数。", clause)
    # The member's own cancellation, or a cause the terms give no protection.
    return _member_outcome(request, terms, now)


def terms_decide(
    event: str, request: ServiceRequest, terms: BenefitTerms, now: datetime, cause: str = ""
) -> tuple[bool, str]:
    """(whether the use counts, the sentence that says so) for a transition the benefit's
    cancellation terms decide: cancelled, no_show, failed."""
    if event == "no_show":
        policy = terms.cancellation
        used = policy.no_show_counts_as_used if policy else True
        return used, "爽约视为已使用" if used else "爽约不扣减权益"
    outcome = cause_outcome(event, request, terms, now, cause or EVENT_CAUSES[event][0])
    return outcome.counts_as_used, outcome.message
