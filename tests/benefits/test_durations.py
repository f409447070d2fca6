"""Every duration of the terms through ``benefits.calendar.durations``, table-driven: natural
units (months and years are calendar months), working time inside 9:00–21:00 across a weekend
and across the 2025 National Day with its make-up days (Sunday 28 September and Saturday
11 October worked, 1–8 October off), whole days for facts that are dates, and the call sites
whose results the one reading changed: a working-clock cancellation window, a lead time and
a cancellation window in months, a window offset in working days, a filing deadline and a
quota window in hours."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from benefits.calendar.durations import (
    day_after,
    day_before,
    duration_after,
    elapsed,
    natural_delta,
)
from benefits.calendar.workcalendar import library_calendar
from benefits.eligibility.engine import evaluate
from benefits.eligibility.model import Facts, PersonFacts, PolicyFacts, StayFacts
from benefits.models import Benefit, Person, Policy
from benefits.quota.entitlements import pools_for
from benefits.terms.benefit_terms import parse_terms
from benefits.terms.timing import BusinessHours, Duration, Offset
from bookings.lifecycle.cancellation import cancellation_outcome
from tests.benefits import eligibility_support as support
from tests.clock import at

fresh_memos = support.fresh_memos  # fixture

CAL = library_calendar()
NINE_TO_NINE = BusinessHours(days="working_days", start="09:00", end="21:00")
END_OF_DAY = (23, 59, 59, 999999)


def d(amount: Any, unit: str, clock: str = "natural") -> Duration:
    return Duration(amount=Decimal(str(amount)), unit=unit, clock=clock)


# --- moments ------------------------------------------------------------------------------

NATURAL_CASES = [
    # (why, start, duration, due)
    ("90 minutes run past midnight", at(2026, 9, 30, 23), d(90, "minutes"), at(2026, 10, 1, 0, 30)),
    ("住院垫付 0.5小时", at(2026, 9, 30, 23), d("0.5", "hours"), at(2026, 9, 30, 23, 30)),
    ("natural days ignore National Day", at(2026, 9, 30, 23), d(3, "days"), at(2026, 10, 3, 23)),
    ("a week is seven days", at(2026, 9, 30, 23), d(1, "weeks"), at(2026, 10, 7, 23)),
    ("31 January + 1 month", at(2026, 1, 31, 10), d(1, "months"), at(2026, 2, 28, 10)),
    ("a month from 1 March is 31 days", at(2026, 3, 1, 10), d(1, "months"), at(2026, 4, 1, 10)),
    ("6 months", at(2026, 9, 30, 23), d(6, "months"), at(2027, 3, 30, 23)),
    ("29 February + 1 year", at(2024, 2, 29, 10), d(1, "years"), at(2025, 2, 28, 10)),
]


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [case[1:] for case in NATURAL_CASES],
    ids=[case[0] for case in NATURAL_CASES],
)
def test_natural_durations_are_exact_spans_and_calendar_months(start, duration, due):
    deadline = duration_after(start, duration, calendar=None, hours=None)
    assert deadline.due == due
    assert deadline.provisional is False


WORKING_CASES = [
    # (why, start, duration, hours, due)
    (
        "Friday 20:00 + 2 working hours skips the weekend",
        at(2025, 9, 12, 20),
        d(2, "hours", "working"),
        NINE_TO_NINE,
        at(2025, 9, 15, 10),
    ),
    (
        "Friday 20:00 + 2 working hours lands on make-up Sunday 28 September",
        at(2025, 9, 26, 20),
        d(2, "hours", "working"),
        NINE_TO_NINE,
        at(2025, 9, 28, 10),
    ),
    (
        "30 September 20:00 + 2 working hours skips 1–8 October",
        at(2025, 9, 30, 20),
        d(2, "hours", "working"),
        NINE_TO_NINE,
        at(2025, 10, 9, 10),
    ),
    (
        "30 September 20:45 + 30 working minutes",
        at(2025, 9, 30, 20, 45),
        d(30, "minutes", "working"),
        NINE_TO_NINE,
        at(2025, 10, 9, 9, 15),
    ),
    (
        "Friday 10 October 20:30 + 2 working hours lands on make-up Saturday 11 October",
        at(2025, 10, 10, 20, 30),
        d(2, "hours", "working"),
        NINE_TO_NINE,
        at(2025, 10, 11, 10, 30),
    ),
    (
        "a start inside the holiday begins at the next opening",
        at(2025, 10, 3, 12),
        d(1, "hours", "working"),
        NINE_TO_NINE,
        at(2025, 10, 9, 10),
    ),
    (
        "1 working day from 30 September ends at closing on 9 October",
        at(2025, 9, 30, 15),
        d(1, "days", "working"),
        NINE_TO_NINE,
        at(2025, 10, 9, 21),
    ),
    (
        "2 working days without hours: make-up Sunday counts, Monday is the second",
        at(2025, 9, 26, 10),
        d(2, "days", "working"),
        None,
        at(2025, 9, 29, *END_OF_DAY),
    ),
]


@pytest.mark.parametrize(
    ("start", "duration", "hours", "due"),
    [case[1:] for case in WORKING_CASES],
    ids=[case[0] for case in WORKING_CASES],
)
def test_working_durations_count_on_the_working_calendar(start, duration, hours, due):
    deadline = duration_after(start, duration, calendar=CAL, hours=hours)
    assert deadline.due == due
    assert deadline.provisional is False
    measured = elapsed(start, deadline.due, duration.unit, "working", hours, CAL)
    assert measured == duration.amount


def test_a_working_duration_without_the_calendar_is_refused():
    with pytest.raises(ValueError, match="working calendar"):
        duration_after(at(2025, 9, 30, 20), d(2, "hours", "working"), calendar=None, hours=None)


# --- days and calendar steps --------------------------------------------------------------

DAY_CASES = [
    # (why, day, duration, after, before)
    ("出院前24小时 is the day before", date(2026, 5, 15), d(24, "hours"), None, date(2026, 5, 14)),
    ("36 hours are one whole day", date(2026, 5, 15), d(36, "hours"), date(2026, 5, 16), None),
    ("3 natural days", date(2025, 9, 30), d(3, "days"), date(2025, 10, 3), date(2025, 9, 27)),
    ("1.5 weeks are ten whole days", date(2026, 5, 1), d("1.5", "weeks"), date(2026, 5, 11), None),
    ("31 January + 1 month", date(2026, 1, 31), d(1, "months"), date(2026, 2, 28), None),
    ("a 1-year validity", date(2024, 2, 29), d(1, "years"), date(2025, 2, 28), date(2023, 2, 28)),
    (
        "1 working day after 30 September is 9 October",
        date(2025, 9, 30),
        d(1, "days", "working"),
        date(2025, 10, 9),
        date(2025, 9, 29),
    ),
    (
        "1 working day before Monday 29 September is make-up Sunday 28th",
        date(2025, 9, 29),
        d(1, "days", "working"),
        date(2025, 9, 30),
        date(2025, 9, 28),
    ),
    (
        "3 working days after 30 September end on make-up Saturday 11 October; before, Friday 26th",
        date(2025, 9, 30),
        d(3, "days", "working"),
        date(2025, 10, 11),
        date(2025, 9, 26),
    ),
    (
        "48 working hours are two working days",
        date(2025, 10, 9),
        d(48, "hours", "working"),
        date(2025, 10, 11),
        date(2025, 9, 29),
    ),
]


@pytest.mark.parametrize(
    ("day", "duration", "after", "before"),
    [case[1:] for case in DAY_CASES],
    ids=[case[0] for case in DAY_CASES],
)
def test_dates_move_by_whole_days_on_the_durations_clock(day, duration, after, before):
    if after is not None:
        assert day_after(day, duration, calendar=CAL) == after
    if before is not None:
        assert day_before(day, duration, calendar=CAL) == before


@pytest.mark.parametrize(
    ("duration", "step"),
    [
        (d(7, "days"), relativedelta(days=7)),
        (d(2, "weeks"), relativedelta(days=14)),
        (d(1, "months"), relativedelta(months=1)),
        (d(1, "years"), relativedelta(years=1)),
        (d("1.5", "hours"), relativedelta(hours=1, minutes=30)),
    ],
)
def test_natural_delta_is_the_calendar_step_of_a_follow_up_plan(duration, step):
    assert natural_delta(duration) == step


def test_natural_delta_refuses_the_working_clock():
    with pytest.raises(ValueError, match="working clock"):
        natural_delta(d(2, "days", "working"))


# --- call sites whose result the one reading changed ---------------------------------------


def cancellation_terms(free_before: dict[str, Any], **extra: Any):
    return parse_terms(
        {
            "summary": "t",
            "quota": {"unit": "unlimited"},
            "cancellation": {"free_before": free_before, "clause": "取消"},
            **extra,
        }
    )


WORKING_CANCELLATION = cancellation_terms(
    {"amount": 2, "unit": "hours", "clock": "working"},
    service_hours={"days": "working_days", "start": "09:00", "end": "21:00"},
)
CANCELLATION_CASES = [
    # (why, terms, now, starts_at, counts_as_used) — every row was free before: the window
    # was counted in natural time, and a month as one day.
    (
        "2 working hours: 30 Sep 20:00 leaves 20:00–21:00 and 9 Oct 9:00–10:00, in time",
        WORKING_CANCELLATION,
        at(2025, 9, 30, 20),
        at(2025, 10, 9, 10),
        False,
    ),
    (
        "2 working hours: 30 Sep 20:01 leaves 1 h 59 min of working time, too late",
        WORKING_CANCELLATION,
        at(2025, 9, 30, 20, 1),
        at(2025, 10, 9, 10),
        True,
    ),
    (
        "2 working hours: Friday 20:30 before a Monday 10:00 start leaves 1.5 h, too late",
        WORKING_CANCELLATION,
        at(2025, 9, 12, 20, 30),
        at(2025, 9, 15, 10),
        True,
    ),
    (
        "1 month from 1 March runs to 1 April, past a 10 March start (was 1 day)",
        cancellation_terms({"amount": 1, "unit": "months"}),
        at(2026, 3, 1, 10),
        at(2026, 3, 10, 10),
        True,
    ),
]


@pytest.mark.parametrize(
    ("terms", "now", "starts_at", "counts_as_used"),
    [case[1:] for case in CANCELLATION_CASES],
    ids=[case[0] for case in CANCELLATION_CASES],
)
def test_a_cancellation_window_counts_on_its_clock(terms, now, starts_at, counts_as_used):
    outcome = cancellation_outcome(terms, reached=set(), starts_at=starts_at, now=now, calendar=CAL)
    assert outcome.counts_as_used is counts_as_used


POLICY = PolicyFacts(
    status="in_force",
    signed_on=date(2025, 1, 1),
    effective_on=date(2025, 1, 2),
    expires_on=date(2027, 1, 1),
    waiting_days=None,
)
ADULT = PersonFacts(birth_date=date(1980, 5, 1), is_insured_member=True)


def rule_codes(rule: dict[str, Any], **facts: Any) -> list[str]:
    terms = parse_terms({"summary": "t", "quota": {"unit": "unlimited"}, "rules": [rule]})
    verdict = evaluate(terms, Facts(policy=POLICY, recipient=ADULT, **facts))
    return [reason.code for reason in verdict.reasons] + [
        f"unchecked:{u}" for u in verdict.unchecked
    ]


MONTH_LEAD = {"kind": "lead_time", "min_lead": {"amount": 1, "unit": "months"}, "clause": "c"}
WORKING_WINDOW = {
    "kind": "outside_window",
    "anchor": "discharge",
    "not_after": {"amount": 3, "unit": "days", "clock": "working", "direction": "after"},
    "clause": "c",
}
HOURS_FILING = {
    "kind": "filing_deadline",
    "deadlines": [{"after": "discharge", "within": {"amount": 48, "unit": "hours"}}],
    "clause": "c",
}
DISCHARGED_30_SEPTEMBER = StayFacts(admitted_on=date(2025, 9, 20), discharged_on=date(2025, 9, 30))
RULE_CASES = [
    # (why, rule, facts, codes) — each row was the opposite before.
    (
        "a 1-month lead from 1 March needs 1 April (was 30 days: 31 March passed)",
        MONTH_LEAD,
        {"at": at(2026, 3, 1, 10), "planned_at": at(2026, 3, 31, 10)},
        ["lead_time"],
    ),
    (
        "3 working days after discharge on 30 Sep run to 11 Oct (was 3 October)",
        WORKING_WINDOW,
        {"at": at(2025, 10, 11, 10), "stay": DISCHARGED_30_SEPTEMBER, "calendar": CAL},
        [],
    ),
    (
        "a working-day window without the calendar is unchecked (was counted in natural days)",
        WORKING_WINDOW,
        {"at": at(2025, 10, 11, 10), "stay": DISCHARGED_30_SEPTEMBER},
        ["unchecked:outside_window"],
    ),
    (
        "48 hours after discharge end with 2 October (was 48 days)",
        HOURS_FILING,
        {"at": at(2025, 10, 3, 10), "stay": DISCHARGED_30_SEPTEMBER, "calendar": CAL},
        ["filing_deadline"],
    ),
]


@pytest.mark.parametrize(
    ("rule", "facts", "codes"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_eligibility_counts_each_duration_on_its_clock(rule, facts, codes):
    assert rule_codes(rule, **facts) == codes


def window_end(window: dict[str, Any], started_on: date) -> date | None:
    benefit = Benefit(
        terms={
            "summary": "t",
            "quota": {
                "unit": "times",
                "amount": 1,
                "period": "window_after_start",
                "window": window,
            },
        }
    )
    policy = Policy(effective_on=date(2025, 1, 2), expires_on=date(2027, 1, 1))
    (spec,) = pools_for(
        benefit=benefit, policy=policy, person=Person(), on=started_on, window_started_on=started_on
    )
    return spec.key.period_end


def test_a_quota_window_in_hours_is_its_whole_days():
    # was 72 days: 1 June to 11 August
    assert window_end({"amount": 72, "unit": "hours"}, date(2026, 6, 1)) == date(2026, 6, 3)


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_memos")
def test_a_quota_window_in_working_days_ends_with_the_last_working_day():
    # 5 working days after 30 September 2025: 9, 10, 11 (make-up), 13 and 14 October
    # (was 4 October, in natural days)
    window = {"amount": 5, "unit": "days", "clock": "working"}
    assert window_end(window, date(2025, 9, 30)) == date(2025, 10, 14)


def test_an_offset_is_a_duration_on_its_clock():
    # "出院前1个工作日": the working day before 9 October 2025 is 30 September
    offset = Offset(amount=Decimal(1), unit="days", clock="working", direction="before")
    assert day_before(date(2025, 10, 9), offset, calendar=CAL) == date(2025, 9, 30)


def test_a_fraction_of_a_month_or_year_is_refused_at_load():
    from benefits.terms.timing import Duration

    with pytest.raises(ValueError, match="以月或年计的时长须为整数"):
        Duration.model_validate({"amount": "1.5", "unit": "months"})
    assert Duration.model_validate({"amount": "2", "unit": "years"}).amount == 2
