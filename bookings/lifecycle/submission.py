"""Submitting a service request: what the engine says about it (with the member's request
history), then the request and its quota hold in one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import (
    DiagnosisInput,
    EligibilityQuery,
    StayInput,
    eligibility_facts,
    needed_of,
)
from benefits.eligibility.history import PoolState
from benefits.eligibility.model import DocumentFacts, Verdict
from benefits.eligibility.tiers import AdvanceInput
from benefits.models import Benefit, Hospitalisation, Policy, PolicyMember
from benefits.policies.consent import consent_problem
from benefits.quota.entitlements import pools_for
from benefits.quota.ledger import balance_open, quota_hold
from benefits.terms import display as terms_display
from benefits.terms.benefit_terms import BenefitTerms
from bookings.documents.sharing import records_consent_record
from bookings.lifecycle.events import notify, record_event
from bookings.models import QuotaOutcome, ServiceRequest
from coverage.selectors import region_cached
from portal.kernel.actor import Actor
from portal.kernel.clock import SHANGHAI
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
    # The clinic, where the lead time depends on it (博鳌超级医院（专家门诊）: 15 days).
    site: str | None = None
    advance: AdvanceInput | None = None
    road_distance_km: Decimal | None = None
    hospital_grade: str | None = None
    hospital_public: bool | None = None
    fares: tuple[tuple[str, str], ...] = ()
    days: Decimal | None = None
    # issue 14: the variant, item, what else is used, the request type, the amounts of the
    # pre-checks and the documents the use relies on (see EligibilityQuery).
    variant: str | None = None
    item: str | None = None
    also_using: frozenset[str] = frozenset()
    request_type: str | None = None
    self_pay: Decimal | None = None
    deductible: Decimal | None = None
    sum_insured_left: Decimal | None = None
    documents: dict[str, DocumentFacts] = field(default_factory=dict)
    submission_key: str = ""
    # How the request reached us ("hotline": a staff agent on the phone); empty for the
    # portal. Kept in the request's context and on its "submitted" event.
    channel: str = ""
    # The answer to the consent to provide this request's records to its vendor (PIPL art.
    # 23, ``bookings.documents.sharing``): None when the channel did not ask (older
    # clients); on the hotline ``records_consent_read_out`` says the agent read it out.
    records_consent_given: bool | None = None
    records_consent_read_out: bool = False


class NotEligible(DomainError):
    """Refused (``not_eligible`` with every reason) or not decidable yet (``incomplete``
    with every missing fact)."""

    def __init__(self, verdict: Verdict):
        if verdict.reasons:
            super().__init__(
                "not_eligible",
                "；".join(reason.message for reason in verdict.reasons),
                status=422,
                reasons=[
                    {"code": r.code, "message": r.message, "clause": r.clause}
                    for r in verdict.reasons
                ],
            )
        else:
            super().__init__(
                "incomplete",
                "；".join(m.message for m in verdict.missing),
                status=422,
                missing=[{"fact": m.fact, "message": m.message} for m in verdict.missing],
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
        site=data.site,
        advance=data.advance,
        road_distance_km=data.road_distance_km,
        hospital_grade=data.hospital_grade,
        hospital_public=data.hospital_public,
        fares=data.fares,
        days=data.days,
        variant=data.variant or data.option or None,
        item=data.item,
        also_using=data.also_using,
        request_type=data.request_type,
        self_pay=data.self_pay,
        deductible=data.deductible,
        sum_insured_left=data.sum_insured_left,
        documents=data.documents,
    )


def request_verdict(data: RequestInput) -> Verdict:
    """What the engine says about this request right now (shown before submitting)."""
    verdict, _pools = _evaluate(data)
    return verdict


def _evaluate(data: RequestInput) -> tuple[Verdict, list[PoolState]]:
    benefit, facts, pools = eligibility_facts(_query(data))
    return evaluate(benefit.parsed_terms, facts), pools


# --- submit -------------------------------------------------------------------------------


def _hospitalisation(data: RequestInput) -> Hospitalisation | None:
    if data.stay is None:
        return None
    region = region_cached(data.stay.region) if data.stay.region else None
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


def next_step_text(terms: BenefitTerms) -> str:
    """What happens next, in the handbook's own promise ("服务专员联系客户：提交申请后2个
    工作小时内")."""
    first = [m for m in terms.sla if m.starts_on in ("submitted", "records_complete")]
    if not first:
        return "我们已收到您的申请，服务人员将尽快与您联系。"
    return "；".join(terms_display.milestone(m) for m in first) + "。"


def submission_consent_problem(data: RequestInput) -> DomainError | None:
    """The consent check of a new request (``benefits.policies.consent``), for the people
    whose health information it would carry: every channel's submission asks this."""
    recipient = data.recipient or data.member
    return consent_problem(
        data.benefit.parsed_terms,
        (data.policy.holder_id, data.member.person_id, recipient.person_id),
    )


def request_submit(data: RequestInput, *, actor: Actor) -> tuple[ServiceRequest, bool]:
    """Create the request and hold its quota in one transaction. The same submission key
    from the same user returns the first request (``created`` False) instead of a second."""
    if data.submission_key and actor.user is not None:
        existing = ServiceRequest.objects.filter(
            submitted_by=actor.user, submission_key=data.submission_key
        ).first()
        if existing is not None:
            return existing, False
    refused = submission_consent_problem(data)
    if refused is not None:
        raise refused
    verdict, pools = _evaluate(data)
    if not verdict.eligible:
        raise NotEligible(verdict)
    terms = data.benefit.parsed_terms
    region = None
    place = data.region or (data.stay.region if data.stay else None)
    if place:
        region = region_cached(place)  # the place as eligibility read it
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
            _hold(request, data, stay, pools, actor)
            record_event(
                request,
                "submitted",
                "",
                actor,
                **({"channel": data.channel} if data.channel else {}),
            )
            if data.records_consent_given is not None:
                records_consent_record(
                    request,
                    given=data.records_consent_given,
                    channel=data.channel or "portal",
                    read_out=data.records_consent_read_out,
                    actor=actor,
                )
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
    # What the vendor needs to serve: the clinic (博鳌) and the days asked for (护工).
    if data.site:
        context["site"] = data.site
    if data.days is not None:
        context["days"] = str(data.days)
    # What the vendor serves (the item, the mode) and what the pre-checks read.
    for key in ("variant", "item", "request_type"):
        if getattr(data, key):
            context[key] = getattr(data, key)
    for key in ("self_pay", "deductible", "sum_insured_left"):
        if getattr(data, key) is not None:
            context[key] = str(getattr(data, key))
    if data.channel:
        context["channel"] = data.channel
    return context


def _hold(
    request: ServiceRequest,
    data: RequestInput,
    stay: Hospitalisation | None,
    pools: list[PoolState],
    actor: Actor,
) -> None:
    """Open the pools' balances for the period and hold what this use needs, all or none:
    the pools the engine judged (the same window, the same money category), on the stay
    just recorded for a per-stay quota."""
    specs = [pool.spec for pool in pools]
    if data.benefit.parsed_terms.quota.period == "per_hospitalisation":
        if stay is None:
            raise DomainError("stay_required", "该权益按每次住院计，请填写住院信息")
        try:
            specs = pools_for(
                benefit=data.benefit,
                policy=data.policy,
                person=data.member.person,
                on=data.at.astimezone(SHANGHAI).date(),
                hospitalisation_id=stay.pk,
            )
        except ValueError as exc:
            raise DomainError("outside_policy_period", str(exc)) from None
    holds = []
    for spec in specs:
        needed = needed_of(spec, data.amount, data.category)
        if needed is not None:
            holds.append(
                (balance_open(key=spec.key, amount=spec.amount, reason="权益期间开始"), needed)
            )
    if not holds:
        return
    quota_hold(holds=holds, request_ref=request.ref, actor=actor, reason="提交服务申请")
    request.quota_outcome = QuotaOutcome.HELD
    request.save(update_fields=["quota_outcome", "updated_at"])
