"""Reading the working calendar: the library's data with the admin's rows laid over it."""

from __future__ import annotations

from benefits.calendar.workcalendar import WorkingCalendar, library_calendar
from benefits.models import CalendarDay, CalendarYear
from portal.kernel.memo import Memo


def current_calendar() -> WorkingCalendar:
    """The calendar to compute deadlines with, in two small queries.

    Deliberately read afresh on every call rather than cached per process: the tables hold a
    few dozen rows a year, and a Celery worker recomputing deadlines after
    ``calendar_changed`` must see the admin's change, which a per-process cache invalidated
    by the admin's process would hide. Build it once per request or task batch and pass it
    to the functions of ``benefits.calendar.workcalendar``.
    """
    days = CalendarDay.objects.order_by().values_list("date", "kind", "name")
    confirmed = CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True)
    return library_calendar().with_days(list(days), confirmed_years=list(confirmed))


_calendar: Memo[WorkingCalendar] = Memo("working-calendar")


def calendar_cached() -> WorkingCalendar:
    """The same calendar from a process memo, for hot read paths (eligibility): dropped
    whenever a ``CalendarDay`` or ``CalendarYear`` is saved or deleted, in every process
    sharing the cache (``portal.kernel.memo``). Deadline writers keep using ``current_calendar``."""
    return _calendar.get("current", current_calendar)
