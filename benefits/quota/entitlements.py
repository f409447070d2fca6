"""Which quota pools a benefit draws on, read from its terms (no database writes).

A benefit's ``quota`` becomes one pool (or one per money category), and each second limit
(requests or days a year) another; ``sharing`` decides whose pool it is: the member's own,
the member's shared with family, or the whole family policy's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from benefits.calendar.durations import day_after
from benefits.calendar.selectors import calendar_cached
from benefits.models import Benefit, Person, Policy, QuotaBalance
from benefits.quota.ledger import PoolKey
from benefits.quota.periods import policy_year
from benefits.terms.timing import Duration

POOL_KIND = {
    "insured": QuotaBalance.PoolKind.MEMBER,
    "insured_and_family": QuotaBalance.PoolKind.MEMBER_FAMILY,
    "family_pool": QuotaBalance.PoolKind.FAMILY_POLICY,
}
MEASURE = {"times": "times", "days": "days", "cny": "cny", "requests": "requests"}


class PeriodUnknown(ValueError):
    """The period needs facts the caller did not give (which stay, when the window began)."""


@dataclass(frozen=True)
class PoolSpec:
    key: PoolKey
    amount: Decimal


def window_end(start: date, window: Duration) -> date:
    """The last day of a window opened on ``start``: N natural days count the start day as
    the first ("启动后30天内" ends on the 30th); N working days end with the Nth working day
    after the start day, as working-day deadlines do."""
    if window.clock == "working":
        return day_after(start, window, calendar=calendar_cached())
    return day_after(start, window, calendar=None) - timedelta(days=1)


# A balance's period key is "<kind>:<start or stay id>" or "policy"; these prefixes are the one
# place that spells them (the daily jobs select balances by them).
YEAR_PERIOD = "year:"
STAY_PERIOD = "stay:"
WINDOW_PERIOD = "window:"
# One month of a window (a second limit "每月1次"): "window_month:<the month's first day>".
WINDOW_MONTH_PERIOD = "window_month:"
WHOLE_POLICY_PERIOD = "policy"


def _period(
    period: str,
    *,
    policy: Policy,
    on: date,
    hospitalisation_id: int | None,
    window_started_on: date | None,
    window: Duration | None,
) -> tuple[str, date, date | None]:
    if period == "policy_year":
        start, end = policy_year(policy.effective_on, on)
        return f"{YEAR_PERIOD}{start.isoformat()}", start, end
    if period == "whole_policy":
        return WHOLE_POLICY_PERIOD, policy.effective_on, policy.expires_on
    if period == "per_hospitalisation":
        if hospitalisation_id is None:
            raise PeriodUnknown("该权益按每次住院计，请提供住院记录")
        return f"{STAY_PERIOD}{hospitalisation_id}", on, None
    start = window_started_on or on
    if period == "window_month":
        month = window_month(start, on)
        ends = month + relativedelta(months=1) - timedelta(days=1)
        return f"{WINDOW_MONTH_PERIOD}{month.isoformat()}", month, ends
    assert window is not None
    return f"{WINDOW_PERIOD}{start.isoformat()}", start, window_end(start, window)


def window_month(start: date, on: date) -> date:
    """The first day of the month of a window opened on ``start`` that ``on`` falls in:
    months run from the opening day (opened 15 March: 15 March–14 April, 15 April–…)."""
    months = (on.year - start.year) * 12 + on.month - start.month
    if start + relativedelta(months=months) > on:
        months -= 1
    return start + relativedelta(months=max(months, 0))


def pools_for(
    *,
    benefit: Benefit,
    policy: Policy,
    person: Person,
    on: date,
    hospitalisation_id: int | None = None,
    window_started_on: date | None = None,
) -> list[PoolSpec]:
    """The pools (with their grant per period) a use of ``benefit`` by ``person`` on ``on``
    draws from; empty for an unlimited benefit without second limits."""
    quota = benefit.parsed_terms.quota
    pool_kind = POOL_KIND[quota.sharing]
    owner = None if pool_kind == QuotaBalance.PoolKind.FAMILY_POLICY else person

    def spec(measure: str, amount: Decimal, period: str, category: str = "") -> PoolSpec:
        key, start, end = _period(
            period,
            policy=policy,
            on=on,
            hospitalisation_id=hospitalisation_id,
            window_started_on=window_started_on,
            window=quota.window,
        )
        return PoolSpec(
            PoolKey(
                benefit=benefit,
                policy=policy,
                person=owner,
                pool_kind=pool_kind,
                measure=measure,
                period_key=key,
                period_start=start,
                period_end=end,
                category=category,
            ),
            amount,
        )

    specs: list[PoolSpec] = []
    if quota.category_caps:
        specs += [
            spec("cny", cap.amount, quota.period, cap.category) for cap in quota.category_caps
        ]
    elif quota.unit != "unlimited" and quota.amount is not None:
        specs.append(spec(MEASURE[quota.unit], quota.amount, quota.period))
    for limit in quota.limits:
        if limit.kind == "consecutive_days":
            continue  # a bound on one use, checked by eligibility, not a pool
        specs.append(spec(MEASURE[limit.kind], limit.amount, limit.period))
    return specs
