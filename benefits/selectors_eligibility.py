"""Gathering the facts the eligibility engine needs, in a fixed number of queries whatever
the size of the family or its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q

from benefits.eligibility import DiagnosisFacts, Facts, PersonFacts, PolicyFacts, StayFacts
from benefits.entitlements import PeriodUnknown, PoolSpec, pools_for
from benefits.identity import id_number_digest
from benefits.models import Benefit, Policy, PolicyMember, QuotaBalance
from benefits.terms import CoveredConditionRule, NetworkRule
from coverage.models import CoverageList, ListEntry, Region
from coverage.selectors import list_covers_region
from portal.errors import DomainError, NotFound


@dataclass(frozen=True)
class StayInput:
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False
    region: str | None = None


@dataclass(frozen=True)
class DiagnosisInput:
    confirmed: bool
    diagnosed_on: date
    first_diagnosed_on: date | None = None
    disease: str | None = None


@dataclass(frozen=True)
class EligibilityQuery:
    policy: str
    member: str  # member ref or ID number
    benefit: str
    at: datetime
    recipient: str | None = None
    planned_at: datetime | None = None
    stay: StayInput | None = None
    diagnosis: DiagnosisInput | None = None
    amount: Decimal | None = None
    category: str | None = None
    region: str | None = None
    site: str | None = None


@dataclass(frozen=True)
class PoolState:
    label: str
    spec: PoolSpec
    granted: Decimal
    held: Decimal
    used: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.granted - self.held - self.used


def _find_member(members: list[PolicyMember], text: str, field: str) -> PolicyMember:
    for member in members:
        if member.ref == text:
            return member
    digests = {id_number_digest(id_type, text) for id_type in ("resident_id", "passport", "other")}
    for member in members:
        if member.person.id_digest in digests:
            return member
    raise NotFound(f"{field}：本保单没有此被保险人")


def pool_label(spec: PoolSpec) -> str:
    unit = QuotaBalance.Measure(spec.key.measure).label
    category = f"（{spec.key.category}）" if spec.key.category else ""
    return f"{unit}{category}"


def eligibility_facts(query: EligibilityQuery) -> tuple[Benefit, Facts, list[PoolState]]:
    """Queries: policy+product+holder, members+people, benefit, balances, and one per
    coverage list a network rule names (at most two)."""
    # order_by(): the models' default orderings join other tables, and a unique lookup
    # needs no order at all.
    policy = Policy.objects.select_related("product").filter(number=query.policy).order_by().first()
    if policy is None:
        raise NotFound("保单不存在")
    members = list(policy.members.select_related("person").order_by("id"))
    member = _find_member(members, query.member, "member")
    recipient = _find_member(members, query.recipient, "recipient") if query.recipient else member
    benefit = Benefit.objects.filter(code=query.benefit).order_by().first()
    if benefit is None:
        raise NotFound("权益不存在")
    if benefit.product_id != policy.product_id:
        raise DomainError("benefit_not_in_product", "该权益不属于本保单的产品")
    terms = benefit.parsed_terms
    on = query.at.date()

    try:
        specs = pools_for(
            benefit=benefit, policy=policy, person=member.person, on=on, hospitalisation_id=None
        )
    except PeriodUnknown:
        specs = []  # per-stay pools need a recorded stay; the engine checks the stay itself
    except ValueError as exc:
        raise DomainError("outside_policy_period", str(exc)) from None
    wanted = Q()
    for spec in specs:
        wanted |= Q(
            benefit=benefit,
            policy=policy,
            person=spec.key.person,
            measure=spec.key.measure,
            category=spec.key.category,
            period_key=spec.key.period_key,
        )
    balances = {
        (b.measure, b.category, b.period_key): b
        for b in (QuotaBalance.objects.filter(wanted) if specs else [])
    }
    pools = []
    for spec in specs:
        balance = balances.get((spec.key.measure, spec.key.category, spec.key.period_key))
        pools.append(
            PoolState(
                pool_label(spec),
                spec,
                balance.granted if balance else spec.amount,
                balance.held if balance else Decimal(0),
                balance.used if balance else Decimal(0),
            )
        )
    needed = {}
    for pool in pools:
        measure = pool.spec.key.measure
        if measure in ("times", "requests"):
            needed[pool.label] = Decimal(1)
        elif pool.spec.key.category and pool.spec.key.category != (query.category or ""):
            continue  # a money cap of another category
        else:
            needed[pool.label] = query.amount or Decimal(1)

    covered: dict[str, bool] = {}
    place = query.region or (query.stay.region if query.stay else None)
    if place:
        region = (
            Region.objects.select_related("parent__parent")
            .filter(Q(code=place) | Q(name=place))
            .first()
        )
        for rule in terms.rules:
            if isinstance(rule, NetworkRule) and rule.coverage_list and region is not None:
                coverage_list = CoverageList.objects.get(code=rule.coverage_list)
                covered[rule.coverage_list] = list_covers_region(coverage_list, region).covered

    in_lists: frozenset[str] = frozenset()
    disease_lists = [
        r.disease_list
        for r in terms.rules
        if isinstance(r, CoveredConditionRule) and r.disease_list
    ]
    if query.diagnosis and query.diagnosis.disease and disease_lists:
        in_lists = frozenset(
            ListEntry.objects.filter(
                Q(name=query.diagnosis.disease) | Q(code=query.diagnosis.disease),
                coverage_list__code__in=disease_lists,
            ).values_list("coverage_list__code", flat=True)
        )

    person = recipient.person
    facts = Facts(
        at=query.at,
        policy=PolicyFacts(
            status=policy.status,
            signed_on=policy.signed_on,
            effective_on=policy.effective_on,
            expires_on=policy.expires_on,
            transferred=policy.transferred,
            waiting_days=policy.waiting_days,
            cooling_off_days=policy.cooling_off_days,
        ),
        recipient=PersonFacts(
            birth_date=person.birth_date,
            is_insured_member=True,
            relation="self" if recipient.pk == member.pk else recipient.relation,
            mainland_citizen=person.mainland_citizen,
        ),
        planned_at=query.planned_at,
        site=query.site,
        stay=(
            StayFacts(
                admitted_on=query.stay.admitted_on,
                discharged_on=query.stay.discharged_on,
                day_surgery=query.stay.day_surgery,
                ward=query.stay.ward,
                pregnancy_related=query.stay.pregnancy_related,
            )
            if query.stay
            else None
        ),
        diagnosis=(
            DiagnosisFacts(
                diagnosed_on=query.diagnosis.diagnosed_on,
                confirmed=query.diagnosis.confirmed,
                first_diagnosed_on=query.diagnosis.first_diagnosed_on,
                in_lists=in_lists,
            )
            if query.diagnosis
            else None
        ),
        covered_by=covered,
        remaining={pool.label: pool.remaining for pool in pools},
        needed=needed,
    )
    return benefit, facts, pools
