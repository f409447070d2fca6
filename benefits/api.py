from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from benefits.catalogue.schemas import CatalogueOut
from benefits.catalogue.selectors import catalogue_products
from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import (
    DiagnosisInput,
    EligibilityQuery,
    StayInput,
    eligibility_facts,
)
from benefits.eligibility.tiers import AdvanceInput
from benefits.models import Benefit, Policy, Product
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from benefits.quota.ledger import Actor
from benefits.quota.selectors import plain, policy_entitlements
from benefits.terms.display import describe_terms
from portal.kernel.errors import DomainError, NotFound
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import insurer_ids, scope

router = Router()


class CatalogueFilters(Schema):
    product: str | None = None
    insurer: str | None = None
    include_clauses: bool = False


def _benefit(benefit: Benefit, include_clauses: bool) -> dict:
    terms = benefit.parsed_terms
    return {
        "code": benefit.code,
        "name": benefit.name,
        "service": benefit.service,
        "parent": benefit.parent.code if benefit.parent else None,
        "vendor": benefit.vendor,
        "active": benefit.active,
        "summary": [f"{title}：{'；'.join(lines)}" for title, lines in describe_terms(terms)],
        "reason_codes": terms.reason_codes(),
        "coverage_lists": [cl.code for cl in benefit.coverage_lists.all()],
        "terms": benefit.terms,
        "source": {
            "file": benefit.source_file,
            "section": benefit.source_section,
            "text": benefit.clause_text if include_clauses else None,
        },
    }


def _product(product: Product, include_clauses: bool) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "insurer": {"code": product.insurer.code, "name": product.insurer.name},
        "handbook_title": product.handbook_title,
        "active": product.active,
        "benefits": [_benefit(b, include_clauses) for b in product.benefits.all()],
    }


@router.get(
    "/catalogue",
    response=CatalogueOut,
    summary="产品目录：产品、权益、服务商与条款",
    auth=staff_auth("benefits.view_product", "benefits.view_benefit"),
)
def catalogue(request: HttpRequest, filters: Query[CatalogueFilters]) -> dict:
    products = catalogue_products(
        product=filters.product,
        insurer=filters.insurer,
        products=scope(Product.objects.all(), request.user),
    )
    return {"products": [_product(p, filters.include_clauses) for p in products]}


class PersonIn(Schema):
    name: str
    id_number: str
    id_type: str = "resident_id"
    birth_date: date | None = None
    phone: str = ""


class MemberIn(PersonIn):
    ref: str
    relation: str
    home_city: str | None = None
    hukou_city: str | None = None
    mainland_citizen: bool = True


class PolicyIn(Schema):
    number: str
    product: str
    status: str = "in_force"
    signed_on: date
    effective_on: date
    expires_on: date
    transferred: bool = False
    family: bool = False
    group: bool = False
    waiting_days: int | None = None
    holder: PersonIn
    members: list[MemberIn]


class MemberOut(Schema):
    ref: str
    name: str
    relation: str
    id_masked: str


class PolicyOut(Schema):
    number: str
    created: bool
    product: str
    status: str
    members: list[MemberOut]


def _person(data: PersonIn, **extra: object) -> PersonInput:
    return PersonInput(
        name=data.name,
        id_number=data.id_number,
        id_type=data.id_type,
        birth_date=data.birth_date,
        phone=data.phone,
        **extra,  # type: ignore[arg-type]
    )


@router.post(
    "/policies",
    response={200: PolicyOut, 201: PolicyOut},
    summary="按保单号新建或更新保单",
    auth=staff_auth("benefits.add_policy", "benefits.change_policy", "benefits.change_person"),
)
def policies_upsert(request: HttpRequest, payload: PolicyIn) -> Status:
    # Another insurer's product or policy number is answered like one that does not exist.
    if not scope(Product.objects.filter(code=payload.product), request.user).exists():
        raise DomainError("unknown_product", f"产品代码“{payload.product}”不存在", field="product")
    if (
        Policy.objects.filter(number=payload.number).exists()
        and not scope(Policy.objects.filter(number=payload.number), request.user).exists()
    ):
        raise NotFound("保单不存在")
    policy, created = policy_upsert(
        PolicyInput(
            number=payload.number,
            product=payload.product,
            status=payload.status,
            signed_on=payload.signed_on,
            effective_on=payload.effective_on,
            expires_on=payload.expires_on,
            transferred=payload.transferred,
            family=payload.family,
            group=payload.group,
            waiting_days=payload.waiting_days,
            holder=_person(payload.holder),
            members=[
                MemberInput(
                    ref=m.ref,
                    relation=m.relation,
                    person=_person(
                        m,
                        home_city=m.home_city,
                        hukou_city=m.hukou_city,
                        mainland_citizen=m.mainland_citizen,
                    ),
                )
                for m in payload.members
            ],
        ),
        actor=Actor(user=request.user, label=f"staff:{request.user.get_username()}"),
        allowed_insurer_ids=insurer_ids(request.user),
    )
    members = policy.members.select_related("person").order_by("id")
    return Status(
        201 if created else 200,
        {
            "number": policy.number,
            "created": created,
            "product": payload.product,
            "status": policy.status,
            "members": [
                {
                    "ref": m.ref,
                    "name": m.person.name,
                    "relation": m.relation,
                    "id_masked": m.person.id_masked,
                }
                for m in members
            ],
        },
    )


class StayIn(Schema):
    hospital: str = ""
    region: str | None = None
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False


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


class EligibilityOut(Schema):
    eligible: bool
    reasons: list[ReasonOut]
    remaining: list[RemainingOut]
    next_eligible_on: date | None
    unchecked: list[str]
    tier: TierOut | None


@router.post(
    "/eligibility",
    response=EligibilityOut,
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
            planned_at=context.planned_at,
            stay=StayInput(**context.hospitalisation.dict()) if context.hospitalisation else None,
            diagnosis=DiagnosisInput(**context.diagnosis.dict()) if context.diagnosis else None,
            amount=context.amount,
            category=context.category,
            region=context.region,
            hospital=context.hospital,
            site=context.site,
            conditions=frozenset(context.conditions),
            advance=AdvanceInput(**context.advance.dict()) if context.advance else None,
            insurer_ids=insurer_ids(request.user),
        )
    )
    verdict = evaluate(benefit.parsed_terms, facts)
    return {
        "eligible": verdict.eligible,
        "reasons": verdict.reasons,
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
    }


class EntryOut(Schema):
    kind: str
    amount: Decimal
    actor: str
    reason: str
    request: str
    at: datetime


class PoolOut(Schema):
    pool: str
    period: str
    period_start: date
    period_end: date | None
    granted: Decimal
    held: Decimal
    used: Decimal
    remaining: Decimal
    ledger: list[EntryOut]


class BenefitEntitlementOut(Schema):
    benefit: str
    name: str
    unlimited: bool
    pools: list[PoolOut]


class MemberEntitlementsOut(Schema):
    ref: str
    name: str
    benefits: list[BenefitEntitlementOut]


class EntitlementsOut(Schema):
    policy: str
    on: date
    members: list[MemberEntitlementsOut]


@router.get(
    "/policies/{number}/entitlements",
    response=EntitlementsOut,
    summary="保单各被保险人各项权益的额度、使用与流水",
    auth=staff_auth("benefits.view_policy", "benefits.view_quotabalance"),
)
def entitlements(request: HttpRequest, number: str, on: date | None = None) -> dict:
    return policy_entitlements(
        number=number, on=on, policies=scope(Policy.objects.all(), request.user)
    )
