"""The daily jobs that end and renew quota periods: policy anniversaries, policies that end
(lapse, termination, expiry), and windows after first use (远程跟进 180 天).

Each is a plain function of ``today`` (a date in Asia/Shanghai), idempotent, and counts the
rows it changed, so a second run reports 0. Expiring a period takes away only what is neither
used nor held (``quota_expire``): the hold of a request still open stays held in the period
it was taken from, and that request later uses or releases it there. A new period never
inherits anything (不可跨保单年度累计).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.models import Benefit, Person, Policy, PolicyMember, QuotaBalance
from benefits.policies.models import anniversary_md
from benefits.quota.entitlements import WINDOW_PERIOD, YEAR_PERIOD, pools_for
from benefits.quota.ledger import PoolKey, balances_open_bulk, quota_expire_bulk
from portal.kernel.actor import SYSTEM, Actor

# Policies per transaction: some 20,000 balance rows and as many ledger entries (18.5 a
# policy in the benchmark's mix), written in about 20 statements; short enough that a request
# waiting on one of these policies waits a second or two at most.
ANNIVERSARY_BATCH = 1000
# Balances per transaction when expiring windows and the balances of ended policies.
EXPIRE_BATCH = 1000

ENDED = (Policy.Status.LAPSED, Policy.Status.TERMINATED, Policy.Status.EXPIRED)


@dataclass(frozen=True)
class RunResult:
    policies: int  # policies whose anniversary it was (processed, changed or not)
    opened: int  # balances opened for the new policy year
    expired: int  # balances of the past year that lost their remainder

    @property
    def changed(self) -> int:
        return self.opened + self.expired


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


# --- anniversaries ----------------------------------------------------------------------------


def anniversary_keys(today: date) -> list[int]:
    """The ``Policy.anniversary_md`` values whose anniversary is ``today``: a 29 February start
    renews on 28 February in common years and on 29 February in leap years."""
    keys = [anniversary_md(today)]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        keys.append(229)
    return keys


def policies_due(today: date) -> QuerySet[Policy]:
    """Policies in force whose policy year starts ``today`` (their first day included), read
    through the index (anniversary_md, status). A renewal (``renewal_of``) is a policy of its
    own: its years start on its own effective date."""
    return Policy.objects.filter(
        anniversary_md__in=anniversary_keys(today),
        status=Policy.Status.IN_FORCE,
        effective_on__lte=today,
        expires_on__gte=today,
    )


def _yearly_benefits() -> dict[int, list[Benefit]]:
    """Per product, the benefits with a pool renewed each policy year (main quota or a
    second limit); unlimited benefits without such limits have no pool."""
    by_product: dict[int, list[Benefit]] = defaultdict(list)
    for benefit in Benefit.objects.order_by("pk"):
        quota = benefit.parsed_terms.quota
        limited = not quota.is_unlimited or any(
            limit.kind != "consecutive_days" for limit in quota.limits
        )
        periods = {quota.period} | {limit.period for limit in quota.limits}
        if limited and "policy_year" in periods:
            by_product[benefit.product_id].append(benefit)
    return by_product


def _year_pools(
    policy: Policy, people: list[int], benefits: list[Benefit], today: date
) -> list[tuple[PoolKey, Decimal]]:
    pools = []
    for person_id in people:
        person = Person(pk=person_id)  # only its key goes into the pool
        for benefit in benefits:
            specs = pools_for(
                benefit=benefit,
                policy=policy,
                person=person,
                on=today,
                # Placeholders for a second pool of another period (per stay, per window),
                # which is opened when it is used, not here; only the year's pools are kept.
                hospitalisation_id=0,
                window_started_on=today,
            )
            pools += [
                (spec.key, spec.amount)
                for spec in specs
                if spec.key.period_key.startswith(YEAR_PERIOD) and spec.key.period_start == today
            ]
    return pools


def anniversaries_run(today: date, *, actor: Actor = SYSTEM) -> RunResult:
    """Open the new policy year's balances (every insured member × yearly pool, and the pools
    shared by a family policy) for the policies whose anniversary is ``today``, and expire
    what is left of their past years. The held quota of a request still open stays held in
    the old year, and that request uses or releases it there.

    Due policies are found through an index, then handled ``ANNIVERSARY_BATCH`` at a time, each
    batch in one transaction: the policies are locked (so two runs take turns instead of
    racing), their balances opened in bulk and the old ones expired in bulk. Idempotent: a
    second run finds every period open and nothing left to expire, and changes 0 rows."""
    ids = sorted(policies_due(today).values_list("pk", flat=True))
    benefits = _yearly_benefits() if ids else {}
    policies = opened = expired = 0
    for batch in _batches(ids, ANNIVERSARY_BATCH):
        with transaction.atomic():
            locked = list(
                policies_due(today)
                .filter(pk__in=batch)
                # NO KEY UPDATE: two runs take turns, but a request inserting a balance (its
                # foreign-key check takes KEY SHARE on the policy) is not blocked, which
                # would deadlock with this run waiting on that request's new row.
                .select_for_update(no_key=True)
                .order_by("pk")
                .only("pk", "product_id", "effective_on", "expires_on")
            )
            if not locked:
                continue
            members: dict[int, list[int]] = defaultdict(list)
            for policy_id, person_id in (
                PolicyMember.objects.filter(policy__in=[p.pk for p in locked])
                .order_by("pk")
                .values_list("policy_id", "person_id")
            ):
                members[policy_id].append(person_id)
            pools: list[tuple[PoolKey, Decimal]] = []
            for policy in locked:
                pools += _year_pools(
                    policy, members[policy.pk], benefits.get(policy.product_id, []), today
                )
            opened += balances_open_bulk(pools=pools, actor=actor, reason=_("保单年度开始"))
            expired += quota_expire_bulk(
                balances=QuotaBalance.objects.filter(
                    policy__in=[p.pk for p in locked],
                    period_key__startswith=YEAR_PERIOD,
                    period_end__lt=today,
                ),
                actor=actor,
                reason=_("保单年度结束，未使用的额度不结转"),
            )
            policies += len(locked)
    return RunResult(policies=policies, opened=opened, expired=expired)


# --- policies that end ------------------------------------------------------------------------


def policies_expire(today: date) -> int:
    """Policies in force whose expiry date has passed become expired (a conditional UPDATE,
    so a status an import set meanwhile is not overwritten). Returns how many."""
    expiring = sorted(
        Policy.objects.filter(status=Policy.Status.IN_FORCE, expires_on__lt=today).values_list(
            "pk", flat=True
        )
    )
    expired = 0
    now = timezone.now()
    for batch in _batches(expiring, EXPIRE_BATCH):
        expired += Policy.objects.filter(
            pk__in=batch, status=Policy.Status.IN_FORCE, expires_on__lt=today
        ).update(status=Policy.Status.EXPIRED, updated_at=now)
    return expired


def ended_policies_balances_expire(*, actor: Actor = SYSTEM) -> int:
    """Every balance of a lapsed, terminated or expired policy loses what is neither used nor
    held (a renewal has its own balances; the old policy's end at its expiry). Finds the
    balances with something left on ended policies in one set-based query, so after the
    first run only what ended since has any. Returns the balances expired."""
    ended_with_balance = sorted(
        QuotaBalance.objects.filter(policy__status__in=ENDED, granted__gt=F("held") + F("used"))
        .order_by()
        .values_list("policy_id", flat=True)
        .distinct()
    )
    expired = 0
    for batch in _batches(ended_with_balance, EXPIRE_BATCH):
        expired += quota_expire_bulk(
            balances=QuotaBalance.objects.filter(policy__in=batch, policy__status__in=ENDED),
            actor=actor,
            reason=_("保单已失效、终止或满期，权益结束"),
        )
    return expired


# --- windows after first use ------------------------------------------------------------------


def windows_expire(today: date, *, actor: Actor = SYSTEM) -> int:
    """Expire the windows (``window:<start>`` periods, 启动后180天内) that ended before
    ``today``: what is neither used nor held is gone. Returns how many balances lost
    something; a second run returns 0."""
    ids = sorted(
        QuotaBalance.objects.filter(
            period_key__startswith=WINDOW_PERIOD,
            period_end__lt=today,
            granted__gt=F("held") + F("used"),
        ).values_list("pk", flat=True)
    )
    expired = 0
    for batch in _batches(ids, EXPIRE_BATCH):
        expired += quota_expire_bulk(
            balances=QuotaBalance.objects.filter(pk__in=batch, period_end__lt=today),
            actor=actor,
            reason=_("服务时间窗已结束"),
        )
    return expired
