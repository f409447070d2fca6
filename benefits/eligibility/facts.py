"""Gathering the facts the eligibility engine needs, in a fixed number of queries whatever
the size of the family or its history.

Per call: the policy's members with their people and the policy (one query) and, when the
benefit has quota pools, prerequisites or an exclusive choice, the balances of this policy for
the benefit and its prerequisites (one query). The benefit's parsed terms, regions and coverage
lists are reference data read from process memos (``portal.kernel.memo``): a query the first time a
process needs them, none after, until the catalogue or a list changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from benefits.calendar.selectors import calendar_cached
from benefits.eligibility.engine import (
    DiagnosisFacts,
    Facts,
    PersonFacts,
    PolicyFacts,
    StayFacts,
    needs_working_calendar,
)
from benefits.eligibility.tiers import AdvanceInput, TierFacts, great_circle_km
from benefits.models import Benefit, Person, Policy, PolicyMember, Product, QuotaBalance
from benefits.quota.entitlements import PeriodUnknown, PoolSpec, pools_for
from benefits.terms.schema import BenefitTerms, CoveredConditionRule, NetworkRule
from coverage.models import CoverageList, Region
from coverage.resolver import MUNICIPALITIES, normalise
from coverage.selectors import (
    coverage_list_cached,
    entry_region_cached,
    list_covers_region_cached,
    list_names_cached,
    region_by_id_cached,
    region_cached,
    region_lineage,
)
from portal.kernel.errors import DomainError, NotFound
from portal.kernel.identity import id_number_digest
from portal.kernel.memo import Memo
from portal.kernel.prepared import PreparedQuery


@dataclass(frozen=True)
class StayInput:
    admitted_on: date
    discharged_on: date | None = None
    day_surgery: bool = False
    ward: str = "ordinary"
    pregnancy_related: bool = False
    region: str | None = None
    hospital: str = ""


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
    # Only policies of these insurers (a staff caller's tenancy); None: any policy.
    insurer_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class BalanceRow:
    benefit_id: int
    person_id: int | None
    measure: str
    category: str
    period_key: str
    granted: Decimal
    held: Decimal
    used: Decimal


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


_benefits: Memo[Benefit | None] = Memo("benefits")
_product_insurers: Memo[dict[int, int]] = Memo("product-insurers")


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


@dataclass(frozen=True)
class MemberRow:
    """A member and what eligibility needs of their person (no model instance per member:
    a family of eight costs eight tuples, not eight models)."""

    id: int
    ref: str
    relation: str
    person_id: int
    id_digest: str
    birth_date: date
    mainland_citizen: bool
    home_city_id: int | None

    def person(self) -> Person:
        """The person as a model, for the functions that take one (nothing is saved)."""
        return Person(
            id=self.person_id,
            id_digest=self.id_digest,
            birth_date=self.birth_date,
            mainland_citizen=self.mainland_citizen,
            home_city_id=self.home_city_id,
        )


# The policy's members with what eligibility needs of their people and of the policy (repeated
# on each row; a family has at most a few members). Not the encrypted ID numbers: members are
# matched by digest, so no number is decrypted.
POLICY_FIELDS = (
    "id",
    "product_id",
    "status",
    "signed_on",
    "effective_on",
    "expires_on",
    "transferred",
    "waiting_days",
    "cooling_off_days",
)
PERSON_FIELDS = ("id", "id_digest", "birth_date", "mainland_citizen", "home_city_id")
_members_of_policy = PreparedQuery(
    lambda number: (
        PolicyMember.objects.filter(policy__number=number)
        # order_by("id"): the default ordering would join the policy table a second time.
        .order_by("id")
        .values_list(
            "id",
            "ref",
            "relation",
            *(f"person__{name}" for name in PERSON_FIELDS),
            *(f"policy__{name}" for name in POLICY_FIELDS),
        )
    )
)
_balances_of_policy = PreparedQuery(
    lambda policy_id, benefit_ids: (
        QuotaBalance.objects.filter(policy_id=policy_id, benefit_id__in=benefit_ids)
        .order_by()
        .values_list(
            "benefit_id",
            "person_id",
            "measure",
            "category",
            "period_key",
            "granted",
            "held",
            "used",
        )
    )
)


def product_insurer_id(product_id: int) -> int | None:
    """The insurer of a product, from a per-process memo of the (small) product table."""
    insurers = _product_insurers.get(
        "all", lambda: dict(Product.objects.order_by().values_list("id", "insurer_id"))
    )
    return insurers.get(product_id)


def policy_and_members(
    number: str, *, insurer_ids: frozenset[int] | None = None
) -> tuple[Policy, list[MemberRow]]:
    """One query. The policy is a model instance carrying the loaded fields (and its real
    primary key), for the plain functions that take models; nothing here is saved.

    With ``insurer_ids``, another insurer's policy is "保单不存在", like no policy at all."""
    rows = _members_of_policy(number=number)
    if not rows:
        policies = Policy.objects.filter(number=number)
        if insurer_ids is not None:
            policies = policies.filter(product__insurer__in=insurer_ids)
        if policies.exists():
            raise NotFound("member：本保单没有此被保险人")
        raise NotFound("保单不存在")
    policy_at = 3 + len(PERSON_FIELDS)
    policy = Policy(number=number, **dict(zip(POLICY_FIELDS, rows[0][policy_at:], strict=True)))
    if insurer_ids is not None and product_insurer_id(policy.product_id) not in insurer_ids:
        raise NotFound("保单不存在")
    return policy, [MemberRow(*row[:policy_at]) for row in rows]


def _find_member(members: list[MemberRow], text: str, field: str) -> MemberRow:
    for member in members:
        if member.ref == text:
            return member
    digests = {id_number_digest(id_type, text) for id_type in Person.IdType.values}
    for member in members:
        if member.id_digest in digests:
            return member
    raise NotFound(f"{field}：本保单没有此被保险人")


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


def _region(text: str | None, field: str) -> Region | None:
    if not text:
        return None
    region = region_cached(text)
    if region is None:
        message = _("%(field)s：无法识别的地区“%(text)s”") % {"field": field, "text": text}
        raise DomainError("invalid_region", message, field=field)
    return region


def _city(region: Region) -> Region:
    """The prefecture-level city (or municipality) a region belongs to."""
    lineage = region_lineage(region)
    return next(
        (r for r in lineage if r.level == Region.Level.PREFECTURE or r.code in MUNICIPALITIES),
        lineage[-1],
    )


def _coordinates(region: Region) -> tuple[Decimal, Decimal] | None:
    """The region's (latitude, longitude), else its nearest parent's."""
    for place in region_lineage(region):
        if place.latitude is not None and place.longitude is not None:
            return place.latitude, place.longitude
    return None


def _network(
    terms: BenefitTerms,
    *,
    home: Region | None,
    hospital: Region | None,
    service: Region | None,
    named: str | None,
) -> tuple[dict[str, bool], frozenset[str]]:
    """(list code → covered, list codes that cannot be consulted) for the network rules."""
    covered: dict[str, bool] = {}
    uncheckable: set[str] = set()
    places = {"home": home, "hospital": hospital or service, "service": service or hospital}
    for rule in terms.rules:
        if not isinstance(rule, NetworkRule) or not rule.coverage_list:
            continue
        coverage_list = coverage_list_cached(rule.coverage_list)
        if coverage_list is None or not (
            coverage_list.member_count or coverage_list.entry_count  # type: ignore[attr-defined]
        ):
            uncheckable.add(rule.coverage_list)  # printed as a QR code, not imported yet
        elif coverage_list.kind == CoverageList.Kind.CITY:
            place = places[rule.location]
            if place is not None:
                covered[rule.coverage_list] = list_covers_region_cached(coverage_list, place)
        elif named:
            covered[rule.coverage_list] = normalise(named) in list_names_cached(coverage_list)
        else:
            # No hospital named: in these networks the vendor arranges the hospital.
            uncheckable.add(rule.coverage_list)
    return covered, frozenset(uncheckable)


def _disease_lists(terms: BenefitTerms, disease: str | None) -> frozenset[str]:
    if not disease:
        return frozenset()
    found = set()
    for rule in terms.rules:
        if isinstance(rule, CoveredConditionRule) and rule.disease_list:
            coverage_list = coverage_list_cached(rule.disease_list)
            if coverage_list is not None and normalise(disease) in list_names_cached(coverage_list):
                found.add(rule.disease_list)
    return frozenset(found)


def eligibility_facts(query: EligibilityQuery) -> tuple[Benefit, Facts, list[PoolState]]:
    policy, members = policy_and_members(query.policy, insurer_ids=query.insurer_ids)
    member = _find_member(members, query.member, "member")
    recipient = _find_member(members, query.recipient, "recipient") if query.recipient else member
    benefit = benefit_cached(query.benefit)
    if benefit is None:
        raise NotFound("权益不存在")
    if benefit.product_id != policy.product_id:
        raise DomainError("benefit_not_in_product", "该权益不属于本保单的产品")
    terms = benefit.parsed_terms
    on = query.at.date()

    try:
        specs = pools_for(
            benefit=benefit, policy=policy, person=member.person(), on=on, hospitalisation_id=None
        )
    except PeriodUnknown:
        specs = []  # per-stay pools need a recorded stay; the engine checks the stay itself
    except ValueError as exc:
        raise DomainError("outside_policy_period", str(exc)) from None
    prerequisites = {
        p.benefit: (prior, p.state)
        for p in terms.prerequisites
        if (prior := benefit_cached(p.benefit)) is not None
    }
    balances: list[BalanceRow] = []
    if specs or prerequisites:
        wanted = [benefit.pk, *(prior.pk for prior, _state in prerequisites.values())]
        balances = [
            BalanceRow(*row) for row in _balances_of_policy(policy_id=policy.pk, benefit_ids=wanted)
        ]
    current = {
        (b.person_id, b.measure, b.category, b.period_key): b
        for b in balances
        if b.benefit_id == benefit.pk
    }
    pools = []
    for spec in specs:
        key = spec.key
        balance = current.get(
            (key.person.pk if key.person else None, key.measure, key.category, key.period_key)
        )
        pools.append(
            PoolState(
                pool_label(spec, terms),
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
    # A prerequisite is met by the member's own use of it (or a hold, when the handbook only
    # asks for it to be approved or under way), in any period of this policy.
    completed = frozenset(
        code
        for code, (prior, state) in prerequisites.items()
        if any(
            b.benefit_id == prior.pk
            and b.person_id in (member.person_id, None)
            and (b.used > 0 or (state != "completed" and b.held > 0))
            for b in balances
        )
    )
    exclusive_used = frozenset(
        {terms.exclusive_choice.group}
        if terms.exclusive_choice and any(p.held + p.used > 0 for p in pools)
        else set()
    )

    stay = query.stay
    service = _region(query.region, "context.region")
    hospital = _region(stay.region, "context.hospitalisation.region") if stay else None
    named = query.hospital or (stay.hospital if stay else None)
    if hospital is None and named:
        hospital = entry_region_cached(named)  # where a listed hospital is, when not given
    home_id = recipient.home_city_id
    home = region_by_id_cached(home_id) if home_id else None
    covered, uncheckable = _network(
        terms, home=home, hospital=hospital, service=service, named=named
    )

    tier = TierFacts()
    if terms.tiers or terms.quota.category_caps:
        where = hospital or service
        ends = (_coordinates(home) if home else None, _coordinates(where) if where else None)
        tier = TierFacts(
            distance_km=great_circle_km(ends[0], ends[1]) if ends[0] and ends[1] else None,
            city=_city(where).name if where else None,
            advance=query.advance,
            amount=query.amount,
            category=query.category,
            cap_left={p.spec.key.category: p.remaining for p in pools if p.spec.key.category},
        )

    facts = Facts(
        calendar=calendar_cached() if needs_calendar(terms) else None,
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
            birth_date=recipient.birth_date,
            is_insured_member=True,
            relation="self" if recipient.id == member.id else recipient.relation,
            mainland_citizen=recipient.mainland_citizen,
        ),
        planned_at=query.planned_at,
        site=query.site,
        stay=(
            StayFacts(
                admitted_on=stay.admitted_on,
                discharged_on=stay.discharged_on,
                day_surgery=stay.day_surgery,
                ward=stay.ward,
                pregnancy_related=stay.pregnancy_related,
            )
            if stay
            else None
        ),
        diagnosis=(
            DiagnosisFacts(
                diagnosed_on=query.diagnosis.diagnosed_on,
                confirmed=query.diagnosis.confirmed,
                first_diagnosed_on=query.diagnosis.first_diagnosed_on,
                in_lists=_disease_lists(terms, query.diagnosis.disease),
            )
            if query.diagnosis
            else None
        ),
        conditions=query.conditions,
        covered_by=covered,
        uncheckable=uncheckable,
        remaining={pool.label: pool.remaining for pool in pools},
        needed=needed,
        completed_benefits=completed,
        benefit_names={code: prior.name for code, (prior, _state) in prerequisites.items()},
        exclusive_groups_used=exclusive_used,
        tier=tier,
    )
    return benefit, facts, pools
