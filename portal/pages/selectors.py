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
from benefits.eligibility.facts import EligibilityQuery, benefit_cached, facts_build, prior_codes
from benefits.eligibility.history import History, PoolState, history_load
from benefits.eligibility.members import MemberRow
from benefits.eligibility.model import Missing, Reason, Verdict
from benefits.models import Benefit, Person, PolicyMember
from benefits.quota.selectors import plain
from benefits.terms import display as terms_display
from bookings.models import OPEN_STATUSES, ServiceRequest
from portal.kernel.errors import DomainError
from portal.pages.access import actable_members


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
    # What the request form will ask before it can decide (where, when, which stay …).
    to_supply: list[Missing] = field(default_factory=list)
    # The quota in words when no pool can be shown yet (per stay: "每次住院1次").
    quota_text: str = ""

    @property
    def usable(self) -> bool:
        return not self.reasons


@dataclass
class MemberBenefits:
    member: PolicyMember
    lines: list[BenefitLine]


def benefits_overview(person: Person, at: datetime) -> list[MemberBenefits]:
    """Every benefit of every member the person acts for, judged by the engine on the facts
    known without a particular use (the one facts builder, ``facts_build``). Queries:
    members (with policy, product, person), benefits, the history of every policy (balances;
    deliveries when a benefit needs another first), open requests."""
    members = list(actable_members(person, timezone.localdate(at)))
    if not members:
        return []
    policies = {m.policy_id: m.policy for m in members}
    benefits_by_product: dict[int, list[Benefit]] = defaultdict(list)
    # Which benefits, in order (one query); each as the process memo holds it, its terms
    # parsed once per process rather than on every page.
    for code in (
        Benefit.objects.filter(
            product_id__in={p.product_id for p in policies.values()}, active=True
        )
        .order_by("product_id", "position", "id")
        .values_list("code", flat=True)
    ):
        benefit = benefit_cached(code)
        if benefit is not None:
            benefits_by_product[benefit.product_id].append(benefit)
    by_code = {b.code: b for lines in benefits_by_product.values() for b in lines}
    priors = {
        code: by_code[code]
        for b in by_code.values()
        for code in prior_codes(b.parsed_terms)
        if code in by_code
    }
    history = history_load(policies, by_code.values(), priors.values())
    open_count: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, benefit_id in (
        ServiceRequest.objects.filter(policy_id__in=policies, status__in=OPEN_STATUSES)
        .values_list("member_id", "benefit_id")
        .order_by()
    ):
        open_count[(member_id, benefit_id)] += 1
    return [
        MemberBenefits(
            member,
            [
                _line(
                    benefit,
                    member,
                    at,
                    history[member.policy_id],
                    priors,
                    open_requests=open_count[(member.pk, benefit.pk)],
                )
                for benefit in benefits_by_product[member.policy.product_id]
            ],
        )
        for member in members
    ]


def _line(
    benefit: Benefit,
    member: PolicyMember,
    at: datetime,
    history: History,
    priors: dict[str, Benefit],
    *,
    open_requests: int,
) -> BenefitLine:
    terms = benefit.parsed_terms
    row = MemberRow.of(member)
    query = EligibilityQuery(
        policy=member.policy.number, member=row.ref, benefit=benefit.code, at=at
    )
    pools: list[PoolState] = []
    try:
        facts, pools = facts_build(
            query,
            policy=member.policy,
            member=row,
            recipient=row,
            benefit=benefit,
            history=history,
            prerequisites={code: priors[code] for code in prior_codes(terms) if code in priors},
        )
    except DomainError as exc:  # outside the policy period: nothing can be used
        verdict = Verdict(reasons=[Reason(exc.code, exc.message, "")], unchecked=[])
    else:
        verdict = evaluate(terms, facts)
    return BenefitLine(
        benefit=benefit,
        pools=[
            PoolLine(p.label, plain(p.granted), plain(p.remaining), p.spec.key.period_end)
            for p in pools
        ],
        reasons=verdict.reasons,
        next_eligible_on=verdict.next_eligible_on,
        open_requests=open_requests,
        to_supply=verdict.missing,
        quota_text="" if pools else terms_display.quota(terms.quota),
    )


def requests_for(person: Person, on: date) -> QuerySet[ServiceRequest]:
    """The requests of every member the person acts for, newest first: one query."""
    return (
        ServiceRequest.objects.filter(member__in=actable_members(person, on).values("pk"))
        .select_related("benefit", "recipient__person", "policy")
        .order_by("-created_at", "-id")
    )
