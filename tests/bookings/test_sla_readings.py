"""Readings of printed delivery times (issue 12): 平安 "最晚次日达" is due at the end of the next
day, not 24 hours later; 安盛 "预计当日送达 / 预计2-3个工作日" are estimates, measured for the
vendor's KPI and never reported as a breach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from benefits.calendar.selectors import current_calendar
from benefits.models import Benefit
from bookings.models import Milestone
from bookings.sla.clocks import breach_candidates, milestone_clock, milestone_meet, sla_scan
from tests.bookings.test_sla import outpatient_assist
from tests.clock import Clock, at

pytestmark = pytest.mark.django_db
State = Milestone.State


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, at(2026, 3, 2, 9))


def spec_of(benefit: str, code: str):
    terms = Benefit.objects.get(code=benefit).parsed_terms
    return next(s for s in terms.sla if s.code == code), terms


def test_next_day_delivery_is_due_at_the_end_of_the_next_day_not_24_hours_later():
    # given 平安 药品服务 "同城配送：最晚次日达", booked on Monday at 15:00
    spec, terms = spec_of("pingan.health.drug_service", "delivery_local")

    due = milestone_clock(spec, terms, at(2026, 3, 2, 15), current_calendar()).due

    # then a delivery on Tuesday at 23:00 is in time: the deadline is Tuesday's end
    assert due.due == at(2026, 3, 4, 0)
    assert "最晚次日达" in spec.clause


@pytest.mark.parametrize("code", ["delivery_local", "delivery_cross_province"])
def test_axa_delivery_times_are_estimates(code):
    spec, _ = spec_of("axa.zysh.special_drug_domestic", code)

    assert spec.target == "estimate"
    assert "预计" in spec.clause


def late_estimate(clock: Clock) -> Milestone:
    """A pending estimate milestone whose estimated time passed on Monday at 12:00."""
    request = outpatient_assist(clock, at(2026, 3, 2, 9))
    return Milestone.objects.create(
        request=request,
        code="delivery_estimate",
        label="当地药房送药（预计）",
        starts_on="in_service",
        met_by="completed",
        target="estimate",
        state=State.PENDING,
        started_at=at(2026, 3, 2, 10),
        due_at=at(2026, 3, 2, 12),
    )


def test_an_estimate_past_its_time_is_not_breached_by_the_scan(clock):
    row = late_estimate(clock)

    sla_scan(at(2026, 3, 2, 13))

    row.refresh_from_db()
    assert row.state == State.PENDING
    assert row.breached_at is None
    assert row not in breach_candidates(at(2026, 3, 2, 13))


def test_an_estimate_met_late_is_met_with_its_lateness_kept_for_the_kpi(clock):
    row = late_estimate(clock)

    milestone_meet(row, at(2026, 3, 2, 14))

    row.refresh_from_db()
    assert row.state == State.MET
    assert row.met_at - row.due_at == timedelta(hours=2)
