"""Admin for the working calendar: holidays and make-up working days, and confirmed years.

Registered from ``BenefitsConfig.ready`` (``benefits/admin.py`` is shared by other features).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from benefits.calendar.selectors import current_calendar
from benefits.calendar.services import calendar_years_confirm, calendar_years_withdraw
from benefits.calendar.workcalendar import library_calendar, years_needing_confirmation
from benefits.models import CalendarDay, CalendarYear
from portal.kernel.errors import DomainError
from portal.kernel.tenancy import InsurerScopedAdmin, request_user

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise, WithAnnotations

WEEKDAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))


class WarnsOfUnconfirmedYears(InsurerScopedAdmin):
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # On GET only: after an action's redirect the message would otherwise show twice.
        if request.method == "GET":
            years = years_needing_confirmation(current_calendar(), timezone.localdate())
            if years:
                messages.warning(
                    request,
                    gettext(
                        "%(years)s年的节假日尚未确认：落在这些年度的时限暂按周一至周五计算，"
                        "并标记为“暂定”。请按国务院办公厅通知录入该年的节假日和调休上班日，"
                        "再在“节假日年度”中新增该年度并执行“确认年度”。"
                    )
                    % {"years": "、".join(str(year) for year in years)},
                )
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(WarnsOfUnconfirmedYears):
    list_display = ("date", "weekday", "kind", "name", "library_says", "source", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "source")
    date_hierarchy = "date"
    fields = ("date", "kind", "name", "source", "library_says")
    readonly_fields = ("library_says",)

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> StrPromise:
        return WEEKDAYS[obj.date.weekday()]

    @admin.display(description=_("节假日库中的设置"))
    def library_says(self, obj: CalendarDay) -> str:
        """What this row overrides, so an admin sees whether it corrects the library."""
        if obj.date is None:
            return "-"
        library = library_calendar()
        if not library.is_confirmed(obj.date.year):
            return gettext("库中无该年数据")
        if library.is_holiday(obj.date):
            return gettext("放假（%(name)s）") % {"name": library.day_name(obj.date)}
        if obj.date in library.makeup_days:
            return gettext("调休上班（%(name)s）") % {"name": library.day_name(obj.date)}
        if library.is_working_day(obj.date):
            return gettext("工作日")
        return gettext("周末")


class EnteredDays(TypedDict):
    entered_days_count: int  # CalendarYearAdmin.get_queryset's annotation


@admin.register(CalendarYear)
class CalendarYearAdmin(WarnsOfUnconfirmedYears):
    list_display = (
        "year",
        "status",
        "entered_days",
        "confirmed_at",
        "confirmed_by",
        "source",
    )
    list_filter = ("confirmed",)
    list_select_related = ("confirmed_by",)
    fields = ("year", "source", "note", "confirmed", "confirmed_at", "confirmed_by")
    readonly_fields = ("confirmed", "confirmed_at", "confirmed_by")
    actions = ("confirm_years", "withdraw_confirmation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        entered = (
            CalendarDay.objects.filter(date__year=OuterRef("year"))
            .order_by()
            .values("date__year")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                entered_days_count=Coalesce(
                    Subquery(entered, output_field=IntegerField()), Value(0)
                )
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        # A year's row is its identity in the log of who confirmed what: set once.
        return (*readonly, "year") if obj is not None else readonly

    @admin.display(description=_("已录入天数"), ordering="entered_days_count")
    def entered_days(self, obj: WithAnnotations[CalendarYear, EnteredDays]) -> int:
        return obj.entered_days_count

    @admin.display(description=_("状态"))
    def status(self, obj: CalendarYear) -> str:
        if library_calendar().is_confirmed(obj.year):
            return gettext("节假日库已收录")
        if obj.confirmed:
            return gettext("已确认")
        return gettext("未确认（时限暂按周一至周五计算）")

    @admin.action(description=_("确认年度"), permissions=["change"])
    def confirm_years(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        years = list(queryset.values_list("year", flat=True))
        try:
            calendar_years_confirm(years=years, user=request_user(request))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request,
            gettext("已确认%(years)s年的节假日安排，相关未完成时限将重新计算。")
            % {"years": "、".join(str(year) for year in sorted(years))},
            messages.SUCCESS,
        )

    @admin.action(description=_("撤销确认"), permissions=["change"])
    def withdraw_confirmation(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        rows = calendar_years_withdraw(years=queryset.values_list("year", flat=True))
        self.message_user(
            request,
            gettext("已撤销%(count)d个年度的确认。") % {"count": len(rows)},
            messages.WARNING,
        )
