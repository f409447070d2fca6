"""Service requests: submit, move through the lifecycle, cancel. Each step writes the
request, its event and its quota movement in one transaction, so a crash never leaves a
request cancelled with its quota still held (or the other way round)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from benefits.catalogue.vendors import assignable_vendors
from benefits.eligibility.engine import Verdict, evaluate
from benefits.eligibility.facts import (
    DiagnosisInput,
    EligibilityQuery,
    PoolState,
    StayInput,
    eligibility_facts,
)
from benefits.models import (
    Benefit,
    Hospitalisation,
    Policy,
    PolicyMember,
    QuotaBalance,
    QuotaLedgerEntry,
    Vendor,
)
from benefits.quota.entitlements import PeriodUnknown, pools_for
from benefits.quota.ledger import balance_open, quota_hold, quota_release, quota_use
from benefits.terms import display as terms_display
from benefits.terms.schema import BenefitTerms, Duration
from bookings.lifecycle.workflow import transition_for
from bookings.models import (
    Consumption,
    Notification,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    Status,
)
from bookings.signals import request_event
from coverage.models import Region
from portal.kernel.actor import SYSTEM, Actor
from portal.kernel.errors import DomainError

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone


def new_ref() -> str:
    return "SR" + "".join(secrets.choice(REF_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class RequestInput:
    policy: Policy
    member: PolicyMember
    benefit: Benefit
    at: datetime
    recipient: PolicyMember | None = None
    planned_at: datetime | None = None
    stay: StayInput | None = None
    diagnosis: DiagnosisInput | None = None
    region: str | None = None
    hospital: str = ""
    amount: Decimal | None = None
    category: str | None = None
    option: str = ""
    note: str = ""
    conditions: frozenset[str] = frozenset()
    submission_key: str = ""


class NotEligible(DomainError):
    def __init__(self, verdict: Verdict):
        super().__init__(
            "not_eligible",
            "；".join(reason.message for reason in verdict.reasons),
            status=422,
            reasons=[
                {"code": r.code, "message": r.message, "clause": r.clause} for r in verdict.reasons
            ],
        )
        self.verdict = verdict


# --- eligibility with the request history -------------------------------------------------


def _query(data: RequestInput) -> EligibilityQuery:
    return EligibilityQuery(
        policy=data.policy.number,
        member=data.member.ref,
        benefit=data.benefit.code,
        at=data.at,
        recipient=data.recipient.ref if data.recipient else None,
        planned_at=data.planned_at,
        stay=data.stay,
        diagnosis=data.diagnosis,
        amount=data.amount,
        category=data.category,
        region=data.region,
        hospital=data.hospital or None,
        conditions=data.conditions,
    )


def history_facts(
    *, policy: Policy, member: PolicyMember, benefit: Benefit, period_start: date
) -> tuple[frozenset[str], frozenset[str]]:
    """(benefits whose prerequisite state this member reached, exclusive-choice groups
    already chosen this period) from the member's requests: one query each when needed."""
    terms = benefit.parsed_terms
    completed: set[str] = set()
    if terms.prerequisites:
        states = {p.state for p in terms.prerequisites}
        completed = set(
            RequestEvent.objects.filter(
                request__policy=policy, request__member=member, event__in=states
            ).values_list("request__benefit__code", flat=True)
        )
    groups: set[str] = set()
    if terms.exclusive_choice:
        chosen = ServiceRequest.objects.filter(
            policy=policy,
            member=member,
            benefit=benefit,
            quota_outcome__in=[QuotaOutcome.HELD, QuotaOutcome.USED],
            created_at__date__gte=period_start,
        ).exclude(option="")
        if chosen.exists():
            groups.add(terms.exclusive_choice.group)
    return frozenset(completed), frozenset(groups)


def request_verdict(data: RequestInput) -> Verdict:
    """What the engine says about this request right now (shown before submitting)."""
    verdict, _pools = _evaluate(data)
    return verdict


def _evaluate(data: RequestInput) -> tuple[Verdict, list[PoolState]]:
    benefit, facts, pools = eligibility_facts(_query(data))
    terms = benefit.parsed_terms
    period_start = pools[0].spec.key.period_start if pools else data.policy.effective_on
    completed, groups = history_facts(
        policy=data.policy, member=data.member, benefit=benefit, period_start=period_start
    )
    facts = replace(
        facts,
        completed_benefits=completed,
        exclusive_groups_used=groups,
        conditions=data.conditions,
    )
    return evaluate(terms, facts), pools


# --- submit -------------------------------------------------------------------------------


def _hospitalisation(data: RequestInput) -> Hospitalisation | None:
    if data.stay is None:
        return None
    region = Region.objects.filter(code=data.stay.region).first() if data.stay.region else None
    stay, _created = Hospitalisation.objects.get_or_create(
        person=(data.recipient or data.member).person,
        admitted_on=data.stay.admitted_on,
        hospital=data.hospital or "",
        defaults={
            "region": region,
            "discharged_on": data.stay.discharged_on,
            "day_surgery": data.stay.day_surgery,
            "ward": data.stay.ward,
            "pregnancy_related": data.stay.pregnancy_related,
        },
    )
    return stay


def _record(
    request: ServiceRequest,
    event: str,
    from_status: str,
    actor: Actor,
    reason: str = "",
    **data: Any,
) -> RequestEvent:
    recorded = RequestEvent.objects.create(
        request=request,
        event=event,
        from_status=from_status,
        to_status=request.status,
        actor=actor.user,
        actor_label=actor.label,
        reason=reason[:300],
        data=data,
    )
    request_event.send(sender=ServiceRequest, request=request, event=recorded)
    return recorded


def next_step_text(terms: BenefitTerms) -> str:
    """What happens next, in the handbook's own promise ("服务专员联系客户：提交申请后2个
    工作小时内")."""
    first = [m for m in terms.sla if m.starts_on in ("submitted", "records_complete")]
    if not first:
        return "我们已收到您的申请，服务人员将尽快与您联系。"
    return "；".join(terms_display.milestone(m) for m in first) + "。"


def request_submit(data: RequestInput, *, actor: Actor) -> tuple[ServiceRequest, bool]:
    """Create the request and hold its quota in one transaction. The same submission key
    from the same user returns the first request (``created`` False) instead of a second."""
    if data.submission_key and actor.user is not None:
        existing = ServiceRequest.objects.filter(
            submitted_by=actor.user, submission_key=data.submission_key
        ).first()
        if existing is not None:
            return existing, False
    verdict, _pools = _evaluate(data)
    if not verdict.eligible:
        raise NotEligible(verdict)
    terms = data.benefit.parsed_terms
    region = None
    place = data.region or (data.stay.region if data.stay else None)
    if place:
        region = Region.objects.filter(Q(code=place) | Q(name=place)).first()
    try:
        with transaction.atomic():
            stay = _hospitalisation(data)
            request = ServiceRequest.objects.create(
                ref=new_ref(),
                policy=data.policy,
                member=data.member,
                recipient=data.recipient or data.member,
                benefit=data.benefit,
                option=data.option,
                planned_at=data.planned_at,
                hospital=data.hospital,
                region=region,
                amount=data.amount,
                note=data.note,
                context=_context(data),
                submitted_by=actor.user,
                submission_key=data.submission_key,
            )
            _hold(request, data, stay, actor)
            _record(request, "submitted", "", actor)
            notify(
                request,
                title=f"{data.benefit.name}申请已提交",
                body=f"申请编号{request.ref}。{next_step_text(terms)}",
            )
    except IntegrityError:
        # The same form raced itself: the first insert won, and this one rolled back whole.
        existing = ServiceRequest.objects.filter(
            submitted_by=actor.user, submission_key=data.submission_key
        ).first()
        if existing is None:
            raise
        return existing, False
    return request, True


def _context(data: RequestInput) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if data.stay:
        context["hospitalisation"] = {
            "admitted_on": data.stay.admitted_on.isoformat(),
            "discharged_on": data.stay.discharged_on.isoformat()
            if data.stay.discharged_on
            else None,
            "day_surgery": data.stay.day_surgery,
            "ward": data.stay.ward,
            "region": data.stay.region,
        }
    if data.diagnosis:
        context["diagnosis"] = {
            "disease": data.diagnosis.disease,
            "confirmed": data.diagnosis.confirmed,
            "diagnosed_on": data.diagnosis.diagnosed_on.isoformat(),
        }
    if data.category:
        context["category"] = data.category
    return context


def _window_start(data: RequestInput) -> date | None:
    """A window benefit ("启动后180天内") keeps using the window its first use opened."""
    if data.benefit.parsed_terms.quota.period != "window_after_start":
        return None
    on = data.at.date()
    current = (
        QuotaBalance.objects.filter(
            benefit=data.benefit,
            policy=data.policy,
            period_key__startswith="window:",
            period_start__lte=on,
            period_end__gte=on,
        )
        .filter(Q(person=data.member.person) | Q(person__isnull=True))
        .order_by("period_start")
        .first()
    )
    return current.period_start if current else None


def _hold(
    request: ServiceRequest, data: RequestInput, stay: Hospitalisation | None, actor: Actor
) -> None:
    """Open the pools' balances for the period and hold what this use needs, all or none."""
    try:
        specs = pools_for(
            benefit=data.benefit,
            policy=data.policy,
            person=data.member.person,
            on=data.at.date(),
            hospitalisation_id=stay.pk if stay else None,
            window_started_on=_window_start(data),
        )
    except PeriodUnknown:
        raise DomainError("stay_required", "该权益按每次住院计，请填写住院信息") from None
    except ValueError as exc:
        raise DomainError("outside_policy_period", str(exc)) from None
    holds = []
    for spec in specs:
        key = spec.key
        if key.measure in ("times", "requests"):
            needed = Decimal(1)
        elif key.category and key.category != (data.category or ""):
            continue  # the money cap of another category (省内 vs 省外)
        else:
            needed = data.amount or Decimal(1)
        balance = balance_open(key=key, amount=spec.amount, reason="权益期间开始")
        holds.append((balance, needed))
    if not holds:
        return
    quota_hold(holds=holds, request_ref=request.ref, actor=actor, reason="提交服务申请")
    request.quota_outcome = QuotaOutcome.HELD
    request.save(update_fields=["quota_outcome", "updated_at"])


# --- moving through the lifecycle ---------------------------------------------------------


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


@transaction.atomic
def request_transition(
    request: ServiceRequest,
    event: str,
    *,
    actor: Actor = SYSTEM,
    reason: str = "",
    now: datetime | None = None,
    release_quota: bool = False,
    **data: Any,
) -> ServiceRequest:
    """Apply ``event`` to the request (locked for the transaction), move its quota as the
    transition and the benefit's terms say, record who did it and why, and tell the
    policyholder."""
    locked = ServiceRequest.objects.select_for_update().select_related("benefit").get(pk=request.pk)
    transition = transition_for(event, locked.status)
    if event == "assigned":
        check_vendor_serves(data["vendor"], locked.benefit)
    from_status = locked.status
    terms = locked.benefit.parsed_terms
    now = now or timezone.now()
    consequence = ""
    if transition.quota == "use":
        _settle(locked, True, actor, str(transition.label), consumed_amounts(locked))
    elif transition.quota == "release":
        _settle(locked, False, actor, str(transition.label))
    elif transition.quota == "terms" and release_quota:
        # Not the policyholder's doing (the policy ended): the hold goes back whatever the
        # cancellation terms say.
        consequence = "已占用的权益额度已返还。"
        _settle(locked, False, actor, f"{transition.label}：{reason}")
    elif transition.quota == "terms":
        use, consequence = _terms_decide(event, locked, terms, now)
        _settle(locked, use, actor, f"{transition.label}：{consequence}")
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
    _record(
        locked,
        event,
        from_status,
        actor,
        reason,
        **({"consequence": consequence} if consequence else {}),
        **{k: _jsonable(v) for k, v in data.items()},
    )
    notify(
        locked,
        title=f"{locked.benefit.name}：{transition.label}",
        body=_notice(locked, event, reason, consequence),
    )
    request.refresh_from_db()
    return locked


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
        vendor=vendor.code,
        benefit=benefit.code,
    )


def _terms_decide(event: str, request: ServiceRequest, terms: BenefitTerms, now: datetime):
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def _notice(request: ServiceRequest, event: str, reason: str, consequence: str) -> str:
    parts = [f"申请编号{request.ref}，当前状态：{Status(request.status).label}。"]
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


def notify(request: ServiceRequest, *, title: str, body: str) -> Notification:
    """A portal notification for the person who acts for the recipient (the holder)."""
    return Notification.objects.create(
        person_id=request.policy.holder_id, request=request, title=title[:120], body=body
    )
