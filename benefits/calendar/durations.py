"""Every duration of a benefit's terms as time: the one place where a ``Duration`` (or an
amount of a ``TimeUnit`` on a ``Clock``) becomes a moment, a day, a calendar step or a
measured span. Nothing else converts one.

Semantics, pinned by ``tests/benefits/test_durations.py`` and ``test_workcalendar.py``:

* Natural minutes, hours, days and weeks are exact spans (the decimal amount to the
  microsecond). Natural months and years are calendar months and years, ``relativedelta``
  on the Shanghai date (31 January + 1 month = 28/29 February), and must be whole. Natural
  results are never provisional and need no calendar.
* A duration on the working clock is counted on the working calendar within business hours
  (``benefits.calendar.workcalendar``: working minutes and hours only inside the hours on
  open days; N working days end with the Nth open day after the start day); without
  business hours, whole working days 00:00–24:00. It needs the calendar: ``calendar=None``
  raises ``ValueError``.
* Facts that are dates (an admission, a policy's effective date) move by whole days:
  minutes, hours, days and weeks by the whole days they make up ("出院前24小时" is the day
  before; 36 hours is one day), months and years as calendar months; on the working clock,
  by working days of the calendar (working hours and minutes at 24 to the day, as whole
  working days run 00:00–24:00).
* ``elapsed`` is the inverse of ``add``: the time on a clock between two moments, as a
  ``Decimal`` in the unit asked for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from benefits.calendar.workcalendar import (
    Deadline,
    WorkingCalendar,
    add_working_days,
    add_working_time,
    in_shanghai,
    working_day_after,
    working_day_before,
    working_days_between,
    working_time_between,
)
from benefits.terms.timing import BusinessHours, Duration
from benefits.terms.vocabulary import Clock, TimeUnit
from portal.kernel.clock import SHANGHAI

_MICROSECONDS = {
    "minutes": 60 * 10**6,
    "hours": 3600 * 10**6,
    "days": 86400 * 10**6,
    "weeks": 7 * 86400 * 10**6,
}
_MONTHS = {"months": 1, "years": 12}
_WORKING_UNITS = ("minutes", "hours", "days")
ONE_DAY = timedelta(days=1)


def _whole(amount: Decimal | int, what: str) -> int:
    if Decimal(amount) != Decimal(amount).to_integral_value():
        raise ValueError(f"{what} must be a whole number, got {amount}")
    return int(amount)


def _span(amount: Decimal | int, unit: str) -> timedelta:
    """Minutes to weeks as an exact span."""
    microseconds = (Decimal(amount) * _MICROSECONDS[unit]).to_integral_value()
    return timedelta(microseconds=int(microseconds))


def _months(amount: Decimal | int, unit: str) -> relativedelta:
    return relativedelta(months=_whole(amount, unit) * _MONTHS[unit])


def _in_unit(span: timedelta, unit: str) -> Decimal:
    microseconds = (span.days * 86400 + span.seconds) * 10**6 + span.microseconds
    return Decimal(microseconds) / Decimal(_MICROSECONDS[unit])


def _needed(calendar: WorkingCalendar | None) -> WorkingCalendar:
    if calendar is None:
        raise ValueError("a duration on the working clock needs the working calendar")
    return calendar


# --- moments ------------------------------------------------------------------------------


def add(
    start: datetime,
    amount: Decimal | int,
    unit: TimeUnit,
    clock: Clock,
    hours: BusinessHours | None,
    calendar: WorkingCalendar | None,
) -> Deadline:
    """``start`` plus ``amount`` ``unit`` on ``clock`` (see the module docstring)."""
    local = in_shanghai(start)
    if Decimal(amount) < 0:
        raise ValueError("amount must not be negative")
    if clock == "natural":
        if unit in _MONTHS:
            return Deadline(local + _months(amount, unit), provisional=False)
        due = (local.astimezone(UTC) + _span(amount, unit)).astimezone(SHANGHAI)
        return Deadline(due, provisional=False)
    if unit not in _WORKING_UNITS:
        raise ValueError(f"the working clock counts minutes, hours or days, not {unit}")
    if unit == "days":
        count = _whole(amount, "working days")
        if count == 0:
            raise ValueError("working days must be at least 1")
        return add_working_days(local, count, hours, _needed(calendar))
    return add_working_time(local, _span(amount, unit), hours, _needed(calendar))


def duration_after(
    start: datetime,
    duration: Duration,
    *,
    calendar: WorkingCalendar | None,
    hours: BusinessHours | None,
) -> Deadline:
    """When ``duration`` from the terms has run from ``start``: a working-clock one on
    ``calendar`` inside ``hours`` (whole working days when None)."""
    return add(start, duration.amount, duration.unit, duration.clock, hours, calendar)


# --- days and calendar steps --------------------------------------------------------------


def natural_delta(duration: Duration) -> relativedelta:
    """A natural-clock duration as a calendar step (``day + natural_delta(d) * n`` plans a
    series): months and years as calendar months, shorter units exact. A working-clock
    duration is no fixed step and is refused."""
    if duration.clock != "natural":
        raise ValueError("a duration on the working clock is not a fixed step")
    if duration.unit in _MONTHS:
        return _months(duration.amount, duration.unit)
    return relativedelta(microseconds=_span(duration.amount, duration.unit) // timedelta.resolution)


def day_after(day: date, duration: Duration, *, calendar: WorkingCalendar | None) -> date:
    """The day ``duration`` after ``day``, in whole days (see the module docstring)."""
    return _shift(day, duration, calendar, forward=True)


def day_before(day: date, duration: Duration, *, calendar: WorkingCalendar | None) -> date:
    """The day ``duration`` before ``day``, in whole days (see the module docstring)."""
    return _shift(day, duration, calendar, forward=False)


def _shift(
    day: date, duration: Duration, calendar: WorkingCalendar | None, *, forward: bool
) -> date:
    amount, unit = duration.amount, duration.unit
    if duration.clock == "natural":
        if unit in _MONTHS:
            step = _months(amount, unit)
        else:
            step = relativedelta(days=_span(amount, unit) // ONE_DAY)
        return day + step if forward else day - step
    if unit not in _WORKING_UNITS:
        raise ValueError(f"the working clock counts minutes, hours or days, not {unit}")
    count = _whole(amount, "working days") if unit == "days" else _span(amount, unit) // ONE_DAY
    walk = working_day_after if forward else working_day_before
    return walk(day, count, _needed(calendar))


# --- measuring ----------------------------------------------------------------------------


def elapsed(
    start: datetime,
    end: datetime,
    unit: TimeUnit,
    clock: Clock,
    hours: BusinessHours | None,
    calendar: WorkingCalendar | None,
) -> Decimal:
    """How much time on ``clock`` lies between ``start`` and ``end``, in ``unit``."""
    start, end = in_shanghai(start), in_shanghai(end)
    if end < start:
        raise ValueError("end is before start")
    if unit not in _MICROSECONDS:
        raise ValueError(f"elapsed time cannot be measured in {unit}")
    if clock == "natural":
        return _in_unit(end - start, unit)
    if unit not in _WORKING_UNITS:
        raise ValueError(f"the working clock counts minutes, hours or days, not {unit}")
    if unit == "days":
        return working_days_between(start, end, hours, _needed(calendar))
    return _in_unit(working_time_between(start, end, hours, _needed(calendar)), unit)
