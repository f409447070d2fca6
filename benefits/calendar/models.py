"""The admin's corrections and additions to the statutory working calendar.

The ``chinesecalendar`` library supplies the holidays and make-up working days of the years
it covers; these rows override it day by day and carry the years it does not cover yet (the
State Council publishes next year's arrangement each November or December). Every change is
announced through ``benefits.signals.calendar_changed`` in its transaction, so open
deadlines can be recomputed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from benefits.signals import calendar_changed


class TracksLoadedValues(models.Model):
    """Remembers the values a row was loaded with, so a save can tell what changed."""

    # Set on rows loaded from the database (``from_db``) and after each save; absent on a
    # new instance, hence the ``getattr`` default below.
    _loaded_values: dict[str, Any]

    class Meta:
        abstract = True

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any
    ) -> Self:
        # ``**kwargs``: later Django versions pass ``fetch_mode``; hand on whatever comes.
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def loaded_value(self, field: str) -> Any:
        return getattr(self, "_loaded_values", {}).get(field)


class CalendarDay(TracksLoadedValues):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（放假）")
        WORKING_DAY = "working_day", _("调休上班日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60, help_text=_("如：国庆节、春节"))
    source = models.CharField(
        _("依据"),
        max_length=200,
        help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日与调休日")
        verbose_name_plural = _("节假日与调休日")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"


class CalendarYear(TracksLoadedValues):
    """A year whose holidays an admin has checked against the State Council's notice."""

    year = models.PositiveSmallIntegerField(
        _("年度"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    confirmed = models.BooleanField(_("已确认"), default=False)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("依据"), max_length=200, blank=True)
    note = models.TextField(_("备注"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日年度")
        verbose_name_plural = _("节假日年度")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed=False) | Q(confirmed_at__isnull=False),
                name="calendar_year_confirmed_has_time",
            )
        ]

    def __str__(self) -> str:
        return str(self.year)


def _announce(sender: type[models.Model], years: Iterable[int | None]) -> None:
    """Tell listeners (the SLA recomputation) inside the change's transaction: what they
    queue goes through the transactional outbox (``portal.kernel.outbox``), so it commits or
    rolls back with the change and reaches a worker only after the commit, when the new
    calendar is visible. A listener that fails fails the change: a calendar edit whose
    deadlines could not be queued for recomputation must not be saved silently."""
    affected = frozenset(year for year in years if year is not None)
    if affected:
        calendar_changed.send(sender=sender, years=affected)


@receiver(post_save, sender=CalendarDay, dispatch_uid="calendar_day_saved")
def _day_saved(sender: type[CalendarDay], instance: CalendarDay, created: bool, **_: Any) -> None:
    previous = instance.loaded_value("date")
    changed = created or (
        previous != instance.date or instance.loaded_value("kind") != instance.kind
    )
    if changed:
        _announce(sender, [instance.date.year, previous.year if previous else None])
    instance._loaded_values = {"date": instance.date, "kind": instance.kind}


@receiver(post_delete, sender=CalendarDay, dispatch_uid="calendar_day_deleted")
def _day_deleted(sender: type[CalendarDay], instance: CalendarDay, **_: Any) -> None:
    _announce(sender, [instance.date.year])


@receiver(post_save, sender=CalendarYear, dispatch_uid="calendar_year_saved")
def _year_saved(
    sender: type[CalendarYear], instance: CalendarYear, created: bool, **_: Any
) -> None:
    # Only confirmation changes what deadlines are computed on; a new note does not.
    previous_year = instance.loaded_value("year")
    if created:
        changed = instance.confirmed
    else:
        changed = (
            instance.loaded_value("confirmed") != instance.confirmed
            or previous_year != instance.year
        )
    if changed:
        _announce(sender, [instance.year, previous_year])
    instance._loaded_values = {"year": instance.year, "confirmed": instance.confirmed}


@receiver(post_delete, sender=CalendarYear, dispatch_uid="calendar_year_deleted")
def _year_deleted(sender: type[CalendarYear], instance: CalendarYear, **_: Any) -> None:
    if instance.confirmed:
        _announce(sender, [instance.year])
