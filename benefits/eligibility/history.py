"""What a policy's past says about a new use, with one definition each, for every channel:

- **used in this period**: the pool's balance for the period (held + used), from the ledger;
- **window started on**: a window benefit ("启动后180天内") keeps the window its first use in
  the policy year opened — its balance, or for an unlimited one its first delivery — and once
  that window has run out, what was left lapses until the next policy year ("规定时限内未使用
  完…自动失效");
- **prerequisite delivered**: a ``Delivery`` of the prerequisite for the member, in any period
  of the policy — completed with its deliverable, not approved or booked;
- **exclusive choice taken in this period**: something held or used in the choice's pools for
  the period (a cancelled choice released its hold and no longer counts).

``history_load`` reads the history of many policies at once (the portal overview), in two
queries whatever the number of policies, members, benefits or past uses: the balances, and
the deliveries when a benefit asks for a prerequisite.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from benefits.models import Benefit, Delivery, QuotaBalance
from benefits.quota.entitlements import WINDOW_PERIOD, PoolSpec
from benefits.terms.benefit_terms import BenefitTerms
from portal.kernel.clock import SHANGHAI
from portal.kernel.prepared import PreparedQuery


@dataclass(frozen=True)
class BalanceRow:
    benefit_id: int
    person_id: int | None
    measure: str
    category: str
    period_key: str
    period_start: date
    period_end: date | None
    granted: Decimal
    held: Decimal
    used: Decimal


@dataclass
class History:
    """One policy's balances and deliveries, for the benefits asked about."""

    balances: list[BalanceRow] = field(default_factory=list)
    # (benefit id, person id) → the days it was delivered on
    delivered: dict[tuple[int, int], list[date]] = field(default_factory=lambda: defaultdict(list))


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


_BALANCE_FIELDS = (
    "policy_id",
    "benefit_id",
    "person_id",
    "measure",
    "category",
    "period_key",
    "period_start",
    "period_end",
    "granted",
    "held",
    "used",
)
_balances_of = PreparedQuery(
    lambda policy_ids, benefit_ids: (
        QuotaBalance.objects.filter(policy_id__in=policy_ids, benefit_id__in=benefit_ids)
        .order_by()
        .values_list(*_BALANCE_FIELDS)
    )
)
_deliveries_of = PreparedQuery(
    lambda policy_ids, benefit_ids: (
        Delivery.objects.filter(policy_id__in=policy_ids, benefit_id__in=benefit_ids)
        .order_by()
        .values_list("policy_id", "benefit_id", "person_id", "delivered_at")
    )
)


def history_load(
    policy_ids: Iterable[int], benefits: Iterable[Benefit], prerequisites: Iterable[Benefit] = ()
) -> dict[int, History]:
    """The history of each policy for ``benefits`` and their ``prerequisites``: balances
    (one query), deliveries (one query, when a benefit has prerequisites or is an unlimited
    window benefit, whose window only a delivery opens)."""
    policy_ids = sorted(set(policy_ids))
    benefits = list(benefits)
    wanted = {b.pk for b in benefits}
    priors = {b.pk for b in prerequisites} | {
        b.pk for b in benefits if _unlimited_window(b.parsed_terms)
    }
    history: dict[int, History] = defaultdict(History)
    if not policy_ids or not (wanted or priors):
        return history
    for row in _balances_of(policy_ids=policy_ids, benefit_ids=sorted(wanted | priors)):
        history[row[0]].balances.append(BalanceRow(*row[1:]))
    if priors:
        for policy_id, benefit_id, person_id, at in _deliveries_of(
            policy_ids=policy_ids, benefit_ids=sorted(priors)
        ):
            day = at.astimezone(SHANGHAI).date()
            history[policy_id].delivered[(benefit_id, person_id)].append(day)
    return history


def _unlimited_window(terms: BenefitTerms) -> bool:
    return terms.quota.period == "window_after_start" and terms.quota.is_unlimited


def window_start(
    history: History, benefit: Benefit, person_id: int | None, on: date, year_start: date
) -> date | None:
    """The start of the window of ``benefit`` opened in the policy year beginning
    ``year_start`` (by the pool's owner: the member, or the policy for a family pool), if a
    first use opened one — whether it still runs or not."""
    if benefit.parsed_terms.quota.period != "window_after_start":
        return None
    starts = [
        b.period_start
        for b in history.balances
        if b.benefit_id == benefit.pk
        and b.period_key.startswith(WINDOW_PERIOD)
        and b.person_id in (person_id, None)
        and year_start <= b.period_start <= on
    ]
    starts += [
        day
        for (benefit_id, person), days in history.delivered.items()
        if benefit_id == benefit.pk and person in (person_id, None)
        for day in days
        if year_start <= day <= on
    ]
    return min(starts) if starts else None


def pool_states(
    specs: list[PoolSpec], history: History, benefit: Benefit, labels: list[str]
) -> list[PoolState]:
    """Each pool with its balance; a pool never opened has its whole grant left."""
    current = {
        (b.person_id, b.measure, b.category, b.period_key): b
        for b in history.balances
        if b.benefit_id == benefit.pk
    }
    pools = []
    for spec, label in zip(specs, labels, strict=True):
        key = spec.key
        balance = current.get(
            (key.person.pk if key.person else None, key.measure, key.category, key.period_key)
        )
        pools.append(
            PoolState(
                label,
                spec,
                balance.granted if balance else spec.amount,
                balance.held if balance else Decimal(0),
                balance.used if balance else Decimal(0),
            )
        )
    return pools


def delivered_prerequisites(
    prerequisites: dict[str, Benefit], history: History, person_id: int
) -> frozenset[str]:
    """The codes of the benefit's prerequisites delivered to the member on this policy."""
    return frozenset(
        code
        for code, prior in prerequisites.items()
        if history.delivered.get((prior.pk, person_id))
    )


def used_benefits(
    prerequisites: dict[str, Benefit], history: History, person_id: int
) -> frozenset[str]:
    """The codes of ``prerequisites`` the member has used on this policy in any period: held
    or used on a pool of theirs (or the family's), or delivered. What an ``any_of``
    prerequisite (AnyPrerequisite) asks: *a* green-channel service under way or done."""
    used = {
        b.benefit_id
        for b in history.balances
        if b.person_id in (person_id, None) and b.held + b.used > 0
    } | {
        benefit_id
        for (benefit_id, person), days in history.delivered.items()
        if days and person == person_id
    }
    return frozenset(code for code, prior in prerequisites.items() if prior.pk in used)


def exclusive_choice_taken(terms: BenefitTerms, pools: list[PoolState]) -> frozenset[str]:
    """The exclusive-choice group, when this period's pools hold or used something."""
    choice = terms.exclusive_choice
    if choice and any(p.held + p.used > 0 for p in pools):
        return frozenset({choice.group})
    return frozenset()
