"""Policy years run from an anniversary of the effective date to the day before the next."""

from datetime import date

import pytest

from benefits.quota.periods import anniversary, policy_year


@pytest.mark.parametrize(
    ("effective", "on", "expected"),
    [
        (date(2026, 1, 2), date(2026, 1, 2), (date(2026, 1, 2), date(2027, 1, 1))),
        (date(2026, 1, 2), date(2027, 1, 1), (date(2026, 1, 2), date(2027, 1, 1))),
        (date(2026, 1, 2), date(2027, 1, 2), (date(2027, 1, 2), date(2028, 1, 1))),
        # A 29 February start: the anniversary falls on 28 February in common years.
        (date(2024, 2, 29), date(2025, 2, 27), (date(2024, 2, 29), date(2025, 2, 27))),
        (date(2024, 2, 29), date(2025, 2, 28), (date(2025, 2, 28), date(2026, 2, 27))),
        (date(2024, 2, 29), date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 27))),
    ],
)
def test_policy_year_boundaries(effective, on, expected):
    assert policy_year(effective, on) == expected


def test_a_day_before_the_policy_starts_has_no_policy_year():
    with pytest.raises(ValueError, match="早于保单生效日"):
        policy_year(date(2026, 1, 2), date(2026, 1, 1))


def test_leap_day_anniversaries():
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)
