"""What the portal pages read: every benefit of every member a person acts for, with what is
left, until when, and why it cannot be used now — in a fixed number of queries whatever the
number of members, benefits or requests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.eligibility.engine import evaluate
from benefits.eligibility.facts import EligibilityQuery, benefit_cached, facts_build, prior_codes
from benefits.eligibility.history import History, PoolState, history_load
from benefits.eligibility.members import MemberRow
from benefits.eligibility.model import Missing, Reason, Verdict
from benefits.models import Benefit, Person, Policy, PolicyMember
from benefits.quota.entitlements import STAY_PERIOD, WINDOW_PERIOD, YEAR_PERIOD
from benefits.quota.selectors import plain
from benefits.terms import display as terms_display
from bookings.models import OPEN_STATUSES, QuotaOutcome, ServiceRequest
from portal.kernel.errors import DomainError, ErrorCode
from portal.pages.access import actable_members


@dataclass
class PoolLine:
    label: str
    granted: Decimal
    remaining: Decimal
    period_end: date | None
    # What is left in plain words: "剩余1次（共1次）", "本年度已用完".
    text: str = ""
    shared: bool = False  # a family pool: every member's use counts

    @property
    def empty(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True)
class SharedUse:
    """A use of a family pool, for "家庭共享：李小红 已于5月10日使用"."""

    name: str
    on: date
    used: bool  # False: held by a request still being handled


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
    category: str = ""  # the service's category, for its icon
    shared_uses: list[SharedUse] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.reasons

    @property
    def first_reason(self) -> str:
        """The tile's one line on why not, beside what is left: a used-up pool already says
        "本年度已用完", so the engine's arithmetic on it is not repeated."""
        empty = any(p.empty for p in self.pools)
        for reason in self.reasons:
            if not (empty and reason.code == ErrorCode.QUOTA_EXHAUSTED):
                return reason.message
        return ""


@dataclass
class MemberBenefits:
    member: PolicyMember
    lines: list[BenefitLine]


@dataclass
class PolicyChoice:
    """One policy on the 我的权益 selector, with the members the person may act for."""

    policy: Policy
    members: list[PolicyMember]


@dataclass
class Overview:
    """我的权益: the selector (every policy and member) and one screen, the chosen member's."""

    choices: list[PolicyChoice]
    member: PolicyMember | None
    lines: list[BenefitLine]


def _members(person: Person, at: datetime) -> list[PolicyMember]:
    return list(
        actable_members(person, timezone.localdate(at)).select_related("policy__product__insurer")
    )


def benefits_overview(person: Person, at: datetime) -> list[MemberBenefits]:
    """Every benefit of every member the person acts for (the customer page in admin)."""
    members = _members(person, at)
    lines = member_lines(members, at)
    return [MemberBenefits(member, lines[member.pk]) for member in members]


def portal_overview(person: Person, at: datetime, member_id: int | None) -> Overview:
    """我的权益 for one member (the first when ``member_id`` is not one of theirs), with the
    selector of every policy and member: the same queries whatever their number."""
    members = _members(person, at)
    member = next((m for m in members if m.pk == member_id), members[0] if members else None)
    choices: dict[int, PolicyChoice] = {}
    for m in members:
        choices.setdefault(m.policy_id, PolicyChoice(m.policy, [])).members.append(m)
    lines = member_lines([member], at)[member.pk] if member else []
    return Overview(list(choices.values()), member, lines)


def benefit_detail(
    person: Person, at: datetime, member_id: int, code: str
) -> tuple[PolicyMember, BenefitLine] | None:
    """One benefit of one member, judged as on 我的权益; None when not theirs."""
    member = next((m for m in _members(person, at) if m.pk == member_id), None)
    if member is None:
        return None
    line = next((b for b in member_lines([member], at)[member.pk] if b.benefit.code == code), None)
    return (member, line) if line else None


def member_lines(members: list[PolicyMember], at: datetime) -> dict[int, list[BenefitLine]]:
    """Every benefit of each member, judged by the engine on the facts known without a
    particular use (the one facts builder, ``facts_build``). Queries: benefits, the history
    of every policy (balances; deliveries when a benefit needs another first), the requests
    that hold or used quota or are open."""
    if not members:
        return {}
    policies = {m.policy_id: m.policy for m in members}
    benefits_by_product: dict[int, list[Benefit]] = defaultdict(list)
    categories: dict[str, str] = {}
    # Which benefits, in order (one query); each as the process memo holds it, its terms
    # parsed once per process rather than on every page.
    for code, category in (
        Benefit.objects.filter(
            product_id__in={p.product_id for p in policies.values()}, active=True
        )
        .order_by("product_id", "position", "id")
        .values_list("code", "service__category")
    ):
        benefit = benefit_cached(code)
        if benefit is not None:
            benefits_by_product[benefit.product_id].append(benefit)
            categories[code] = category
    by_code = {b.code: b for lines in benefits_by_product.values() for b in lines}
    priors = {
        code: by_code[code]
        for b in by_code.values()
        for code in prior_codes(b.parsed_terms)
        if code in by_code
    }
    history = history_load(policies, by_code.values(), priors.values())
    usage = _usage(policies)
    result = {}
    for member in members:
        lines = []
        for benefit in benefits_by_product[member.policy.product_id]:
            line = _line(benefit, member, at, history[member.policy_id], priors, usage)
            line.category = categories[benefit.code]
            lines.append(line)
        result[member.pk] = lines
    return result


@dataclass
class _Usage:
    open_count: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    # (policy id, benefit id) → every use that holds or used the quota
    uses: dict[tuple[int, int], list[SharedUse]] = field(default_factory=lambda: defaultdict(list))


def _usage(policies: dict[int, Policy]) -> _Usage:
    """Open requests per member and benefit, and who holds or used each benefit: one query."""
    usage = _Usage()
    for policy_id, member_id, benefit_id, status, outcome, name, created, updated in (
        ServiceRequest.objects.filter(policy_id__in=policies)
        .filter(
            Q(status__in=OPEN_STATUSES)
            | Q(quota_outcome__in=[QuotaOutcome.HELD, QuotaOutcome.USED])
        )
        .values_list(
            "policy_id",
            "member_id",
            "benefit_id",
            "status",
            "quota_outcome",
            "recipient__person__name",
            "created_at",
            "updated_at",
        )
        .order_by("created_at", "id")
    ):
        if status in OPEN_STATUSES:
            usage.open_count[(member_id, benefit_id)] += 1
        if outcome in (QuotaOutcome.HELD, QuotaOutcome.USED):
            used = outcome == QuotaOutcome.USED
            on = timezone.localdate(updated if used else created)
            usage.uses[(policy_id, benefit_id)].append(SharedUse(name, on, used))
    return usage


def _line(
    benefit: Benefit,
    member: PolicyMember,
    at: datetime,
    history: History,
    priors: dict[str, Benefit],
    usage: _Usage,
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
    lines = [_pool_line(p) for p in pools]
    shared = [p for p in pools if p.spec.key.person is None]
    return BenefitLine(
        benefit=benefit,
        pools=lines,
        reasons=verdict.reasons,
        next_eligible_on=verdict.next_eligible_on,
        open_requests=usage.open_count[(member.pk, benefit.pk)],
        to_supply=verdict.missing,
        quota_text="" if pools else terms_display.quota(terms.quota),
        shared_uses=[
            use
            for use in usage.uses[(member.policy_id, benefit.pk)]
            if any(_in_period(use.on, p) for p in shared)
        ],
    )


def _in_period(on: date, pool: PoolState) -> bool:
    key = pool.spec.key
    return key.period_start <= on and (key.period_end is None or on <= key.period_end)


UNITS = {"times": "次", "days": "天", "cny": "元", "requests": "次"}


def _pool_line(pool: PoolState) -> PoolLine:
    key = pool.spec.key
    granted, remaining = plain(pool.granted), plain(pool.remaining)
    unit = UNITS.get(key.measure, "")
    if remaining > 0:
        text = _("剩余%(left)s%(unit)s（共%(granted)s%(unit)s）") % {
            "left": remaining,
            "granted": granted,
            "unit": unit,
        }
    else:
        text = str(_used_up(key.period_key))
    if key.category:
        text = f"{pool.label.removesuffix('金额（元）')}：{text}"
    return PoolLine(
        pool.label, granted, remaining, key.period_end, text=text, shared=key.person is None
    )


def _used_up(period_key: str) -> str:
    if period_key.startswith(YEAR_PERIOD):
        return _("本年度已用完")
    if period_key.startswith(STAY_PERIOD):
        return _("本次住院已用完")
    if period_key.startswith(WINDOW_PERIOD):
        return _("本期已用完")
    return _("保障期内已用完")


def requests_for(person: Person, on: date) -> QuerySet[ServiceRequest]:
    """The requests of every member the person acts for, newest first: one query."""
    return (
        ServiceRequest.objects.filter(member__in=actable_members(person, on).values("pk"))
        .select_related("benefit", "recipient__person", "policy")
        .order_by("-created_at", "-id")
    )
