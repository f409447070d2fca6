"""Quota periods as plain date arithmetic (no database)."""

from __future__ import annotations

from datetime import date, timedelta


def anniversary(effective_on: date, years: int) -> date:
    """The policy's anniversary ``years`` after ``effective_on``; a 29 February start falls on
    28 February in common years."""
    year = effective_on.year + years
    try:
        return effective_on.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def policy_year(effective_on: date, on: date) -> tuple[date, date]:
    """The policy year containing ``on``: from an anniversary to the day before the next
    (both inclusive). Raises ``ValueError`` for a day before the policy starts."""
    if on < effective_on:
        raise ValueError("日期早于保单生效日")
    years = on.year - effective_on.year
    if anniversary(effective_on, years) > on:
        years -= 1
    start = anniversary(effective_on, years)
    return start, anniversary(effective_on, years + 1) - timedelta(days=1)
