"""Chinese working time: statutory holidays, make-up working days (调休) and business hours.

The arithmetic here is pure: a ``WorkingCalendar`` (the ``chinesecalendar`` library's data
with the admin's ``CalendarDay`` rows laid over it, see ``benefits.calendar.selectors``) is
built once and passed in; nothing in this module touches the database.

Working time is counted here, as spans (``timedelta``) and whole working days; amounts in
the terms' units and clocks (a ``Duration``) become time in ``benefits.calendar.durations``,
which calls these functions for the working clock.

Semantics, pinned by ``tests/benefits/test_workcalendar.py``:

* Every datetime in and out is aware. Working time is reckoned on the Asia/Shanghai wall
  clock (China has had no daylight saving since 1991, so a wall-clock hour is an hour) and
  every result is returned in Asia/Shanghai. A naive datetime is refused.
* Open days, by ``BusinessHours.days``:
  - ``working_days``: Monday–Friday, minus statutory holidays, plus make-up working days;
  - ``every_day``: every day; the calendar is not consulted at all, so ``every_day``
    00:00–24:00 (7×24) is natural time;
  - ``every_day_except_holidays``: every day, weekends included, except the statutory
    holidays as the State Council lists them (a weekend swallowed by the National Day week
    is a holiday; an ordinary weekend is open; a make-up working day is open).
  Without business hours the working clock means whole working days, 00:00–24:00.
* N working minutes/hours count only time inside business hours on open days. A start
  outside hours begins at the next opening; a deadline that exactly uses up a day's hours
  falls at closing time, not at the next opening (20:30 + 2 working hours in 9:00–21:00 is
  10:30 on the next working day; 19:00 + 2 hours is 21:00 the same day).
* N working days: the deadline is the end of the Nth open day *after* the start day,
  whatever the time of the start ("1个工作日" from Friday 15:00 ends with Monday). The end
  of a day is the closing time of the business hours, or, when they run to 24:00 or are not
  given, 23:59:59.999999 of that day: the last instant of the day, so that the deadline
  shows on the day the handbook promises ("4个工作日内完成预约" may be done any time on the
  fourth day) rather than as 00:00 of the next. Working days must be whole numbers.
* ``provisional`` is True when any day whose status the computation had to look up lies in
  a year that is not confirmed (neither covered by the library nor confirmed by an admin).
  Such days are reckoned Monday–Friday (with any days an admin has already entered) and
  every holiday-free day respectively, and the deadline must be recomputed once the year is
  confirmed (``benefits.signals.calendar_changed``).
* A working-time computation that would run more than ``MAX_HORIZON`` past its start
  raises ``CalendarHorizonError`` instead of searching on.
* ``working_time_between`` and ``working_days_between`` are the inverses of
  ``add_working_time`` and ``add_working_days``; the latter counts the open days after the
  start day, the last one pro rata by its business hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib.metadata import version
from typing import Literal

from django.utils.translation import gettext

from benefits.terms.timing import BusinessHours
from portal.kernel.clock import SHANGHAI

# Deadlines in the handbooks run to weeks at most; two years of searching means a wrong
# amount or a calendar with no open days, and must fail loudly rather than spin.
MAX_HORIZON = timedelta(days=2 * 366)

DayKind = Literal["holiday", "working_day"]
OpenDays = Literal["working_days", "every_day", "every_day_except_holidays"]

_MINUTES_PER_DAY = 24 * 60

# The library names its holidays in English; admins and policyholders read Chinese.
_LIBRARY_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarHorizonError(ValueError):
    """The computation would have to look further ahead than ``MAX_HORIZON``."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment computed on a clock; ``provisional`` if it rests on an unconfirmed year."""

    due: datetime
    provisional: bool


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are statutory holidays and which weekend days are worked, and which years
    that knowledge is confirmed for. Immutable: build a new one when the data change."""

    holidays: Mapping[date, str]
    makeup_days: Mapping[date, str]
    confirmed_years: frozenset[int]
    source: str = ""

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def is_holiday(self, day: date) -> bool:
        """A statutory holiday (法定节假日, including weekends inside a holiday block)."""
        return day in self.holidays

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def day_name(self, day: date) -> str:
        return self.holidays.get(day) or self.makeup_days.get(day) or ""

    def is_open(self, day: date, days: OpenDays) -> bool:
        if days == "every_day":
            return True
        if days == "every_day_except_holidays":
            return not self.is_holiday(day)
        return self.is_working_day(day)

    def with_days(
        self,
        # (date, kind, name); the kind as stored, a ``DayKind``: anything else raises below.
        days: Iterable[tuple[date, str, str]],
        *,
        confirmed_years: Iterable[int] = (),
        source: str = "",
    ) -> WorkingCalendar:
        """This calendar with ``days`` laid over it (each replaces whatever this calendar
        said about its date) and ``confirmed_years`` added to the confirmed ones."""
        holidays = dict(self.holidays)
        makeup_days = dict(self.makeup_days)
        for day, kind, name in days:
            holidays.pop(day, None)
            makeup_days.pop(day, None)
            if kind == "holiday":
                holidays[day] = name
            elif kind == "working_day":
                makeup_days[day] = name
            else:
                raise ValueError(f"unknown calendar day kind {kind!r}")
        return WorkingCalendar(
            holidays=holidays,
            makeup_days=makeup_days,
            confirmed_years=self.confirmed_years | frozenset(confirmed_years),
            source=source or self.source,
        )


@cache
def library_calendar() -> WorkingCalendar:
    """The ``chinesecalendar`` data: every year it covers is confirmed (it raises rather
    than guess beyond them, so its range is exactly what the State Council has published
    up to the release)."""
    from chinese_calendar import constants

    years = {day.year for day in constants.holidays}
    return WorkingCalendar(
        holidays={
            day: _LIBRARY_HOLIDAY_NAMES.get(name, name) for day, name in constants.holidays.items()
        },
        makeup_days={
            day: _LIBRARY_HOLIDAY_NAMES.get(name, name) for day, name in constants.workdays.items()
        },
        confirmed_years=frozenset(range(min(years), max(years) + 1)),
        source=f"chinesecalendar {version('chinesecalendar')}",
    )


def years_needing_confirmation(calendar: WorkingCalendar, today: date) -> list[int]:
    """The years open deadlines can reach (this one and the next) that are not confirmed."""
    return [year for year in (today.year, today.year + 1) if not calendar.is_confirmed(year)]


def is_working_day(day: date, calendar: WorkingCalendar) -> bool:
    return calendar.is_working_day(day)


# --- business hours ---------------------------------------------------------------------

WHOLE_WORKING_DAYS = BusinessHours(days="working_days", start="00:00", end="24:00")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _window(day: date, hours: BusinessHours) -> tuple[datetime, datetime]:
    """Opening and closing instants of ``day`` (closing at 24:00 is the next midnight)."""
    midnight = datetime.combine(day, time(), SHANGHAI)
    return (
        midnight + timedelta(minutes=_minutes(hours.start)),
        midnight + timedelta(minutes=_minutes(hours.end)),
    )


def within_hours(moment: datetime, hours: BusinessHours, calendar: WorkingCalendar) -> bool:
    """Whether ``moment`` falls inside ``hours`` on a day they are open (the start
    included, the end excluded: 9:00–17:00 closes at 17:00 itself)."""
    local = in_shanghai(moment)
    if not calendar.is_open(local.date(), hours.days):
        return False
    opening, closing = _window(local.date(), hours)
    return opening <= local < closing


def _end_of_day(day: date, hours: BusinessHours) -> datetime:
    """When the day's work is due: closing time, or the day's last instant for 24:00."""
    if _minutes(hours.end) == _MINUTES_PER_DAY:
        return datetime.combine(day, time.max, SHANGHAI)
    return _window(day, hours)[1]


def in_shanghai(moment: datetime) -> datetime:
    """``moment`` on the Shanghai wall clock; a naive datetime is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("working-time arithmetic needs aware datetimes")
    return moment.astimezone(SHANGHAI)


def _provisional(first: date, last: date, hours: BusinessHours, cal: WorkingCalendar) -> bool:
    """Did looking at the days ``first``..``last`` depend on an unconfirmed year?"""
    if hours.days == "every_day":
        return False
    return any(not cal.is_confirmed(year) for year in range(first.year, last.year + 1))


def _check_horizon(start: date, day: date) -> None:
    if day - start > MAX_HORIZON:
        raise CalendarHorizonError(
            gettext("从%(start)s起推算的工作时间超出两年，请检查时长或节假日设置")
            % {"start": start.isoformat()}
        )


def _in_minutes(span: timedelta) -> Decimal:
    microseconds = (span.days * 86400 + span.seconds) * 10**6 + span.microseconds
    return Decimal(microseconds) / Decimal(60 * 10**6)


# --- adding -------------------------------------------------------------------------------


def add_working_time(
    start: datetime, span: timedelta, hours: BusinessHours | None, calendar: WorkingCalendar
) -> Deadline:
    """``start`` plus ``span`` of working time: only time inside ``hours`` (whole working
    days without them) on open days counts."""
    start, hours = in_shanghai(start), hours or WHOLE_WORKING_DAYS
    day = start.date()
    remaining = span
    while True:
        _check_horizon(start.date(), day)
        if calendar.is_open(day, hours.days):
            opening, closing = _window(day, hours)
            begin = max(start, opening)
            if begin < closing:
                if remaining <= closing - begin:
                    provisional = _provisional(start.date(), day, hours, calendar)
                    return Deadline(begin + remaining, provisional)
                remaining -= closing - begin
        day += timedelta(days=1)


def add_working_days(
    start: datetime, count: int, hours: BusinessHours | None, calendar: WorkingCalendar
) -> Deadline:
    """The end of the ``count``-th open day after the start day (see the module docstring)."""
    start, hours = in_shanghai(start), hours or WHOLE_WORKING_DAYS
    day = start.date()
    counted = 0
    while counted < count:
        day += timedelta(days=1)
        _check_horizon(start.date(), day)
        if calendar.is_open(day, hours.days):
            counted += 1
    return Deadline(_end_of_day(day, hours), _provisional(start.date(), day, hours, calendar))


def next_working_moment(
    moment: datetime, hours: BusinessHours | None, calendar: WorkingCalendar
) -> Deadline:
    """The first instant at or after ``moment`` inside business hours on an open day."""
    return add_working_time(moment, timedelta(0), hours, calendar)


def working_day_after(day: date, count: int, calendar: WorkingCalendar) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself for 0)."""
    return _step_working_days(day, count, calendar, timedelta(days=1))


def working_day_before(day: date, count: int, calendar: WorkingCalendar) -> date:
    """The ``count``-th working day before ``day`` (``day`` itself for 0)."""
    return _step_working_days(day, count, calendar, timedelta(days=-1))


def _step_working_days(day: date, count: int, calendar: WorkingCalendar, step: timedelta) -> date:
    current = day
    while count > 0:
        current += step
        _check_horizon(min(day, current), max(day, current))
        if calendar.is_working_day(current):
            count -= 1
    return current


# --- measuring ----------------------------------------------------------------------------


def working_time_between(
    start: datetime, end: datetime, hours: BusinessHours | None, calendar: WorkingCalendar
) -> timedelta:
    """The working time inside ``hours`` on open days between ``start`` and ``end``."""
    start, end, hours = in_shanghai(start), in_shanghai(end), hours or WHOLE_WORKING_DAYS
    inside = timedelta(0)
    day = start.date()
    while day <= end.date():
        if calendar.is_open(day, hours.days):
            opening, closing = _window(day, hours)
            begin, finish = max(start, opening), min(end, closing)
            if begin < finish:
                inside += finish - begin
        day += timedelta(days=1)
    return inside


def working_days_between(
    start: datetime, end: datetime, hours: BusinessHours | None, calendar: WorkingCalendar
) -> Decimal:
    """Open days after the start day that have ended by ``end``, plus the fraction of the
    business hours of the one in progress."""
    start, end, hours = in_shanghai(start), in_shanghai(end), hours or WHOLE_WORKING_DAYS
    total = Decimal(0)
    day = start.date() + timedelta(days=1)
    while day <= end.date():
        if calendar.is_open(day, hours.days):
            opening, closing = _window(day, hours)
            if end >= _end_of_day(day, hours):
                total += 1
            elif end > opening:
                total += _in_minutes(end - opening) / _in_minutes(closing - opening)
        day += timedelta(days=1)
    return total
