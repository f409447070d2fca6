"""The service-request lifecycle as an explicit transition table.

Event codes are the ones the benefit terms name (``benefits.terms.vocabulary.RequestEvent``):
an SLA milestone that "starts on assigned" and a cancellation that "counts as used from
scheduled" both look for the event of that code in the request's history.

submitted → (records_requested ⇄ records_complete) → approved | rejected → assigned →
(contacted, plan_confirmed) → scheduled → in_service → completed; and from the open states
failed (vendor could not deliver), cancelled, no_show.

``quota`` says what the transition does to the request's hold: ``use`` and ``release`` are
fixed; ``terms`` means the benefit's cancellation policy decides (see services).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext_lazy as _

from bookings.models import Status
from portal.kernel.errors import DomainError

S = Status
QuotaEffect = Literal["hold", "use", "release", "terms"] | None


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change (contacted, plan_confirmed)
    label: object
    quota: QuotaEffect = None


# The status and event groups every module asks about, spelled once, here.
BEFORE_SERVICE = frozenset(
    {S.SUBMITTED, S.NEEDS_RECORDS, S.UNDER_REVIEW, S.APPROVED, S.ASSIGNED, S.SCHEDULED}
)
# A vendor is delivering (may see the phone, post events and deliverables).
# The steps of delivery in order: a request that reached one has passed the earlier ones,
# even if nobody reported them (a bed booked means the plan was confirmed).
PROGRESS = (
    "approved",
    "assigned",
    "contacted",
    "plan_confirmed",
    "scheduled",
    "in_service",
    "completed",
)
DELIVERING_STATUSES = frozenset({S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE})
DELIVERABLE_STATUSES = DELIVERING_STATUSES | {S.COMPLETED}
# Events that end a request without the service: clocks stop, reminders are dropped.
ENDED_WITHOUT_SERVICE = frozenset({"cancelled", "rejected", "failed", "no_show"})

TRANSITIONS: dict[str, Transition] = {
    "submitted": Transition(frozenset(), S.SUBMITTED, _("提交申请"), "hold"),
    "records_requested": Transition(
        frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.NEEDS_RECORDS, _("要求补充资料")
    ),
    "records_complete": Transition(
        frozenset({S.SUBMITTED, S.NEEDS_RECORDS}), S.UNDER_REVIEW, _("资料齐全，进入审核")
    ),
    # An investigation of the claim (平安 住院垫付 "若涉及调查，调查时效不计入"): the status
    # stays; SLA clocks whose terms pause on it stand still until the next event.
    "investigating": Transition(
        frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.ASSIGNED}),
        None,
        _("开始调查（暂停计时）"),
    ),
    "approved": Transition(frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.APPROVED, _("审核通过")),
    "rejected": Transition(
        frozenset({S.SUBMITTED, S.NEEDS_RECORDS, S.UNDER_REVIEW}),
        S.REJECTED,
        _("审核未通过"),
        "release",
    ),
    "assigned": Transition(frozenset({S.APPROVED, S.ASSIGNED}), S.ASSIGNED, _("派单给服务商")),
    "contacted": Transition(frozenset({S.ASSIGNED, S.SCHEDULED}), None, _("服务商已联系客户")),
    "plan_confirmed": Transition(frozenset({S.ASSIGNED, S.SCHEDULED}), None, _("服务方案已确认")),
    "scheduled": Transition(frozenset({S.ASSIGNED, S.SCHEDULED}), S.SCHEDULED, _("已预约")),
    "in_service": Transition(frozenset({S.ASSIGNED, S.SCHEDULED}), S.IN_SERVICE, _("服务开始")),
    "completed": Transition(
        frozenset({S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE}), S.COMPLETED, _("服务完成"), "use"
    ),
    "failed": Transition(
        frozenset({S.APPROVED, S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE}),
        S.FAILED,
        _("服务商未能提供服务"),
        "terms",
    ),
    "cancelled": Transition(BEFORE_SERVICE, S.CANCELLED, _("取消申请"), "terms"),
    "no_show": Transition(frozenset({S.SCHEDULED}), S.NO_SHOW, _("客户爽约"), "terms"),
}


# Events on a request's timeline that are no transition: they change neither the status nor
# the quota (a record added or removed, a rating).
NOTE_EVENTS: dict[str, object] = {
    "document_added": _("上传资料"),
    "document_removed": _("删除资料"),
    "rated": _("评价服务"),
    "records_consent_given": _("同意向服务商提供资料"),
    "records_consent_declined": _("未同意向服务商提供资料"),
    "records_consent_withdrawn": _("撤回向服务商提供资料的同意"),
    "records_purged": _("资料文件保存期满已删除"),
}
# Until the request is reviewed, the policyholder may take back a record they uploaded.
BEFORE_REVIEW = frozenset({S.SUBMITTED, S.NEEDS_RECORDS})


def event_label(event: str) -> object:
    """The event as the policyholder's timeline names it."""
    transition = TRANSITIONS.get(event)
    return transition.label if transition else NOTE_EVENTS.get(event, event)


class TransitionNotAllowed(DomainError):
    def __init__(self, event: str, status: str):
        label = TRANSITIONS[event].label if event in TRANSITIONS else event
        super().__init__(
            "transition_not_allowed",
            str(_("申请当前状态为“%(status)s”，不能%(action)s"))
            % {"status": Status(status).label, "action": label},
            status=409,
            event=event,
            current_status=status,
        )


def transition_for(event: str, status: str) -> Transition:
    """The transition ``event`` takes from ``status``, or a 409 naming both."""
    transition = TRANSITIONS.get(event)
    if transition is None or status not in transition.sources:
        raise TransitionNotAllowed(event, status)
    return transition


def allowed_events(status: str) -> list[str]:
    return [event for event, t in TRANSITIONS.items() if status in t.sources]
