"""The working calendar: statutory holidays and 调休 from the library, the admin's days and
years over it, and working-time arithmetic inside business hours."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from benefits.calendar.durations import add, duration_after, elapsed
from benefits.calendar.selectors import current_calendar
from benefits.calendar.services import calendar_years_confirm, check_year_confirmable
from benefits.calendar.workcalendar import (
    CalendarHorizonError,
    is_working_day,
    library_calendar,
    next_working_moment,
    years_needing_confirmation,
)
from benefits.models import CalendarDay, CalendarYear
from benefits.signals import calendar_changed
from benefits.terms.timing import BusinessHours, Duration
from portal.kernel.clock import SHANGHAI
from portal.kernel.errors import DomainError

CAL = library_calendar()
PINGAN = BusinessHours(days="working_days", start="09:00", end="21:00")
MDT = BusinessHours(days="working_days", start="09:00", end="18:00")
ROUND_THE_CLOCK = BusinessHours(days="every_day", start="00:00", end="24:00")
DAILY_8_22 = BusinessHours(days="every_day", start="08:00", end="22:00")
EXCEPT_HOLIDAYS = BusinessHours(days="every_day_except_holidays", start="00:00", end="24:00")
END_OF_DAY = time.max


def at(y, m, d, hh=0, mm=0, t: time | None = None):
    return datetime.combine(date(y, m, d), t or time(hh, mm), SHANGHAI)


# --- the library's data for 2026 matches the State Council's notice ---------------------


def test_national_day_2026_is_off_from_1_to_7_october_with_two_make_up_days():
    off = [date(2026, 10, day) for day in range(1, 8)]
    assert all(not is_working_day(day, CAL) for day in off)
    assert CAL.day_name(date(2026, 10, 1)) == "国庆节"
    # 调休: Sunday 20 September and Saturday 10 October are worked.
    assert date(2026, 9, 20).weekday() == 6 and is_working_day(date(2026, 9, 20), CAL)
    assert date(2026, 10, 10).weekday() == 5 and is_working_day(date(2026, 10, 10), CAL)
    assert is_working_day(date(2026, 10, 8), CAL)
    # Mid-autumn (25–27 September) is a separate holiday that year.
    assert not is_working_day(date(2026, 9, 25), CAL)
    assert CAL.day_name(date(2026, 9, 25)) == "中秋节"


def test_spring_festival_2026_is_off_from_15_to_23_february_with_two_saturdays_worked():
    assert all(not is_working_day(date(2026, 2, day), CAL) for day in range(15, 24))
    assert CAL.day_name(date(2026, 2, 17)) == "春节"
    assert is_working_day(date(2026, 2, 14), CAL)
    assert is_working_day(date(2026, 2, 28), CAL)
    assert is_working_day(date(2026, 2, 24), CAL)


def test_the_library_covers_2004_to_2026_and_nothing_later():
    assert CAL.is_confirmed(2004) and CAL.is_confirmed(2026)
    assert not CAL.is_confirmed(2027)
    assert not CAL.is_confirmed(2003)


# --- working hours --------------------------------------------------------------------

WORKING_HOURS_CASES = [
    # (why, start, amount, hours, due)
    (
        "平安 2个工作小时: 20:30 on a Thursday is due 10:30 Friday",
        at(2026, 3, 12, 20, 30),
        2,
        PINGAN,
        at(2026, 3, 13, 10, 30),
    ),
    (
        "crossing a weekend: 20:30 Friday is due 10:30 Monday",
        at(2026, 3, 13, 20, 30),
        2,
        PINGAN,
        at(2026, 3, 16, 10, 30),
    ),
    (
        "crossing National Day: 20:30 on 30 September is due 10:30 on 8 October",
        at(2026, 9, 30, 20, 30),
        2,
        PINGAN,
        at(2026, 10, 8, 10, 30),
    ),
    (
        "a make-up Sunday works: Saturday 19 September runs on Sunday 20 September",
        at(2026, 9, 19, 10),
        2,
        PINGAN,
        at(2026, 9, 20, 11),
    ),
    (
        "a make-up Saturday works: Friday 9 October 20:30 is due Saturday 10:30",
        at(2026, 10, 9, 20, 30),
        2,
        PINGAN,
        at(2026, 10, 10, 10, 30),
    ),
    ("a start before opening begins at 9:00", at(2026, 3, 12, 7), 2, PINGAN, at(2026, 3, 12, 11)),
    (
        "a deadline that uses up the day falls at closing, not next morning",
        at(2026, 3, 12, 19),
        2,
        PINGAN,
        at(2026, 3, 12, 21),
    ),
    (
        "24 working hours in 9:00–21:00 are two full days",
        at(2026, 3, 12, 9),
        24,
        PINGAN,
        at(2026, 3, 13, 21),
    ),
    (
        "MDT 9:00–18:00: 17:00 plus 2 hours is 10:00 next working day",
        at(2026, 3, 12, 17),
        2,
        MDT,
        at(2026, 3, 13, 10),
    ),
    (
        "7×24 is natural time, holidays included",
        at(2026, 9, 30, 23),
        2,
        ROUND_THE_CLOCK,
        at(2026, 10, 1, 1),
    ),
    (
        "daily 8:00–22:00 runs through a holiday morning",
        at(2026, 10, 1, 21, 30),
        1,
        DAILY_8_22,
        at(2026, 10, 2, 8, 30),
    ),
    (
        "every day except holidays: an ordinary Saturday counts",
        at(2026, 9, 18, 23),
        2,
        EXCEPT_HOLIDAYS,
        at(2026, 9, 19, 1),
    ),
    (
        "every day except holidays: the National Day week does not",
        at(2026, 9, 30, 23),
        2,
        EXCEPT_HOLIDAYS,
        at(2026, 10, 8, 1),
    ),
    (
        "without business hours: whole working days, so Friday 23:00 runs into Monday",
        at(2026, 3, 13, 23),
        2,
        None,
        at(2026, 3, 16, 1),
    ),
]


@pytest.mark.parametrize(
    ("start", "amount", "hours", "due"),
    [case[1:] for case in WORKING_HOURS_CASES],
    ids=[case[0] for case in WORKING_HOURS_CASES],
)
def test_working_hours_count_only_inside_business_hours_on_open_days(start, amount, hours, due):
    deadline = add(start, amount, "hours", "working", hours, CAL)
    assert deadline.due == due
    assert deadline.provisional is False
    assert elapsed(start, deadline.due, "hours", "working", hours, CAL) == amount


def test_results_are_aware_in_shanghai_whatever_zone_the_start_is_in():
    start_utc = datetime(2026, 3, 12, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai
    deadline = add(start_utc, 2, "hours", "working", PINGAN, CAL)
    assert deadline.due == at(2026, 3, 13, 10, 30)
    assert deadline.due.tzinfo == SHANGHAI


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add(datetime(2026, 3, 12, 20, 30), 2, "hours", "working", PINGAN, CAL)


def test_next_working_moment_skips_the_holiday_week_but_keeps_an_open_moment():
    assert next_working_moment(at(2026, 10, 3, 12), PINGAN, CAL).due == at(2026, 10, 8, 9)
    assert next_working_moment(at(2026, 10, 8, 12), PINGAN, CAL).due == at(2026, 10, 8, 12)
    assert next_working_moment(at(2026, 10, 8, 21), PINGAN, CAL).due == at(2026, 10, 9, 9)


# --- working days -----------------------------------------------------------------------

WORKING_DAYS_CASES = [
    (
        "1个工作日 from Friday 15:00 ends with Monday",
        at(2026, 3, 13, 15),
        1,
        None,
        at(2026, 3, 16, t=END_OF_DAY),
    ),
    (
        "with business hours the day ends at closing time",
        at(2026, 3, 13, 15),
        1,
        MDT,
        at(2026, 3, 16, 18),
    ),
    (
        "the start day never counts, even at 8:00",
        at(2026, 3, 16, 8),
        1,
        PINGAN,
        at(2026, 3, 17, 21),
    ),
    (
        "4个工作日内完成预约 from 29 September: 30 Sep, 8, 9 and Saturday 10 October",
        at(2026, 9, 29, 10),
        4,
        PINGAN,
        at(2026, 10, 10, 21),
    ),
    (
        "10个工作日 across Spring Festival 2026",
        at(2026, 2, 10, 10),
        10,
        None,
        at(2026, 3, 2, t=END_OF_DAY),
    ),
]


@pytest.mark.parametrize(
    ("start", "amount", "hours", "due"),
    [case[1:] for case in WORKING_DAYS_CASES],
    ids=[case[0] for case in WORKING_DAYS_CASES],
)
def test_working_days_end_with_the_nth_open_day_after_the_start_day(start, amount, hours, due):
    deadline = add(start, amount, "days", "working", hours, CAL)
    assert deadline.due == due
    assert elapsed(start, deadline.due, "days", "working", hours, CAL) == amount


def test_an_unfinished_working_day_counts_pro_rata_by_its_business_hours():
    # Friday 15:00 to Monday 13:30 in 9:00–18:00: half of Monday's nine hours.
    assert elapsed(
        at(2026, 3, 13, 15), at(2026, 3, 16, 13, 30), "days", "working", MDT, CAL
    ) == Decimal("0.5")


def test_fractional_working_days_are_refused():
    with pytest.raises(ValueError, match="whole"):
        add(at(2026, 3, 13, 15), Decimal("1.5"), "days", "working", None, CAL)


# --- natural time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "due"),
    [
        (Decimal("0.5"), "hours", at(2026, 9, 30, 23, 30)),  # 住院垫付 0.5 小时响应
        (5, "minutes", at(2026, 9, 30, 23, 5)),
        (3, "days", at(2026, 10, 3, 23)),  # holidays do not matter on the natural clock
        (1, "weeks", at(2026, 10, 7, 23)),
        (6, "months", at(2027, 3, 30, 23)),
    ],
)
def test_natural_time_is_plain_arithmetic_and_never_provisional(amount, unit, due):
    deadline = add(at(2026, 9, 30, 23), amount, unit, "natural", None, CAL)
    assert deadline.due == due
    assert deadline.provisional is False


def test_a_natural_month_from_31_january_ends_on_the_last_day_of_february():
    assert add(at(2026, 1, 31, 10), 1, "months", "natural", None, CAL).due == at(2026, 2, 28, 10)


def test_add_duration_takes_a_duration_from_the_terms():
    due = Duration(amount=Decimal(2), unit="hours", clock="working")
    assert duration_after(at(2026, 3, 12, 20, 30), due, calendar=CAL, hours=PINGAN).due == at(
        2026, 3, 13, 10, 30
    )


# --- unconfirmed years and the horizon -------------------------------------------------


def test_a_deadline_running_into_unconfirmed_2027_is_provisional_on_weekdays():
    # Thursday 31 Dec 2026 + 2 working days: Friday 1 Jan 2027 is taken as a weekday
    # (元旦 is not known yet), then Monday 4 January.
    deadline = add(at(2026, 12, 31, 10), 2, "days", "working", None, CAL)
    assert deadline.due == at(2027, 1, 4, t=END_OF_DAY)
    assert deadline.provisional is True


def test_a_deadline_inside_2026_is_not_provisional():
    assert add(at(2026, 12, 30, 10), 1, "days", "working", None, CAL).provisional is False


def test_round_the_clock_service_never_consults_the_calendar_so_is_never_provisional():
    deadline = add(at(2026, 12, 31, 23), 2, "hours", "working", ROUND_THE_CLOCK, CAL)
    assert deadline.due == at(2027, 1, 1, 1)
    assert deadline.provisional is False


def test_a_computation_running_more_than_two_years_ahead_fails_loudly():
    with pytest.raises(CalendarHorizonError, match="两年"):
        add(at(2026, 1, 5, 9), 600, "days", "working", None, CAL)
    with pytest.raises(CalendarHorizonError):
        add(at(2026, 1, 5, 9), 10_000, "hours", "working", MDT, CAL)


# --- the admin's days and years -------------------------------------------------------


@pytest.mark.django_db
def test_an_entered_and_confirmed_2027_makes_deadlines_firm_and_skips_its_holidays():
    # given 元旦 2027 as the State Council would publish it, and the year confirmed
    CalendarDay.objects.create(
        date=date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电〔2026〕"
    )
    CalendarYear.objects.create(year=2027, confirmed=True, confirmed_at=timezone.now())
    # when
    deadline = add(at(2026, 12, 31, 20, 30), 2, "hours", "working", PINGAN, current_calendar())
    # then Friday 1 January is skipped, and the deadline is no longer provisional
    assert deadline.due == at(2027, 1, 4, 10, 30)
    assert deadline.provisional is False


@pytest.mark.django_db
def test_entered_days_of_an_unconfirmed_year_are_used_but_stay_provisional():
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦", source="x")
    deadline = add(at(2026, 12, 31, 20, 30), 2, "hours", "working", PINGAN, current_calendar())
    assert deadline.due == at(2027, 1, 4, 10, 30)
    assert deadline.provisional is True


@pytest.mark.django_db
def test_a_day_entered_by_the_admin_overrides_the_library():
    CalendarDay.objects.create(
        date=date(2026, 10, 8), kind="holiday", name="国庆节（更正）", source="更正通知"
    )
    CalendarDay.objects.create(
        date=date(2026, 10, 7), kind="working_day", name="国庆节（更正）", source="更正通知"
    )
    calendar = current_calendar()
    assert not calendar.is_working_day(date(2026, 10, 8))
    assert calendar.is_working_day(date(2026, 10, 7))
    # 20:30 on 30 September now runs on 7 October
    assert add(at(2026, 9, 30, 20, 30), 2, "hours", "working", PINGAN, calendar).due == at(
        2026, 10, 7, 10, 30
    )


@pytest.mark.django_db
def test_current_calendar_costs_two_queries(django_assert_num_queries):
    # the CalendarDay rows, the confirmed CalendarYear numbers
    with django_assert_num_queries(2):
        current_calendar()


@pytest.mark.django_db
def test_confirming_a_year_with_no_holidays_entered_is_refused():
    with pytest.raises(DomainError) as caught:
        check_year_confirmable(year=2027)
    assert caught.value.code == "calendar_year_not_entered"
    assert "2027年尚未录入法定节假日" in caught.value.message
    check_year_confirmable(year=2026)  # the library covers it


@pytest.mark.django_db
def test_confirming_a_year_announces_it_inside_its_transaction(
    superuser, django_capture_on_commit_callbacks
):
    # Inside, before the commit, so that what a listener queues (the outbox row) commits
    # or rolls back with the change.
    received = []

    def listener(sender, years, **kwargs):
        received.append((sender, years))

    calendar_changed.connect(listener)
    try:
        CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦", source="x")
        received.clear()
        with django_capture_on_commit_callbacks(execute=False):
            calendar_years_confirm(years=[2027], user=superuser)
            assert received == [(CalendarYear, frozenset({2027}))]  # no commit yet
    finally:
        calendar_changed.disconnect(listener)
    row = CalendarYear.objects.get(year=2027)
    assert row.confirmed and row.confirmed_by == superuser and row.confirmed_at is not None


@pytest.mark.django_db
def test_moving_a_day_to_another_year_announces_both_years(django_capture_on_commit_callbacks):
    received = []

    def listener(sender, years, **kwargs):
        received.append(years)

    calendar_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            day = CalendarDay.objects.create(
                date=date(2027, 12, 31), kind="holiday", name="x", source="x"
            )
        with django_capture_on_commit_callbacks(execute=True):
            day = CalendarDay.objects.get(pk=day.pk)
            day.date = date(2028, 1, 2)
            day.save()
        with django_capture_on_commit_callbacks(execute=True):
            day.name = "元旦"  # a new name moves no deadline
            day.save()
        with django_capture_on_commit_callbacks(execute=True):
            day.delete()
    finally:
        calendar_changed.disconnect(listener)
    assert received == [frozenset({2027}), frozenset({2027, 2028}), frozenset({2028})]


# --- elapsed is the inverse of add ------------------------------------------------------

HOURS_OF_THE_HANDBOOKS = st.sampled_from(
    [PINGAN, MDT, ROUND_THE_CLOCK, DAILY_8_22, EXCEPT_HOLIDAYS, None]
)
STARTS_IN_CONFIRMED_YEARS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(
    start=STARTS_IN_CONFIRMED_YEARS,
    minutes=st.integers(min_value=0, max_value=10_000),
    hours=HOURS_OF_THE_HANDBOOKS,
)
def test_elapsed_working_minutes_undo_add(start, minutes, hours):
    deadline = add(start, minutes, "minutes", "working", hours, CAL)
    assert deadline.due >= start
    assert elapsed(start, deadline.due, "minutes", "working", hours, CAL) == minutes
    assert deadline.provisional is False


@settings(max_examples=200, deadline=None)
@given(
    start=STARTS_IN_CONFIRMED_YEARS,
    days=st.integers(min_value=1, max_value=30),
    hours=HOURS_OF_THE_HANDBOOKS,
)
def test_elapsed_working_days_undo_add(start, days, hours):
    deadline = add(start, days, "days", "working", hours, CAL)
    assert elapsed(start, deadline.due, "days", "working", hours, CAL) == days
    # one microsecond earlier the last day is not over yet
    assert (
        elapsed(start, deadline.due - timedelta(microseconds=1), "days", "working", hours, CAL)
        < days
    )


# --- admin --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["calendarday", "calendaryear"])
def test_calendar_admin_pages_load_and_warn_of_unconfirmed_years(client, superuser, model):
    client.force_login(superuser)
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦", source="x")
    CalendarYear.objects.create(year=2027, source="国办发明电")
    unconfirmed = years_needing_confirmation(current_calendar(), timezone.localdate())
    assert unconfirmed  # the library stops at 2026, so next year is never covered

    listing = client.get(reverse(f"admin:benefits_{model}_changelist"))
    adding = client.get(reverse(f"admin:benefits_{model}_add"))

    assert listing.status_code == 200 and adding.status_code == 200
    page = listing.content.decode()
    assert "尚未确认" in page
    assert all(str(year) in page for year in unconfirmed)


@pytest.mark.django_db
def test_the_warning_goes_once_the_years_are_confirmed(client, superuser):
    client.force_login(superuser)
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        CalendarDay.objects.create(date=date(year, 1, 1), kind="holiday", name="元旦", source="x")
    calendar_years_confirm(years=[today.year, today.year + 1], user=superuser)
    page = client.get(reverse("admin:benefits_calendarday_changelist")).content.decode()
    assert "尚未确认" not in page


@pytest.mark.django_db
def test_an_admin_adds_a_day_and_confirms_the_year_with_the_action(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:benefits_calendarday_add"),
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "source": "国办发明电"},
    )
    assert response.status_code == 302
    year = CalendarYear.objects.create(year=2027)

    response = client.post(
        reverse("admin:benefits_calendaryear_changelist"),
        {"action": "confirm_years", "_selected_action": [year.pk]},
        follow=True,
    )

    assert "已确认2027年" in response.content.decode()
    year.refresh_from_db()
    assert year.confirmed and year.confirmed_by == superuser
    deadline = add(at(2026, 12, 31, 20, 30), 2, "hours", "working", PINGAN, current_calendar())
    assert deadline.due == at(2027, 1, 4, 10, 30) and deadline.provisional is False


@pytest.mark.django_db
def test_the_action_refuses_a_year_with_no_holidays_entered(client, superuser):
    client.force_login(superuser)
    year = CalendarYear.objects.create(year=2028)
    response = client.post(
        reverse("admin:benefits_calendaryear_changelist"),
        {"action": "confirm_years", "_selected_action": [year.pk]},
        follow=True,
    )
    assert "2028年尚未录入法定节假日" in response.content.decode()
    year.refresh_from_db()
    assert not year.confirmed
