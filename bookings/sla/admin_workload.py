"""The workload and trends page in admin (``/admin/bookings/workload/``): the figures of
``bookings.sla.trends`` as tables and server-side SVG line charts (no script, no asset from
another host), and the same figures as a spreadsheet (``?download=xlsx`` or ``csv``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import tablib
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bookings.lifecycle.exports import FORMATS
from bookings.models import Milestone, ServiceRequest
from bookings.sla.trends import Trend, Workload, workload
from portal.kernel.admin_pages import admin_page_install
from portal.kernel.tenancy import has_permission, request_user, scope

VIEW_PERMISSION = "bookings.view_servicerequest"
URL_NAME = "bookings_workload"
# Lines a chart can tell apart; the table under it lists every series.
CHART_SERIES = 6
PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#9b2c2c", "#6b46c1", "#975a16")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 640, 220, 44, 12, 30


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # SVG polyline points
    color: str
    dash: str


@dataclass(frozen=True)
class LineChart:
    title: str
    dom_id: str
    lines: list[Line]
    x_labels: list[tuple[float, str]]
    y_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT


def line_chart(trend: Trend, *, title: str, dom_id: str, percent: bool) -> LineChart:
    """The trend's largest series as lines over its weeks; a week without a value (no
    deadline decided) breaks nothing: the line joins the weeks that have one."""
    top = 100.0 if percent else max((_max(series) for series in trend.series), default=0.0)
    top = top or 1.0  # an empty period still draws its axes
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(trend.weeks) - 1, 1)

    def xy(index: int, value: float) -> str:
        return f"{LEFT + index * step:.1f},{TOP + plot_h - value / top * plot_h:.1f}"

    lines = []
    for n, series in enumerate(trend.series[:CHART_SERIES]):
        points = " ".join(
            xy(i, float(series.values[week]))  # type: ignore[arg-type]
            for i, week in enumerate(trend.weeks)
            if series.values.get(week) is not None
        )
        lines.append(Line(series.name or gettext("未派单"), points, PALETTE[n], DASHES[n]))
    ticks = [0.0, top / 2, top]
    return LineChart(
        title=title,
        dom_id=dom_id,
        lines=lines,
        # every other week, counted from this week so that this week is always labelled
        x_labels=[
            (LEFT + i * step, f"{w:%m-%d}")
            for i, w in enumerate(trend.weeks)
            if (len(trend.weeks) - 1 - i) % 2 == 0
        ],
        y_labels=[
            (TOP + plot_h - t / top * plot_h, f"{t:.0f}%" if percent else f"{t:.0f}") for t in ticks
        ],
    )


def _max(series: Any) -> float:
    return max((float(v) for v in series.values.values() if v is not None), default=0.0)


def trend_rows(trend: Trend) -> list[tuple[str, list[Any]]]:
    return [
        (series.name or gettext("未派单"), [series.values.get(week) for week in trend.weeks])
        for series in trend.series
    ]


def workload_dataset(data: Workload) -> tablib.Dataset:
    """Every figure of the page in one sheet: one row per figure, series and week."""
    dataset = tablib.Dataset(
        headers=[gettext("指标"), gettext("名称"), gettext("周（周一）"), gettext("数值")]
    )
    for label, loads in ((gettext("员工"), data.by_staff), (gettext("服务商"), data.by_vendor)):
        for load in loads:
            name = load.name or gettext("未分配")
            dataset.append([gettext("%(who)s在办") % {"who": label}, name, "", load.open])
            dataset.append([gettext("%(who)s今日到期") % {"who": label}, name, "", load.due_today])
    for label, trend in _trends(data):
        for series in trend.series:
            for week in trend.weeks:
                value = series.values.get(week)
                dataset.append(
                    [
                        str(label),
                        series.name or gettext("未派单"),
                        f"{week:%Y-%m-%d}",
                        ""
                        if value is None
                        else (str(value) if isinstance(value, Decimal) else value),
                    ]
                )
    return dataset


def _cell(value: Any) -> Any:
    # A percentage as its text (92.5), not a float a spreadsheet would round differently.
    if value is None:
        return ""
    return str(value) if isinstance(value, Decimal) else value


def _trends(data: Workload) -> list[tuple[Any, Trend]]:
    return [
        (_("每周申请量（按权益）"), data.volume_by_benefit),
        (_("每周申请量（按服务商）"), data.volume_by_vendor),
        (_("每周时效达成率%（按权益）"), data.attainment_by_benefit),
        (_("每周时效达成率%（按服务商）"), data.attainment_by_vendor),
    ]


def workload_view(request: HttpRequest, site: AdminSite) -> HttpResponse:
    user = request_user(request)
    if not has_permission(user, VIEW_PERMISSION):
        raise PermissionDenied
    data = workload(
        now=timezone.now(),
        requests=scope(ServiceRequest.objects.all(), user),
        milestones=scope(Milestone.objects.all(), user),
    )
    download = request.GET.get("download")
    if download:
        if download not in FORMATS:
            raise Http404
        spreadsheet: Any = FORMATS[download]()
        response = HttpResponse(
            spreadsheet.export_data(workload_dataset(data)),
            content_type=spreadsheet.get_content_type(),
        )
        name = f"工作量与趋势_{timezone.localdate():%Y%m%d}.{download}"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response
    charts = []
    for index, (label, trend) in enumerate(_trends(data)):
        percent = index >= 2
        chart = line_chart(trend, title=str(label), dom_id=f"trend-{index}", percent=percent)
        charts.append({"chart": chart, "trend": trend, "rows": trend_rows(trend)})
    request.current_app = site.name
    return TemplateResponse(
        request,
        "admin/bookings/workload.html",
        {
            **site.each_context(request),
            "title": _("工作量与趋势"),
            "subtitle": None,
            "data": data,
            "charts": charts,
        },
    )


def install(site: AdminSite) -> None:
    """The page's URL and its entry, second in the bookings app list (after the dashboard)."""
    admin_page_install(
        site,
        route="bookings/workload/",
        view=workload_view,
        url_name=URL_NAME,
        listed_in="bookings",
        position=1,
        name=lambda: gettext("工作量与趋势"),
        object_name="Workload",
        may_view=lambda user: has_permission(user, VIEW_PERMISSION),
    )


install(admin.site)
