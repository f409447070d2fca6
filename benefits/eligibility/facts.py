"""The one facts builder: every channel (the staff API, the portal overview and form,
submission, the hotline's staff request API) gets the engine's facts from ``facts_build``,
so "used in this period", "window started on", "prerequisite delivered" and "exclusive choice
taken" have one definition each (``benefits.eligibility.history``).

``eligibility_facts`` builds the facts of one use in a fixed number of queries whatever the
size of the family or its history: the policy's members with their people and the policy
(one), the history (balances when the benefit has pools or prerequisites; deliveries when it
has prerequisites), the recorded stay for a per-stay quota. The portal overview loads the
history of every policy at once and calls ``facts_build`` per line. The benefit's parsed
terms, regions and coverage lists are reference data read from process memos
(``portal.kernel.memo``): a query the first time a process needs them, none after, until the
catalogue or a list changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy

from benefits.calendar.selectors import calendar_cached
from benefits.eligibility.checks import needs_working_calendar
from benefits.eligibility.history import (
    History,
    PoolState,
    delivered_prerequisites,
    exclusive_choice_taken,
    history_load,
    pool_states,
    used_benefits,
    window_start,
)
from benefits.eligibility.members import MemberRow, find_member, policy_and_members
from benefits.eligibility.model import (
    AmountFacts,
    DiagnosisFacts,
    DocumentFacts,
    Facts,
    PersonFacts,
    PolicyFacts,
    ScopeFacts,
    StayFacts,
)
from benefits.eligibility.places import (
    RequestPlaces,
    city_of,
    coordinates,
    disease_lists,
    item_lists,
    network_coverage,
    province_of,
    request_places,
    road_km,
)
from benefits.eligibility.tiers import AdvanceInput, TierFacts, great_circle_km
from benefits.models import Benefit, Hospitalisation, Policy
from benefits.quota.entitlements import PeriodUnknown, PoolSpec, pools_for, window_end
from benefits.quota.periods import policy_year
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.fulfilment import DistanceTier
from coverage.selectors import region_by_id_cached
from portal.kernel.clock import SHANGHAI
from portal.kernel.errors import DomainError, NotFound
from portal.kernel.memo import Memo


@dataclass(frozen=True)
class StayInput:
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False
    region: str | None = None
    hospital: str = ""
    surgery: bool | None = None


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
    hospital: str | None = None  # a hospital or pharmacy named for a network check
    site: str | None = None
    conditions: frozenset[str] = frozenset()
    advance: AdvanceInput | None = None
    # The road distance (km) from the home to the hospital, entered by staff or assessed by
    # the vendor; tiers by distance are decided on it ("以最短实际交通行驶路线为准").
    road_distance_km: Decimal | None = None
    # The days this use asks for (a carer for 10 days); for a quota in days, ``amount`` is.
    days: Decimal | None = None
    # The hospital's grade (一级/二级/三级/三甲) and whether it is public, as staff know them.
    hospital_grade: str | None = None
    hospital_public: bool | None = None
    # The fares claimed, (transport, class): 中宏 异地就医补贴 pays 二等座 / 经济舱 only.
    fares: tuple[tuple[str, str], ...] = ()
    # Which mode or option of the service (线下面诊, 窝沟封闭), for rules scoped to it.
    variant: str | None = None
    # The item on the benefit's list the use is for (an examination, a drug, a device).
    item: str | None = None
    # What else the case already uses, by code (垫付 vs 预赔: ``pre_claim``).
    also_using: frozenset[str] = frozenset()
    # What the request asks for when it is not the ordinary request (加床, 转科).
    request_type: str | None = None
    # Amounts for the pre-checks (CNY): self-paid, deductible, sum insured left this year.
    self_pay: Decimal | None = None
    deductible: Decimal | None = None
    sum_insured_left: Decimal | None = None
    # Documents the use relies on: code → (issued on, issuer grade).
    documents: dict[str, DocumentFacts] = field(default_factory=dict)
    # Only policies of these insurers (a staff caller's tenancy); None: any policy.
    insurer_ids: frozenset[int] | None = None


_benefits: Memo[Benefit | None] = Memo("benefits")


def needs_calendar(terms: BenefitTerms) -> bool:
    """Whether a rule of the benefit counts working days (filing deadlines, working-clock
    lead times)."""
    return any(needs_working_calendar(rule) for rule in terms.rules)


def benefit_cached(code: str) -> Benefit | None:
    """The benefit with its terms parsed once per process (until the catalogue changes).
    Callers only read it."""

    def build() -> Benefit | None:
        benefit = Benefit.objects.filter(code=code).order_by().first()
        if benefit is not None:
            benefit.parsed_terms  # noqa: B018 — parsed here, once, not on every call
        return benefit

    return _benefits.get(code, build)


POOL_NAMES = {
    "times": gettext_lazy("次数"),
    "days": gettext_lazy("天数"),
    "cny": gettext_lazy("金额（元）"),
    "requests": gettext_lazy("申请次数"),
}


def pool_label(spec: PoolSpec, terms: BenefitTerms | None = None) -> str:
    """次数, 天数, 申请次数, 省外金额（元）: what the pool counts, in Chinese."""
    name = str(POOL_NAMES[spec.key.measure])
    if not spec.key.category:
        return name
    caps = terms.quota.category_caps if terms else []
    category = next((c.label for c in caps if c.category == spec.key.category), spec.key.category)
    return f"{category}{name}"


def eligibility_facts(query: EligibilityQuery) -> tuple[Benefit, Facts, list[PoolState]]:
    """The facts of one use, for the staff API, the portal form and submission. Queries: the
    policy's members (one), the history (balances when the benefit has pools or
    prerequisites, deliveries when it has prerequisites), the stay (per-stay quotas only)."""
    policy, members = policy_and_members(query.policy, insurer_ids=query.insurer_ids)
    member = find_member(members, query.member, "member")
    recipient = find_member(members, query.recipient, "recipient") if query.recipient else member
    benefit = _benefit_of_policy(query.benefit, policy)
    terms = benefit.parsed_terms
    priors = prerequisites_of(terms)
    needs_history = (
        not terms.quota.is_unlimited
        or terms.quota.limits
        or priors
        or terms.quota.period == "window_after_start"
        or terms.prerequisite_any
    )
    history = (
        history_load([policy.pk], [benefit], priors.values())[policy.pk]
        if needs_history
        else History()
    )
    facts, pools = facts_build(
        query,
        policy=policy,
        member=member,
        recipient=recipient,
        benefit=benefit,
        history=history,
        prerequisites=priors,
        stay_id=_stay_id(terms, query, recipient),
    )
    return benefit, facts, pools


def facts_build(
    query: EligibilityQuery,
    *,
    policy: Policy,
    member: MemberRow,
    recipient: MemberRow,
    benefit: Benefit,
    history: History,
    prerequisites: dict[str, Benefit],
    stay_id: int | None = None,
) -> tuple[Facts, list[PoolState]]:
    """The facts from what was loaded (no query but reference-data memos): the one place
    every channel's facts come from, the portal overview's batch included."""
    terms = benefit.parsed_terms
    on = query.at.astimezone(SHANGHAI).date()  # a Beijing day, as the engine counts
    owner_id = None if terms.quota.sharing == "family_pool" else member.person_id
    started = window_start(history, benefit, owner_id, on, _year_start(policy, on))
    specs = _pool_specs(benefit, policy, member, on, stay_id, started)
    pools = pool_states(specs, history, benefit, [pool_label(spec, terms) for spec in specs])
    stay = query.stay
    places = request_places(
        region=query.region,
        stay_region=stay.region if stay else None,
        named=query.hospital or (stay.hospital if stay else None),
        home_city_id=recipient.home_city_id,
    )
    covered, uncheckable = network_coverage(
        terms,
        home=places.home,
        hospital=places.hospital,
        service=places.service,
        named=places.named,
    )
    facts = Facts(
        calendar=calendar_cached() if needs_calendar(terms) else None,
        at=query.at,
        policy=policy_facts(policy),
        recipient=PersonFacts(
            birth_date=recipient.birth_date,
            is_insured_member=True,
            relation="self" if recipient.id == member.id else recipient.relation,
            mainland_citizen=recipient.mainland_citizen,
        ),
        planned_at=query.planned_at,
        site=query.site,
        stay=_stay_facts(stay) if stay else None,
        diagnosis=_diagnosis_facts(terms, query.diagnosis) if query.diagnosis else None,
        conditions=query.conditions,
        days_requested=query.days or (query.amount if terms.quota.unit == "days" else None),
        hospital_grade=query.hospital_grade,
        hospital_public=query.hospital_public,
        fares=query.fares,
        covered_by=covered | item_lists(terms, query.item),
        uncheckable=uncheckable,
        category=query.category,
        remaining={pool.label: pool.remaining for pool in pools},
        needed=_needed(pools, query),
        completed_benefits=delivered_prerequisites(prerequisites, history, member.person_id),
        benefit_names={code: prior.name for code, prior in prerequisites.items()},
        exclusive_groups_used=exclusive_choice_taken(terms, pools),
        window_ends_on=window_end(started, terms.quota.window)
        if started and terms.quota.window
        else None,
        tier=_tier_facts(terms, query, places, pools),
        scope=_scope_facts(query, places, recipient, prerequisites, history, member),
        amounts=AmountFacts(
            requested=query.amount,
            self_pay=query.self_pay,
            deductible=query.deductible,
            sum_insured_left=query.sum_insured_left,
        ),
        documents=dict(query.documents),
    )
    return facts, pools


def _scope_facts(
    query: EligibilityQuery,
    places: RequestPlaces,
    recipient: MemberRow,
    prerequisites: dict[str, Benefit],
    history: History,
    member: MemberRow,
) -> ScopeFacts:
    """What the use says it is for, and the places the 异地 rule compares (region codes)."""
    where = places.hospital or places.service
    hukou = region_by_id_cached(recipient.hukou_city_id) if recipient.hukou_city_id else None
    home = places.home
    return ScopeFacts(
        variant=query.variant,
        item=query.item,
        also_using=query.also_using,
        request_type=query.request_type,
        hospital_city=city_of(where).code if where else None,
        hospital_province=province_of(where).code if where else None,
        hukou_city=city_of(hukou).code if hukou else None,
        hukou_province=province_of(hukou).code if hukou else None,
        home_city=city_of(home).code if home else None,
        home_province=province_of(home).code if home else None,
        used_benefits=used_benefits(prerequisites, history, member.person_id),
    )


# --- the steps of facts_build ---------------------------------------------------------------


def _benefit_of_policy(code: str, policy: Policy) -> Benefit:
    benefit = benefit_cached(code)
    if benefit is None:
        raise NotFound("权益不存在")
    if benefit.product_id != policy.product_id:
        raise DomainError("benefit_not_in_product", "该权益不属于本保单的产品")
    return benefit


def _year_start(policy: Policy, on: date) -> date:
    try:
        return policy_year(policy.effective_on, on)[0]
    except ValueError:  # before the policy starts: the policy's rules say so
        return on


def prior_codes(terms: BenefitTerms) -> list[str]:
    """The codes of the benefits that must come first: every prerequisite, and every benefit
    of an any-one-of prerequisite."""
    codes = [p.benefit for p in terms.prerequisites]
    codes += [code for needed in terms.prerequisite_any for code in needed.any_of]
    return list(dict.fromkeys(codes))


def prerequisites_of(terms: BenefitTerms) -> dict[str, Benefit]:
    """The benefits that must come first (delivered, or one of them used), by code."""
    return {code: prior for code in prior_codes(terms) if (prior := benefit_cached(code))}


def _stay_id(terms: BenefitTerms, query: EligibilityQuery, recipient: MemberRow) -> int | None:
    """The recorded stay a per-stay quota counts on (one query, only for those benefits):
    the stay submission records, found by the same person, admission day and hospital."""
    if terms.quota.period != "per_hospitalisation" or query.stay is None:
        return None
    return (
        Hospitalisation.objects.filter(
            person_id=recipient.person_id,
            admitted_on=query.stay.admitted_on,
            hospital=query.hospital or query.stay.hospital or "",
        )
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )


def _pool_specs(
    benefit: Benefit,
    policy: Policy,
    member: MemberRow,
    on: date,
    stay_id: int | None,
    window_started_on: date | None,
) -> list[PoolSpec]:
    try:
        return pools_for(
            benefit=benefit,
            policy=policy,
            person=member.person(),
            on=on,
            hospitalisation_id=stay_id,
            window_started_on=window_started_on,
        )
    except PeriodUnknown:
        # A per-stay quota with no stay: the stay's rule asks for it; a stay not recorded yet
        # has its whole grant (a fresh pool), which the hold at submission opens.
        return []
    except ValueError as exc:
        raise DomainError("outside_policy_period", str(exc)) from None


def needed_of(spec: PoolSpec, amount: Decimal | None, category: str | None) -> Decimal | None:
    """What a use takes from a pool: one request or time, else the amount (days, yuan) —
    or None for the money cap of another category (省内 vs 省外). Submission holds exactly
    this."""
    key = spec.key
    if key.measure in ("times", "requests"):
        return Decimal(1)
    if key.category and key.category != (category or ""):
        return None
    return amount or Decimal(1)


def _needed(pools: list[PoolState], query: EligibilityQuery) -> dict[str, Decimal]:
    """What this use takes from each pool (pool label → amount)."""
    needed = {}
    for pool in pools:
        amount = needed_of(pool.spec, query.amount, query.category)
        if amount is not None:
            needed[pool.label] = amount
    return needed


def _tier_facts(
    terms: BenefitTerms, query: EligibilityQuery, places: RequestPlaces, pools: list[PoolState]
) -> TierFacts:
    if not (terms.tiers or terms.quota.category_caps):
        return TierFacts()
    home, where = places.home, places.hospital or places.service
    ends = (coordinates(home) if home else None, coordinates(where) if where else None)
    road = query.road_distance_km
    by_distance = any(isinstance(t, DistanceTier) for t in terms.tiers)
    if road is None and by_distance and ends[0] and ends[1]:
        road = road_km(ends[0], ends[1])
    return TierFacts(
        distance_km=road,
        straight_km=great_circle_km(ends[0], ends[1]) if ends[0] and ends[1] else None,
        city=city_of(where).name if where else None,
        advance=query.advance,
        amount=query.amount,
        category=query.category,
        cap_left={p.spec.key.category: p.remaining for p in pools if p.spec.key.category},
    )


def policy_facts(policy: Policy) -> PolicyFacts:
    """What the engine reads of a policy (every channel builds it here)."""
    return PolicyFacts(
        status=policy.status,
        signed_on=policy.signed_on,
        effective_on=policy.effective_on,
        expires_on=policy.expires_on,
        transferred=policy.transferred,
        waiting_days=policy.waiting_days,
        cooling_off_days=policy.cooling_off_days,
        sum_insured=policy.sum_insured,
        standard_sum_insured=policy.standard_sum_insured,
        plan_level=policy.plan_level,
        riders=frozenset(policy.riders or ()),
    )


def _stay_facts(stay: StayInput) -> StayFacts:
    return StayFacts(
        admitted_on=stay.admitted_on,
        discharged_on=stay.discharged_on,
        day_surgery=stay.day_surgery,
        ward=stay.ward,
        pregnancy_related=stay.pregnancy_related,
        surgery=stay.surgery,
    )


def _diagnosis_facts(terms: BenefitTerms, diagnosis: DiagnosisInput) -> DiagnosisFacts:
    return DiagnosisFacts(
        diagnosed_on=diagnosis.diagnosed_on,
        confirmed=diagnosis.confirmed,
        first_diagnosed_on=diagnosis.first_diagnosed_on,
        in_lists=disease_lists(terms, diagnosis.disease),
    )
