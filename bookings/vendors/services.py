"""What vendors do to service requests: API tokens, progress events, deliverables,
consumption, completion that uses only what was consumed. POSTs apply once per
``Idempotency-Key`` through ``bookings.idempotency``. The vendor API
(``bookings.vendors.api``) is a thin caller."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from benefits.models import Vendor
from benefits.quota.ledger import held_by_request
from bookings.documents.services import document_add
from bookings.lifecycle.cancellation import EVENT_CAUSES, cause_for
from bookings.lifecycle.services import delivery_check, request_transition
from bookings.lifecycle.workflow import DELIVERABLE_STATUSES, DELIVERING_STATUSES
from bookings.models import (
    Consumption,
    Document,
    ServiceRequest,
    Status,
    VendorAccount,
    VendorToken,
)
from portal.kernel.actor import ACTOR_LABEL_MAX_CHARS, Actor
from portal.kernel.errors import DomainError
from portal.kernel.tokens import token_authenticate, token_issue, token_revoke

# Public, recognisable in logs and secret scanners; the rest of the token is the secret.

# The events a vendor reports; everything else (approval, assignment, cancellation) is the
# insurer's or the policyholder's.
VENDOR_EVENTS = ("contacted", "plan_confirmed", "scheduled", "in_service", "completed", "failed")
CONSUMPTION_MEASURES = ("days", "cny", "times", "km")

# While the vendor is delivering: it must be able to call the client, report consumption
# and upload deliverables.
# A report (二诊报告, 康护指导书) often arrives with or after the completion event.


def vendor_actor(vendor: Vendor, user: Any = None) -> Actor:
    """How a vendor appears in event, ledger and access logs: ``vendor:<code>``, with the
    workbench user who acted (None through the API: a token is the vendor's)."""
    return Actor(user=user, label=f"vendor:{vendor.code}"[:ACTOR_LABEL_MAX_CHARS])


# --- tokens -------------------------------------------------------------------------------


def vendor_token_issue(*, vendor: Vendor, name: str) -> tuple[VendorToken, str]:
    """Create a token for ``vendor``; the raw value is returned once and never stored."""
    return token_issue(VendorToken, name=name, vendor=vendor)


def vendor_token_authenticate(raw: str) -> VendorToken | None:
    """The unrevoked token matching ``raw`` of a vendor still under contract, or None."""
    return token_authenticate(
        VendorToken.objects.select_related("vendor").filter(vendor__active=True), raw
    )


def vendor_token_revoke(*, token: VendorToken) -> None:
    token_revoke(token)


# --- workbench accounts -------------------------------------------------------------------


def vendor_account_of(user: Any) -> VendorAccount | None:
    """The workbench account of a logged-in ``user`` if it and its vendor are active, else
    None: a deactivated account or a vendor out of contract loses access at its next page."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        VendorAccount.objects.select_related("vendor", "user")
        .filter(user=user, active=True, vendor__active=True, user__is_active=True)
        .first()
    )


# --- progress, deliverables, consumption --------------------------------------------------


def _refuse(request: ServiceRequest, action: str) -> DomainError:
    return DomainError(
        "transition_not_allowed",
        _("申请当前状态为“%(status)s”，不能%(action)s")
        % {"status": Status(request.status).label, "action": action},
        status=409,
        current_status=request.status,
    )


def vendor_event(
    request: ServiceRequest,
    *,
    vendor: Vendor,
    event: str,
    at: datetime | None = None,
    place: str = "",
    reason: str = "",
    cause: str = "",
    user: Any = None,
) -> ServiceRequest:
    """Apply a vendor's progress report. ``scheduled`` needs ``at`` (and takes ``place``);
    ``failed`` needs ``reason`` and takes ``cause`` (``vendor_failure``, the default, or
    ``force_majeure``: the benefit's terms say whether the member keeps the use);
    ``completed`` uses only the consumed amount (see ``request_complete_with_consumption``).
    The caller has checked that ``request`` is assigned to ``vendor``."""
    if event not in VENDOR_EVENTS:
        raise DomainError(
            "invalid_input", _("服务商不能报告事件“%(event)s”") % {"event": event}, status=422
        )
    if event == "scheduled" and at is None:
        raise DomainError("invalid_input", _("预约事件必须提供预约时间 at"), status=422)
    if event == "failed" and not reason.strip():
        raise DomainError("invalid_input", _("未能提供服务时必须说明原因 reason"), status=422)
    cause = cause_for(event, cause, allowed=EVENT_CAUSES.get(event, ()))
    actor = vendor_actor(vendor, user)
    if event == "completed":
        return request_complete_with_consumption(request, actor=actor, reason=reason)
    data: dict[str, Any] = {}
    if event == "scheduled":
        data = {"at": at, "place": place}
    return request_transition(
        request, event, actor=actor, reason=reason, cause=cause or None, **data
    )


def deliverable_add(
    request: ServiceRequest,
    *,
    vendor: Vendor,
    name: str,
    data: bytes | IO[bytes],
    requirement: str = "",
    user: Any = None,
) -> Document:
    """Attach a vendor's deliverable (二诊报告, 康护指导书 …) after the usual content check.
    Raises ``UploadRejected`` for a file we refuse."""
    if request.status not in DELIVERABLE_STATUSES:
        raise _refuse(request, _("上传服务资料"))
    document = document_add(
        request,
        name=name,
        data=data,
        actor=vendor_actor(vendor, user),
        requirement=requirement,
        from_vendor=True,
    )
    delivery_check(request)  # a completed request may have waited for its deliverable
    return document


@transaction.atomic
def consumption_record(
    request: ServiceRequest, *, measure: str, amount: Decimal, note: str = ""
) -> Consumption:
    """Record what the vendor actually delivered (7 of 30 carer days, 1,860 元 paid); the
    completion uses it instead of the whole hold. The request is locked, as the completion
    locks it, so a report racing the completion is either counted or refused, never lost."""
    if measure not in CONSUMPTION_MEASURES:
        raise DomainError(
            "invalid_input", _("计量单位只能是 days、cny、times 或 km"), status=422, field="measure"
        )
    if amount <= 0:
        raise DomainError("invalid_input", _("数量必须大于0"), status=422, field="amount")
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status not in DELIVERING_STATUSES:
        raise _refuse(locked, _("记录服务消耗"))
    _check_within_hold(locked, measure, amount)
    return Consumption.objects.create(request=locked, measure=measure, amount=amount, note=note)


def _check_within_hold(request: ServiceRequest, measure: str, amount: Decimal) -> None:
    """Refuse (422 ``consumption_exceeds_hold``) a report that takes the request's reported
    consumption in ``measure`` past what it held there: the completion could use no more, and
    silently capping it would hide what the vendor claims. A measure the request holds no
    pool in (carer days on a per-use benefit) is recorded as information."""
    held = held_by_request(request.ref).get(measure)
    if held is None:
        return
    reported = sum(
        request.consumptions.filter(measure=measure).values_list("amount", flat=True), Decimal(0)
    )
    if reported + amount > held:
        raise DomainError(
            "consumption_exceeds_hold",
            _(
                "本申请占用额度%(held)s，已报告%(reported)s，本次%(amount)s，合计%(total)s超出占用额度"
            )
            % {
                "held": _fmt(held),
                "reported": _fmt(reported),
                "amount": _fmt(amount),
                "total": _fmt(reported + amount),
            },
            status=422,
            field="amount",
            measure=measure,
            held=str(held),
        )


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def request_complete_with_consumption(
    request: ServiceRequest, *, actor: Actor, reason: str = ""
) -> ServiceRequest:
    """Complete the request; the transition uses from each held pool what the vendor
    reported as consumed in its measure and returns the rest (``services._settle``)."""
    return request_transition(request, "completed", actor=actor, reason=reason)
