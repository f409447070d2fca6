"""Service requests moving through the lifecycle (assigned, scheduled, completed, cancelled
…). Each step writes the request, its event and its quota movement in one transaction, so a
crash never leaves a request cancelled with its quota still held (or the other way round).
Submitting is ``bookings.lifecycle.submission``; what a cancellation costs is
``bookings.lifecycle.cancellation``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from benefits.catalogue.vendors import assignable_vendors
from benefits.models import Benefit, QuotaBalance, QuotaLedgerEntry, Vendor
from benefits.quota.deliveries import delivery_record
from benefits.quota.ledger import quota_release, quota_use
from bookings.lifecycle.cancellation import cause_for, cause_label, change_outcome, terms_decide
from bookings.lifecycle.events import notify, record_event
from bookings.lifecycle.reviews import review_gate_check
from bookings.lifecycle.workflow import transition_for
from bookings.models import Consumption, QuotaOutcome, ServiceRequest, Status
from portal.kernel.actor import SYSTEM, Actor
from portal.kernel.errors import DomainError


def _balances(request: ServiceRequest):
    ids = (
        QuotaLedgerEntry.objects.filter(request_ref=request.ref, kind=QuotaLedgerEntry.Kind.HOLD)
        .values_list("balance_id", flat=True)
        .distinct()
    )
    return list(QuotaBalance.objects.filter(pk__in=list(ids)).order_by("pk"))


def consumed_amounts(request: ServiceRequest) -> dict[str, Decimal]:
    """The vendor's reported consumption per measure, summed over its reports."""
    rows = (
        Consumption.objects.filter(request=request)
        .values("measure")
        .annotate(total=Sum("amount"))
        .values_list("measure", "total")
    )
    return dict(rows)


def _settle(
    request: ServiceRequest,
    use: bool,
    actor: Actor,
    reason: str,
    consumed: dict[str, Decimal] | None = None,
) -> None:
    """Use or release the request's holds. On completion, a pool whose measure the vendor
    reported consumption in (7 of 30 carer days) uses only that and returns the rest;
    pools nobody reported on (the request count) are used whole."""
    if request.quota_outcome != QuotaOutcome.HELD:
        return
    consumed = consumed or {}
    for balance in _balances(request):
        if use:
            quota_use(
                balance=balance,
                request_ref=request.ref,
                amount=consumed.get(balance.measure),
                actor=actor,
                reason=reason,
            )
        else:
            quota_release(balance=balance, request_ref=request.ref, actor=actor, reason=reason)
    request.quota_outcome = QuotaOutcome.USED if use else QuotaOutcome.RELEASED


def _quota_step(
    locked: ServiceRequest,
    event: str,
    *,
    actor: Actor,
    now: datetime,
    cause: str,
) -> str:
    """Move the request's hold as the transition and the benefit's terms say; returns the
    sentence that tells the policyholder what it cost ("" when nothing to say)."""
    transition = transition_for(event, locked.status)
    terms = locked.benefit.parsed_terms
    if transition.quota == "use":
        _settle(locked, True, actor, str(transition.label), consumed_amounts(locked))
    elif transition.quota == "release":
        _settle(locked, False, actor, str(transition.label))
    elif transition.quota == "terms":
        if locked.quota_outcome == QuotaOutcome.USED:
            # Used already: at the start of a service that cannot be split, or by a change
            # beyond the allowed number. Nothing goes back whatever the cause.
            return "本次权益此前已计为已使用，不再返还。"
        use, consequence = terms_decide(event, locked, terms, now, cause)
        _settle(locked, use, actor, f"{transition.label}：{consequence}")
        return consequence
    elif event == "scheduled" and locked.status == Status.SCHEDULED:
        # A change of the booked time, counted against the terms before it is applied.
        outcome = change_outcome(
            terms, changes=locked.changes, starts_at=locked.scheduled_at, now=now
        )
        if outcome.counts_as_used:
            _settle(locked, True, actor, f"改约：{outcome.message}")
        return outcome.message
    elif event == "in_service" and terms.quota.lapses_once_started:
        # 7天住院陪护 "不可拆分……剩余服务时长将自动默认失效": once started, the whole hold is
        # used; days the carer does not work do not come back.
        if locked.quota_outcome == QuotaOutcome.HELD:
            _settle(locked, True, actor, "服务已开始，不可拆分：未使用部分失效")
            return "服务已开始，按服务规则不可拆分，本次权益已使用，未用完的时长不再保留。"
    return ""


@transaction.atomic
def request_transition(
    request: ServiceRequest,
    event: str,
    *,
    actor: Actor = SYSTEM,
    reason: str = "",
    now: datetime | None = None,
    cause: str | None = None,
    **data: Any,
) -> ServiceRequest:
    """Apply ``event`` to the request (locked for the transaction), move its quota as the
    transition and the benefit's terms say, record who did it, why and (ending without the
    service) for which cause, and tell the policyholder. ``cause``: see
    ``cancellation.CAUSES``; a cancellation without one is the member's own, a failure
    without one the vendor's."""
    locked = ServiceRequest.objects.select_for_update().select_related("benefit").get(pk=request.pk)
    transition = transition_for(event, locked.status)
    cause = cause_for(event, cause)
    review_gate_check(locked, event)
    if event == "assigned":
        check_vendor_serves(data["vendor"], locked.benefit)
    from_status = locked.status
    consequence = _quota_step(locked, event, actor=actor, now=now or timezone.now(), cause=cause)
    if event == "assigned":
        locked.vendor = data.pop("vendor")
    if event == "scheduled":
        if locked.status == Status.SCHEDULED:
            locked.changes += 1
        locked.scheduled_at = data.pop("at")
        locked.place = data.pop("place", "") or locked.place
    if event in ("rejected", "failed", "cancelled"):
        locked.outcome_reason = reason[:300]
    if transition.target is not None:
        locked.status = transition.target
    locked.save()
    if event == "completed":
        delivery_check(locked, now)
    record_event(
        locked,
        event,
        from_status,
        actor,
        reason,
        **({"consequence": consequence} if consequence else {}),
        **({"cause": cause} if cause else {}),
        **{k: _jsonable(v) for k, v in data.items()},
    )
    notify(
        locked,
        title=f"{locked.benefit.name}：{transition.label}",
        body=_notice(locked, event, reason, consequence, cause),
    )
    request.refresh_from_db()
    return locked


def delivery_check(request: ServiceRequest, now: datetime | None = None) -> None:
    """Record the delivery once the request is completed and, where the benefit hands over a
    document (``deliverable``), the vendor has attached it: what a benefit that needs this
    one first asks for (``benefits.eligibility.history``)."""
    if request.status != Status.COMPLETED:
        return
    if (
        request.benefit.parsed_terms.deliverable
        and not request.documents.filter(from_vendor=True).exists()
    ):
        return
    delivery_record(
        policy_id=request.policy_id,
        person_id=request.member.person_id,
        benefit_id=request.benefit_id,
        request_ref=request.ref,
        at=now or timezone.now(),
    )


def check_vendor_serves(vendor: Vendor, benefit: Benefit) -> None:
    """Refuse (``vendor_not_serving``) a vendor that does not deliver ``benefit`` under its
    product — not its vendor nor one of its backup vendors, or no longer active. Every
    assignment (admin, bulk, API) goes through ``request_transition``, which asks here."""
    if assignable_vendors(benefit).filter(pk=vendor.pk).exists():
        return
    if not vendor.active and (
        vendor.pk == benefit.vendor_id or benefit.backup_vendors.filter(pk=vendor.pk).exists()
    ):
        message = "服务商“%(vendor)s”已停止合作，不能派单"
    else:
        message = "服务商“%(vendor)s”不提供本产品的“%(benefit)s”服务，不能派单"
    raise DomainError(
        "vendor_not_serving",
        message % {"vendor": vendor.name, "benefit": benefit.name},
        status=422,
        vendor=vendor.code,
        benefit=benefit.code,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def _notice(request: ServiceRequest, event: str, reason: str, consequence: str, cause: str) -> str:
    parts = [f"申请编号{request.ref}，当前状态：{Status(request.status).label}。"]
    if cause:
        parts.append(f"原因类别：{cause_label(cause)}。")
    if event == "scheduled" and request.scheduled_at:
        local = timezone.localtime(request.scheduled_at)
        parts.append(
            f"预约时间：{local:%Y年%m月%d日 %H:%M}"
            + (f"，地点：{request.place}" if request.place else "")
            + "。"
        )
    if reason:
        parts.append(f"说明：{reason}")
    if consequence:
        parts.append(consequence)
    return "".join(parts)
