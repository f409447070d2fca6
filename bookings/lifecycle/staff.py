"""What the insurer's staff do to a request outside admin — the hotline agent on the phone,
through the staff API (``bookings.lifecycle.api``): the staff API's event names mapped onto
the lifecycle's transition table, with what each needs. The insurer's own service team is
the vendor of many benefits, so staff may also report scheduling, start and completion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from benefits.models import Vendor
from bookings.lifecycle.cancellation import EVENT_CAUSES, cause_for
from bookings.lifecycle.events import record_event
from bookings.lifecycle.reviews import REVIEW_EVENT, step_reached
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.workflow import TRANSITIONS, TransitionNotAllowed, transition_for
from bookings.models import OPEN_STATUSES, ServiceRequest, Status
from bookings.vendors.services import consumption_record
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError

# Staff API event → the lifecycle's event (bookings.lifecycle.workflow.TRANSITIONS).
STAFF_EVENTS: dict[str, str] = {
    "approve": "approved",
    "investigate": "investigating",
    "reject": "rejected",
    "assign": "assigned",
    "schedule": "scheduled",
    "reschedule": "scheduled",
    "start": "in_service",
    "complete": "completed",
    "cancel": "cancelled",
    "no_show": "no_show",
    "fail": "failed",
}
# Besides ``bookings.change_servicerequest``, which every event needs (the 主管's, as in
# admin's actions).
EVENT_PERMISSIONS: dict[str, str] = {
    "assign": "bookings.assign_servicerequest",
    "reject": "bookings.reject_servicerequest",
}
NEEDS_REASON = frozenset({"reject", "cancel", "fail"})
NEEDS_TIME = frozenset({"schedule", "reschedule"})
# The hotline says why it cancels: the cause decides what the cancellation costs.
NEEDS_CAUSE = frozenset({"cancel"})


@dataclass(frozen=True)
class Consumed:
    measure: str  # days, cny, times
    amount: Decimal
    note: str = ""


def _invalid(message: str, field: str) -> DomainError:
    return DomainError("invalid_input", message, status=422, field=field)


def check_staff_event(
    event: str, *, vendor: Vendor | None, at: datetime | None, reason: str, cause: str = ""
) -> None:
    """Refuse (422 ``invalid_input``) an event missing what it needs, and (422
    ``invalid_cause`` / ``cause_not_allowed``) a cause the event cannot carry."""
    if event not in STAFF_EVENTS:
        raise _invalid(_("不支持的事件“%(event)s”") % {"event": event}, "event")
    if event == "assign" and vendor is None:
        raise _invalid(_("派单必须提供服务商 vendor"), "vendor")
    if event in NEEDS_TIME and at is None:
        raise _invalid(_("预约或改约必须提供时间 at"), "at")
    if event in NEEDS_REASON and not reason.strip():
        raise _invalid(_("审核不通过、取消或未能提供服务时必须说明原因 reason"), "reason")
    if event in NEEDS_CAUSE and not cause:
        raise _invalid(
            _("取消必须说明原因类别 cause：%(choices)s")
            % {"choices": "、".join(EVENT_CAUSES[STAFF_EVENTS[event]])},
            "cause",
        )
    if cause:
        # Only the events that end a request without its service carry a cause.
        cause_for(STAFF_EVENTS[event], cause, allowed=EVENT_CAUSES.get(STAFF_EVENTS[event], ()))


@transaction.atomic
def review_record(
    request: ServiceRequest,
    *,
    actor: Actor,
    gate: str,
    passed: bool,
    reason: str,
    channel: str = "",
) -> ServiceRequest:
    """Record a review gate's decision (who recorded it, who decided, why) as a
    ``reviewed`` event. A failed review ends the request: rejected while it is under review,
    else cancelled for the insurer's cause (the quota is returned either way)."""
    locked = ServiceRequest.objects.select_for_update().select_related("benefit").get(pk=request.pk)
    spec = next((g for g in locked.benefit.parsed_terms.reviews if g.code == gate), None)
    if spec is None:
        codes = "、".join(g.code for g in locked.benefit.parsed_terms.reviews) or "无"
        raise _invalid(
            _("本权益没有审核节点“%(gate)s”（可选：%(codes)s）") % {"gate": gate, "codes": codes},
            "gate",
        )
    if not reason.strip():
        raise _invalid(_("记录审核结论必须说明依据 reason"), "reason")
    if locked.status not in OPEN_STATUSES or step_reached(locked, spec.before):
        raise DomainError(
            "review_closed",
            _("申请当前状态为“%(status)s”，不能再记录“%(label)s”")
            % {"status": Status(locked.status).label, "label": spec.label},
            status=409,
        )
    record_event(
        locked,
        REVIEW_EVENT,
        locked.status,
        actor,
        reason,
        gate=spec.code,
        label=spec.label,
        by=spec.by,
        passed=passed,
        **({"channel": channel} if channel else {}),
    )
    if passed:
        return locked
    why = f"{spec.label}未通过：{reason}"
    if locked.status in TRANSITIONS["rejected"].sources:
        return request_transition(locked, "rejected", actor=actor, reason=why)
    return request_transition(locked, "cancelled", actor=actor, reason=why, cause="insurer")


@transaction.atomic
def staff_event(
    request: ServiceRequest,
    *,
    actor: Actor,
    event: str,
    channel: str,
    vendor: Vendor | None = None,
    at: datetime | None = None,
    place: str = "",
    reason: str = "",
    cause: str = "",
    consumption: Sequence[Consumed] = (),
) -> ServiceRequest:
    """Apply a staff event through ``request_transition``; the channel ("hotline") is
    recorded on the event. ``complete`` first records what was consumed, so the completion
    uses only that and returns the rest of the hold — all in one transaction. The caller has
    checked the caller's permissions and that ``request`` is of their insurers."""
    check_staff_event(event, vendor=vendor, at=at, reason=reason, cause=cause)
    lifecycle_event = STAFF_EVENTS[event]
    if event == "reschedule" and request.status != Status.SCHEDULED:
        # Only a booked appointment can be moved; the first booking is "schedule".
        raise TransitionNotAllowed(lifecycle_event, request.status)
    # Refused here before any consumption is recorded; request_transition checks again
    # under the lock.
    transition_for(lifecycle_event, request.status)
    data: dict[str, Any] = {"channel": channel}
    if event == "assign":
        data["vendor"] = vendor
    if event in NEEDS_TIME:
        data["at"] = at
        data["place"] = place
    if event == "complete":
        for row in consumption:
            consumption_record(request, measure=row.measure, amount=row.amount, note=row.note)
    return request_transition(
        request, lifecycle_event, actor=actor, reason=reason, cause=cause or None, **data
    )
