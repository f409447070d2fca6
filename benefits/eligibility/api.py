"""Staff API: eligibility of a member for a benefit, with every reason."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import (
    DiagnosisInput,
    EligibilityQuery,
    StayInput,
    eligibility_facts,
)
from benefits.eligibility.model import DocumentFacts
from benefits.eligibility.tiers import AdvanceInput
from benefits.quota.selectors import plain
from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.clock import SHANGHAI
from portal.kernel.errors import DomainError
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import insurer_ids

router = Router()


class StayIn(Schema):
    hospital: str = ""
    region: str | None = None
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False
    # An operation during the stay ("住院手术"); omitted: not said.
    surgery: bool | None = None


class DocumentIn(Schema):
    """A document the use relies on (a prescription): its date and issuer's grade."""

    issued_on: date | None = None
    issuer_grade: Literal["一级", "二级", "三级", "三甲"] | None = None


class DiagnosisIn(Schema):
    disease: str | None = None
    confirmed: bool = True
    diagnosed_on: date
    first_diagnosed_on: date | None = None


class AdvanceIn(Schema):
    """Inputs of the deposit-advance formula, in CNY; ``payout_ratio`` as a fraction (0.8)."""

    estimated_total: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    medical_insurance: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    deductible: Decimal = Field(default=Decimal(0), ge=0, max_digits=12, decimal_places=2)
    payout_ratio: Decimal = Field(gt=0, le=1, max_digits=5, decimal_places=4)
    sum_insured_left: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


class FareIn(Schema):
    transport: str = Field(min_length=1, max_length=30)
    travel_class: str = Field(min_length=1, max_length=30)


class EligibilityContext(Schema):
    hospitalisation: StayIn | None = None
    diagnosis: DiagnosisIn | None = None
    planned_at: datetime | None = None
    recipient: str | None = None
    amount: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    category: str | None = None
    region: str | None = None
    # A hospital or pharmacy to check against the benefit's list (else the stay's hospital).
    hospital: str | None = None
    site: str | None = None
    # Codes of the benefit's unsuitable conditions that apply (质子重离子: haematological_tumour).
    conditions: list[str] = []
    advance: AdvanceIn | None = None
    # Road distance home → hospital in km (staff entry or the vendor's assessment).
    road_distance_km: Decimal | None = Field(default=None, ge=0, max_digits=7, decimal_places=1)
    # The hospital's grade and ownership (no annex prints them): without them a rule such as
    # "二级及以上公立医院" is answered unchecked.
    hospital_grade: Literal["一级", "二级", "三级", "三甲"] | None = None
    hospital_public: bool | None = None
    # The fares claimed ({transport: 飞机, travel_class: 商务舱}), for a subsidy that pays only
    # some classes.
    fares: list[FareIn] = []
    # The days this use asks for (住院陪护 10 天); a quota counted in days reads ``amount``.
    days: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=1)
    # The mode or option of the service (线下面诊, 窝沟封闭), for rules scoped to it.
    variant: str | None = Field(default=None, max_length=60)
    # The item on the benefit's list (检查项目 MRI, a drug, a device).
    item: str | None = Field(default=None, max_length=120)
    # What else the case uses that the benefit excludes (垫付 vs 预赔: pre_claim).
    also_using: list[str] = []
    # A request other than the ordinary one (加床 add_bed, 转科 transfer_department).
    request_type: str | None = Field(default=None, max_length=60)
    # Amounts for the pre-checks (CNY).
    self_pay: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    deductible: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    sum_insured_left: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    # Documents by code (prescription): date of issue and issuer grade.
    documents: dict[str, DocumentIn] = {}


def use_inputs(context: EligibilityContext) -> dict[str, Any]:
    """The facts of the use from a context, as ``EligibilityQuery`` and the lifecycle's
    ``RequestInput`` both take them: what the agent checks is what the agent submits. A
    time without a zone is Asia/Shanghai."""
    stay = StayInput(**context.hospitalisation.dict()) if context.hospitalisation else None
    planned_at = context.planned_at
    if planned_at is not None and timezone.is_naive(planned_at):
        planned_at = timezone.make_aware(planned_at, SHANGHAI)
    return {
        "planned_at": planned_at,
        "stay": stay,
        "diagnosis": DiagnosisInput(**context.diagnosis.dict()) if context.diagnosis else None,
        "amount": context.amount,
        "category": context.category,
        "region": context.region,
        "hospital": context.hospital or (stay.hospital if stay else ""),
        "site": context.site,
        "conditions": frozenset(context.conditions),
        "advance": AdvanceInput(**context.advance.dict()) if context.advance else None,
        "road_distance_km": context.road_distance_km,
        "hospital_grade": context.hospital_grade,
        "hospital_public": context.hospital_public,
        "fares": tuple((fare.transport, fare.travel_class) for fare in context.fares),
        "days": context.days,
        "variant": context.variant,
        "item": context.item,
        "also_using": frozenset(context.also_using),
        "request_type": context.request_type,
        "self_pay": context.self_pay,
        "deductible": context.deductible,
        "sum_insured_left": context.sum_insured_left,
        "documents": {
            code: DocumentFacts(issued_on=doc.issued_on, issuer_grade=doc.issuer_grade)
            for code, doc in context.documents.items()
        },
    }


class EligibilityIn(Schema):
    policy: str
    member: str
    benefit: str
    at: datetime
    context: EligibilityContext = EligibilityContext()


class ReasonOut(Schema):
    code: str
    message: str
    clause: str


class MissingOut(Schema):
    fact: str
    message: str


class RemainingOut(Schema):
    pool: str
    period: str
    granted: Decimal
    held: Decimal
    used: Decimal
    remaining: Decimal


class TierOut(Schema):
    kind: str
    code: str
    label: str
    message: str
    details: dict[str, str | int | bool | None]
    clause: str


class AmountCheckOut(Schema):
    measure: str
    amount: Decimal
    limit: Decimal
    passed: bool
    message: str


class EligibilityOut(Schema):
    # eligible / ineligible (reasons) / incomplete (missing: what to ask the caller).
    outcome: str
    eligible: bool
    reasons: list[ReasonOut]
    missing: list[MissingOut]
    remaining: list[RemainingOut]
    next_eligible_on: date | None
    unchecked: list[str]
    tier: TierOut | None
    # Parts of the service this use cannot have, the rest being granted (陪诊 for a 住院病人).
    limitations: list[ReasonOut]
    # The amount pre-checks with the amounts they used (自费 vs 免赔额), passed or not.
    amount_checks: list[AmountCheckOut]


@router.post(
    "/eligibility",
    response={200: EligibilityOut, **error_responses(400, *STAFF_AUTH_ERRORS, 404, 422)},
    summary="权益资格判断（列出全部不符合的原因）",
    auth=staff_auth("benefits.view_policy"),
)
def eligibility(request: HttpRequest, payload: EligibilityIn) -> dict:
    context = payload.context
    if payload.at.tzinfo is None:
        raise DomainError(
            "naive_datetime", "at 须带时区，例如 2026-06-01T10:00:00+08:00", field="at"
        )
    benefit, facts, pools = eligibility_facts(
        EligibilityQuery(
            policy=payload.policy,
            member=payload.member,
            benefit=payload.benefit,
            at=payload.at,
            recipient=context.recipient,
            insurer_ids=insurer_ids(request.user),
            **use_inputs(context),
        )
    )
    verdict = evaluate(benefit.parsed_terms, facts)
    return {
        "outcome": verdict.outcome,
        "eligible": verdict.eligible,
        "reasons": verdict.reasons,
        "missing": verdict.missing,
        "remaining": [
            {
                "pool": pool.label,
                "period": pool.spec.key.period_key,
                "granted": plain(pool.granted),
                "held": plain(pool.held),
                "used": plain(pool.used),
                "remaining": plain(pool.remaining),
            }
            for pool in pools
        ],
        "next_eligible_on": verdict.next_eligible_on,
        "unchecked": verdict.unchecked,
        "tier": verdict.tier,
        "limitations": verdict.limitations,
        "amount_checks": verdict.amount_checks,
    }
