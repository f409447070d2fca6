"""What the portal pages read: every benefit of every member a person acts for, with what is
left, until when, and why it cannot be used now — in a fixed number of queries whatever the
number of members, benefits or requests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import policy_facts, pool_label
from benefits.eligibility.model import Facts, PersonFacts, Reason
from benefits.models import Benefit, Person, PolicyMember, QuotaBalance
from benefits.quota.entitlements import PeriodUnknown, pools_for
from benefits.quota.selectors import plain
from benefits.terms import display as terms_display
from bookings.models import OPEN_STATUSES, QuotaOutcome, ServiceRequest
from portal.pages.access import actable_members

# Rules the overview can judge without the facts of a particular use (where, which stay,
# which diagnosis, when); the others are checked on the request form.
CONTEXT_FREE_RULES = frozenset(
    {
        "policy_not_in_force",
        "cooling_off",
        "waiting_period",
        "service_expired",
        "age",
        "citizenship",
        "recipient_not_allowed",
    }
)


@dataclass
class PoolLine:
    label: str
    granted: Decimal
    remaining: Decimal
    period_end: date | None


@dataclass
class BenefitLine:
    benefit: Benefit
    pools: list[PoolLine]
    reasons: list[Reason]
    next_eligible_on: date | None
    open_requests: int
    checked_on_request: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.reasons


@dataclass
class MemberBenefits:
    member: PolicyMember
    lines: list[BenefitLine]


def benefits_overview(person: Person, at: datetime) -> list[MemberBenefits]:
    """Queries: members (with policy, product, person), benefits, balances, requests."""
    members = list(actable_members(person, timezone.localdate(at)))
    if not members:
        return []
    policies = {m.policy_id: m.policy for m in members}
    product_ids = {p.product_id for p in policies.values()}
    benefits_by_product: dict[int, list[Benefit]] = defaultdict(list)
    for benefit in Benefit.objects.filter(product_id__in=product_ids, active=True).order_by(
        "product_id", "position", "id"
    ):
        benefits_by_product[benefit.product_id].append(benefit)
    balances = {
        (b.policy_id, b.benefit_id, b.person_id, b.measure, b.category, b.period_key): b
        for b in QuotaBalance.objects.filter(policy_id__in=policies)
    }
    open_count: dict[tuple[int, int], int] = defaultdict(int)
    chosen: set[tuple[int, int]] = set()  # (member, benefit) with an exclusive option taken
    completed: dict[int, set[str]] = defaultdict(set)
    for member_id, benefit_id, benefit_code, status, outcome, option in (
        ServiceRequest.objects.filter(policy_id__in=policies)
        .values_list(
            "member_id", "benefit_id", "benefit__code", "status", "quota_outcome", "option"
        )
        .order_by()
    ):
        if status in OPEN_STATUSES:
            open_count[(member_id, benefit_id)] += 1
        if option and outcome in (QuotaOutcome.HELD, QuotaOutcome.USED):
            chosen.add((member_id, benefit_id))
        if status == "completed":
            completed[member_id].add(benefit_code)

    result = []
    for member in members:
        policy = member.policy
        lines = []
        for benefit in benefits_by_product[policy.product_id]:
            lines.append(
                _line(
                    benefit,
                    member,
                    at,
                    balances,
                    open_count[(member.pk, benefit.pk)],
                    exclusive_used=(member.pk, benefit.pk) in chosen,
                    completed=frozenset(completed[member.pk]),
                )
            )
        result.append(MemberBenefits(member, lines))
    return result


def _line(
    benefit: Benefit,
    member: PolicyMember,
    at: datetime,
    balances: dict,
    open_requests: int,
    *,
    exclusive_used: bool,
    completed: frozenset[str],
) -> BenefitLine:
    policy = member.policy
    terms = benefit.parsed_terms
    on = timezone.localdate(at)
    try:
        specs = pools_for(benefit=benefit, policy=policy, person=member.person, on=on)
    except (PeriodUnknown, ValueError):
        specs = []  # per-stay pools open with a stay; outside the policy period: no pools
    pools = []
    for spec in specs:
        key = spec.key
        balance = balances.get(
            (
                policy.pk,
                benefit.pk,
                key.person.pk if key.person else None,
                key.measure,
                key.category,
                key.period_key,
            )
        )
        granted = balance.granted if balance else spec.amount
        left = balance.remaining if balance else spec.amount
        pools.append(PoolLine(pool_label(spec, terms), plain(granted), plain(left), key.period_end))
    facts = Facts(
        at=at,
        policy=policy_facts(policy),
        recipient=PersonFacts(
            birth_date=member.person.birth_date,
            is_insured_member=True,
            mainland_citizen=member.person.mainland_citizen,
        ),
        remaining={p.label: p.remaining for p in pools},
        # Something must be left; how much this use needs is asked on the form.
        needed={p.label: Decimal("0.01") for p in pools},
        completed_benefits=completed,
        exclusive_groups_used=frozenset(
            {terms.exclusive_choice.group} if exclusive_used and terms.exclusive_choice else ()
        ),
    )
    context_free = terms.model_copy(
        update={"rules": [r for r in terms.rules if r.kind in CONTEXT_FREE_RULES]}
    )
    verdict = evaluate(context_free, facts)
    later = [r for r in terms.rules if r.kind not in CONTEXT_FREE_RULES]
    return BenefitLine(
        benefit=benefit,
        pools=pools,
        reasons=verdict.reasons,
        next_eligible_on=verdict.next_eligible_on,
        open_requests=open_requests,
        checked_on_request=[terms_display.rule(r) for r in later],
    )


def requests_for(person: Person, on: date) -> QuerySet[ServiceRequest]:
    """The requests of every member the person acts for, newest first: one query."""
    return (
        ServiceRequest.objects.filter(member__in=actable_members(person, on).values("pk"))
        .select_related("benefit", "recipient__person", "policy")
        .order_by("-created_at", "-id")
    )
