"""Changing the working calendar: confirming a year once its holidays are entered."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.calendar.workcalendar import library_calendar
from benefits.models import CalendarDay, CalendarYear
from portal.kernel.errors import DomainError


def check_year_confirmable(*, year: int) -> None:
    """A year the library does not cover needs its holidays entered before it is confirmed:
    confirming an empty year would turn weekday-only guesses into firm deadlines."""
    if library_calendar().is_confirmed(year):
        return
    if not CalendarDay.objects.filter(date__year=year, kind=CalendarDay.Kind.HOLIDAY).exists():
        raise DomainError(
            "calendar_year_not_entered",
            _("%(year)s年尚未录入法定节假日，请先按国务院办公厅通知录入节假日和调休上班日再确认")
            % {"year": year},
        )


@transaction.atomic
def calendar_years_confirm(
    *, years: Iterable[int], user: User, source: str = ""
) -> list[CalendarYear]:
    """Mark ``years`` confirmed by ``user`` (creating their rows if needed); every year is
    checked before any is changed. Saving announces ``calendar_changed`` in the transaction."""
    years = sorted(set(years))
    for year in years:
        check_year_confirmable(year=year)
    now = timezone.now()
    confirmed = []
    for year in years:
        # Locked in year order so two admins confirming overlapping selections cannot deadlock.
        row, _created = CalendarYear.objects.select_for_update().get_or_create(year=year)
        if not row.confirmed:
            row.confirmed = True
            row.confirmed_at = now
            row.confirmed_by = user
            row.source = source or row.source
            row.save()
        confirmed.append(row)
    return confirmed


@transaction.atomic
def calendar_years_withdraw(*, years: Iterable[int]) -> list[CalendarYear]:
    """Take back a confirmation made in error: deadlines in these years become provisional
    again (unless the library covers the year)."""
    withdrawn = []
    for row in (
        CalendarYear.objects.select_for_update()
        .filter(year__in=set(years), confirmed=True)
        .order_by("year")
    ):
        row.confirmed = False
        row.confirmed_at = None
        row.confirmed_by = None
        row.save()
        withdrawn.append(row)
    return withdrawn
