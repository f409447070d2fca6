"""Ninety days of synthetic service requests for the demo (``manage.py load_demo_history``,
run by ``./dev up``), so the SLA dashboard, the trends and the vendors' scorecards show
realistic numbers on first start.

The history is written through the real lifecycle, on a simulated clock: each request's row
is created, its quota held through the ledger (``balance_open`` / ``quota_hold``), its
``submitted`` event recorded, and every later step applied with ``request_transition`` at
the moment it happened. The clock the models and services read (``timezone.now``) is moved
to that moment for the step, so events, milestones (started, met, breached), ledger entries,
notifications and follow-ups carry the times they would have had. What is skipped is only
the eligibility check of a portal submission (the synthetic households are in force and
past their waiting periods; per-stay benefits, which need a hospitalisation, and
pick-one benefits are left out).

Deterministic: a fixed seed, requests ``SRH00001``… on households ``DEMO-HIST-001``…
Idempotent: a run finds the requests it would write and writes nothing again. Open
milestones left past their deadline are breached as the scanner would have done at the
time, without sending historic digests; follow-ups due in the past are marked sent then.
About half the completed requests are rated, through the rating service where this
installation has one (``RATING_SERVICE``); without it the history has no ratings.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from benefits.demo import resident_id
from benefits.eligibility.facts import needed_of
from benefits.models import Benefit, PolicyMember
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from benefits.quota.entitlements import pools_for
from benefits.quota.ledger import QuotaExhausted, balance_open, quota_hold
from bookings.lifecycle.events import notify, record_event
from bookings.lifecycle.reviews import pending_reviews
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.staff import review_record
from bookings.models import FollowUp, Milestone, QuotaOutcome, ServiceRequest
from portal.kernel.actor import SYSTEM, Actor
from portal.kernel.clock import SHANGHAI

SEED = 20260901
DAYS = 90
REQUESTS_PER_DAY = 5
RECENT = timedelta(days=6)
STALLED_SHARE = 0.6
FRESH = 6  # requests submitted in the last hours, approved or assigned at most
REF_PREFIX = "SRH"
POLICY_PREFIX = "DEMO-HIST-"
# One household per this many requests: enough quota that no synthetic use is refused.
REQUESTS_PER_HOUSEHOLD = 3
# Rating models another part of the product may add; the first one present is used.
RATING_SERVICE = "bookings.lifecycle.rating"
RATED_SHARE = 0.5  # of completed requests
COMMENTS = {
    5: ("服务很及时，陪诊人员很专业", "非常满意", ""),
    4: ("整体不错，预约稍慢", "满意", ""),
    3: ("一般", "联系得有点晚", ""),
    2: ("等了很久才有人联系", ""),
    1: ("服务商迟到，体验很差", ""),
}
OPERATOR = Actor(label="staff:demo-operator")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明")
HOSPITALS = ("上海市第六人民医院", "复旦大学附属中山医院", "上海交通大学医学院附属瑞金医院")
# Final outcomes of a request old enough to have finished, with their weights.
OUTCOMES = (
    ("completed", 66),
    ("cancelled", 10),
    ("rejected", 8),
    ("failed", 5),
    ("no_show", 4),
    ("records", 7),  # completed after the records were asked for once
)


@dataclass
class HistoryResult:
    requests: int = 0
    events: int = 0
    households: int = 0
    ratings: int = 0
    skipped: bool = False
    by_status: dict[str, int] = field(default_factory=dict)


@contextmanager
def simulated_clock(moment: datetime) -> Iterator[None]:
    """The clock the models (``auto_now``) and services read, at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def history_refs(total: int) -> list[str]:
    return [f"{REF_PREFIX}{index:05d}" for index in range(1, total + 1)]


def load_demo_history(*, now: datetime | None = None, days: int = DAYS) -> HistoryResult:
    """Write the history (once); returns what was written."""
    now = now or timezone.now()
    total = days * REQUESTS_PER_DAY
    refs = history_refs(total)
    if ServiceRequest.objects.filter(ref__in=refs).exists():
        return HistoryResult(skipped=True)
    rng = random.Random(SEED)  # noqa: S311  (synthetic data, reproducible on purpose)
    benefits = _benefits()
    result = HistoryResult()
    rate = _rating_service()
    with transaction.atomic():
        households = Households(now, days)
        quick = [b for b in benefits if _has_hourly_promise(b)] or benefits
        for index, ref in enumerate(refs):
            benefit = benefits[index % len(benefits)]
            submitted_at = _submission_time(rng, now, days, index, total)
            fresh = index >= total - FRESH
            if fresh:  # the last few came in within the hour, on promises counted in hours
                benefit = quick[index % len(quick)]
                submitted_at = now - timedelta(minutes=rng.randint(10, 60))
            member = households.member_for(benefit)
            try:
                with transaction.atomic():  # a savepoint: a refused hold leaves no row
                    request = _submit(ref, member, benefit, submitted_at, rng)
            except QuotaExhausted:
                # The household used this pool already (benefits can share one): another.
                member = households.member_for(benefit, new=True)
                request = _submit(ref, member, benefit, submitted_at, rng)
            # Recent requests are often still being worked: stopped after a few steps, so
            # every open status has requests, some with deadlines still ahead.
            recent = now - submitted_at < RECENT and rng.random() < STALLED_SHARE
            stop = rng.randint(0, 2) if fresh else rng.randint(0, 7) if recent else None
            for step, (moment, event, data) in enumerate(_steps(rng, request, submitted_at)):
                if moment >= now or step == stop:
                    break
                with simulated_clock(moment):
                    result.events += _pass_reviews(request, event)
                    request_transition(
                        request, event, actor=_actor(event, request), now=moment, **data
                    )
                result.events += 1
                if event == "completed" and rate is not None and rng.random() < RATED_SHARE:
                    rated_at = moment + timedelta(minutes=rng.randint(30, 48 * 60))
                    if rated_at < now:
                        _rate(rate, request, rated_at, rng)
                        result.ratings += 1
                        result.events += 1
            result.requests += 1
            result.events += 1  # submitted
        result.households = households.created
        _settle_the_past(refs, now)
    for status in ServiceRequest.objects.filter(ref__in=refs).values_list("status", flat=True):
        result.by_status[status] = result.by_status.get(status, 0) + 1
    return result


def _benefits() -> list[Benefit]:
    """The benefits of every active product the synthetic requests use: assignable, with
    quota pools a plain use can hold (no per-stay pools, no pick-one choice)."""
    chosen = []
    for benefit in (
        Benefit.objects.filter(active=True, product__active=True, vendor__active=True)
        .select_related("product", "vendor")
        .order_by("product__code", "position", "code")
    ):
        terms = benefit.parsed_terms
        if terms.quota.period in ("per_hospitalisation", "window_after_start"):
            continue
        if terms.exclusive_choice is not None or terms.quota.category_caps:
            continue
        chosen.append(benefit)
    return chosen


def _has_hourly_promise(benefit: Benefit) -> bool:
    return any(
        spec.due is not None and spec.due.unit in ("minutes", "hours")
        for spec in benefit.parsed_terms.sla
    )


class Households:
    """Synthetic families (holder and child), one policy each, ``REQUESTS_PER_HOUSEHOLD``
    requests per policy: enough quota that no synthetic use is refused. In force since four
    months before the history starts (past every waiting period)."""

    def __init__(self, now: datetime, days: int):
        start = (now - timedelta(days=days)).astimezone(SHANGHAI).date()
        self.effective = start - relativedelta(months=4)
        self.uses: dict[str, int] = {}
        self.members: dict[tuple[str, int], PolicyMember] = {}
        self.created = 0

    def member_for(self, benefit: Benefit, *, new: bool = False) -> PolicyMember:
        """The next household's member for ``benefit``'s product (``new``: skip to a new
        household, the current one having used the benefit's pool)."""
        product = benefit.product.code
        use = self.uses.get(product, 0)
        if new:
            use += REQUESTS_PER_HOUSEHOLD - use % REQUESTS_PER_HOUSEHOLD
        self.uses[product] = use + 1
        key = (product, use // REQUESTS_PER_HOUSEHOLD)
        if key not in self.members:
            self.members[key] = self._policy(product, len(self.members))
        return self.members[key]

    def _policy(self, product: str, index: int) -> PolicyMember:
        holder, child = _person(index, adult=True), _person(index, adult=False)
        policy, _created = policy_upsert(
            PolicyInput(
                number=f"{POLICY_PREFIX}{index + 1:04d}",
                product=product,
                status="in_force",
                signed_on=self.effective - relativedelta(days=1),
                effective_on=self.effective,
                expires_on=self.effective + relativedelta(years=1, days=-1),
                holder=holder,
                members=[
                    MemberInput(ref="M1", relation="self", person=holder),
                    MemberInput(ref="M2", relation="child", person=child),
                ],
                family=True,
                waiting_days=30,
            )
        )
        self.created += 1
        return PolicyMember.objects.select_related("policy", "person").get(policy=policy, ref="M1")


def _person(index: int, *, adult: bool) -> PersonInput:
    rng = random.Random(SEED + index * 2 + adult)  # noqa: S311  (reproducible names)
    born = date(1965, 1, 1) + timedelta(days=index * 37) if adult else date(2016, 1, 1)
    born += timedelta(days=0 if adult else index % 900)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + ("" if adult else rng.choice(GIVEN))
    return PersonInput(
        name=name,
        id_number=resident_id(f"310101{born:%Y%m%d}{index % 1000:03d}"),
        birth_date=born,
        phone=f"1391{index:07d}" if adult else "",
        home_city="上海市",
    )


def _submission_time(
    rng: random.Random, now: datetime, days: int, index: int, total: int
) -> datetime:
    """Spread evenly over the period, between 08:00 and 21:00 Shanghai time."""
    day = (now - timedelta(days=days)).astimezone(SHANGHAI).date() + timedelta(
        days=index * days // total
    )
    moment = datetime(day.year, day.month, day.day, 8, tzinfo=SHANGHAI) + timedelta(
        minutes=rng.randrange(13 * 60)
    )
    return min(moment, now - timedelta(minutes=5))


def _submit(
    ref: str, member: PolicyMember, benefit: Benefit, at: datetime, rng: random.Random
) -> ServiceRequest:
    """The request row, its quota held through the ledger and its ``submitted`` event."""
    recipient = _recipient(member, benefit)
    with simulated_clock(at):
        request = ServiceRequest.objects.create(
            ref=ref,
            policy=member.policy,
            member=member,
            recipient=recipient,
            benefit=benefit,
            planned_at=at + timedelta(days=rng.randint(2, 6)),
            hospital=rng.choice(HOSPITALS),
            context={"channel": "demo"},
        )
        pools = pools_for(
            benefit=benefit,
            policy=member.policy,
            person=member.person,
            on=at.astimezone(SHANGHAI).date(),
        )
        holds = []
        for spec in pools:
            needed = needed_of(spec, None, None)
            if needed is not None:
                balance = balance_open(key=spec.key, amount=spec.amount, reason="权益期间开始")
                holds.append((balance, needed))
        if holds:
            quota_hold(holds=holds, request_ref=ref, actor=SYSTEM, reason="提交服务申请")
            request.quota_outcome = QuotaOutcome.HELD
            request.save(update_fields=["quota_outcome", "updated_at"])
        record_event(request, "submitted", "", Actor(label="portal"))
        notify(request, title=f"{benefit.name}申请已提交", body=f"申请编号{ref}。")
    return request


def _recipient(member: PolicyMember, benefit: Benefit) -> PolicyMember:
    """A child for the benefits only children may use (儿童齿科), else the insured."""
    for rule in benefit.parsed_terms.rules:
        max_years = getattr(rule, "max_years", None) if rule.kind == "age" else None
        if max_years is not None and max_years < 18:
            child = PolicyMember.objects.filter(policy=member.policy, ref="M2").first()
            return child or member
    return member


def _steps(
    rng: random.Random, request: ServiceRequest, at: datetime
) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
    """The request's later steps with their moments; the caller stops at the present."""
    outcome = rng.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
    hours = lambda low, high: timedelta(minutes=rng.randint(int(low * 60), int(high * 60)))  # noqa: E731
    if outcome in ("records", "rejected") and rng.random() < 0.6:
        at += hours(1, 5)
        yield at, "records_requested", {}
        at += hours(12, 60)
        yield at, "records_complete", {}
    if outcome == "rejected":
        at += hours(2, 20)
        yield at, "rejected", {"reason": "不符合保障范围（演示数据）"}
        return
    at += hours(0.5, 6)
    yield at, "approved", {}
    if outcome == "cancelled" and rng.random() < 0.4:
        at += hours(1, 10)
        yield at, "cancelled", {"reason": "客户行程变化（演示数据）"}
        return
    at += hours(0.2, 3)
    yield at, "assigned", {"vendor": request.benefit.vendor}
    # Most vendors call within the hour; some are late, which breaches the first promise.
    at += hours(6, 30) if rng.random() < 0.15 else hours(0.1, 1.5)
    yield at, "contacted", {}
    at += hours(1, 20)
    appointment = at + hours(24, 96)
    yield at, "scheduled", {"at": appointment, "place": request.hospital}
    if outcome == "cancelled":
        yield at + hours(1, 20), "cancelled", {"reason": "客户已自行就诊（演示数据）"}
        return
    if outcome == "failed":
        yield at + hours(2, 20), "failed", {"reason": "当地暂无可派人员（演示数据）"}
        return
    if outcome == "no_show":
        yield appointment + hours(1, 2), "no_show", {}
        return
    yield appointment, "in_service", {}
    yield appointment + hours(2, 30), "completed", {}


def _pass_reviews(request: ServiceRequest, event: str) -> int:
    """The reviews the benefit's terms put before ``event`` (a hospital's assessment, the
    member's signature on a plan), recorded as passed, as the desk would before the step;
    how many (each is an event row)."""
    gates = pending_reviews(request, event)
    for gate in gates:
        review_record(request, actor=OPERATOR, gate=gate.code, passed=True, reason="演示：审核通过")
    return len(gates)


def _actor(event: str, request: ServiceRequest) -> Actor:
    if event in ("contacted", "scheduled", "in_service", "completed", "failed", "no_show"):
        vendor = request.benefit.vendor
        return Actor(label=f"vendor:{vendor.code}" if vendor else "vendor")
    if event == "cancelled":
        return Actor(label="portal")
    return OPERATOR


def _settle_the_past(refs: list[str], now: datetime) -> None:
    """What the scanner and the reminder task would have done while the history ran:
    overdue promises breached when they fell due, past reminders sent when due."""
    Milestone.objects.filter(
        request__ref__in=refs, state=Milestone.State.PENDING, due_at__lt=now
    ).update(state=Milestone.State.BREACHED, breached_at=F("due_at"))
    FollowUp.objects.filter(
        request__ref__in=refs, sent_at__isnull=True, cancelled=False, due_at__lt=now
    ).update(sent_at=F("due_at"))


def _rating_service() -> Any:
    """The policyholder's rating service, where this installation has one (ratings are a
    later addition: without them the history is written without ratings)."""
    try:
        module = importlib.import_module(RATING_SERVICE)
    except ImportError:
        return None
    return getattr(module, "request_rate", None)


def _rate(rate: Any, request: ServiceRequest, at: datetime, rng: random.Random) -> None:
    stars = rng.choices([5, 4, 3, 2, 1], [55, 28, 10, 4, 3])[0]
    comment = rng.choice(COMMENTS[stars])
    with simulated_clock(at):
        rate(request, stars=stars, comment=comment, actor=Actor(label="portal"))
