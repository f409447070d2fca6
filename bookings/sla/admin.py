"""The insurer's SLA dashboard in admin (服务时效看板) at ``/admin/bookings/dashboard/``:
late and due requests with links into the queue's deadline filters, the most urgent pending
promises, and a scorecard per vendor with a bar chart drawn here as inline SVG (the machine
is offline: no JavaScript library, no CDN).

No model stands behind the page, so it is added to the admin site by wrapping the site's
``get_urls`` and ``get_app_list`` (an entry in the 服务申请 app list) rather than through a
proxy model, which would need a migration and its own permissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from benefits.models import Product
from bookings.models import OPEN_STATUSES, Milestone
from bookings.sla.dashboard import SlaDashboard, VendorScorecard, sla_dashboard
from bookings.sla.selectors import ScoreLine
from portal.kernel.admin_pages import admin_page_install
from portal.kernel.clock import SHANGHAI
from portal.kernel.tenancy import scope

VIEW_PERMISSION = "bookings.view_servicerequest"
URL_NAME = "bookings_dashboard"
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30

UNITS = {
    ("minutes", "natural"): _("分钟"),
    ("hours", "natural"): _("小时"),
    ("days", "natural"): _("天"),
    ("weeks", "natural"): _("周"),
    ("minutes", "working"): _("工作分钟"),
    ("hours", "working"): _("工作小时"),
    ("days", "working"): _("工作日"),
}

# Chart geometry, in SVG user units (pixels at 100 %). A bar at full length is 100 % on
# time, or twice the handbook target for the average; the text beside it carries the number.
CHART_WIDTH = 720
BAR_WIDTH = 260
VALUE_X = BAR_WIDTH + 12
ROW_HEIGHT = 64
# About what fits on one line of the chart at 13 px; the table above has the full name.
TITLE_CHARS = 48


# --- texts --------------------------------------------------------------------------------


def span_text(span: timedelta) -> str:
    """ "1小时20分", "2天3小时", "不到1分": whole minutes, rounded down; minutes are dropped
    once a span runs to days."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(gettext("%(n)d天") % {"n": days})
    if hours:
        parts.append(gettext("%(n)d小时") % {"n": hours})
    if mins and not days:
        parts.append(gettext("%(n)d分") % {"n": mins})
    return "".join(parts) or gettext("不到1分")


def time_left_text(due_at: datetime, now: datetime) -> str:
    """ "剩余1小时20分" before the deadline, "已超时3小时" after it."""
    if due_at >= now:
        return gettext("剩余%(span)s") % {"span": span_text(due_at - now)}
    return gettext("已超时%(span)s") % {"span": span_text(now - due_at)}


def local_text(moment: datetime) -> str:
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def number_text(value: Decimal) -> str:
    """2.00 → "2", 1.50 → "1.5": the handbooks print whole numbers."""
    return format(value.normalize(), "f")


def unit_text(line: ScoreLine) -> str:
    return str(UNITS.get((line.unit, line.clock), line.unit))


def target_text(line: ScoreLine) -> str:
    """ "≤2工作小时", or "平均5–10工作日" for a KPI the handbook states as an average."""
    if line.target_due is None:
        return gettext("手册未载明")
    amount = number_text(line.target_due)
    if line.target_from is not None:
        amount = f"{number_text(line.target_from)}–{amount}"
    if line.target == "average":
        return gettext("平均%(amount)s%(unit)s") % {"amount": amount, "unit": unit_text(line)}
    return gettext("≤%(amount)s%(unit)s") % {"amount": amount, "unit": unit_text(line)}


def average_text(line: ScoreLine) -> str:
    if line.average_elapsed is None:
        return gettext("无完成记录")
    return f"{number_text(line.average_elapsed)}{unit_text(line)}"


def verdict_text(line: ScoreLine) -> str:
    """Said in words, so the page reads without colour."""
    if line.within_target is None:
        return ""
    return gettext("达标") if line.within_target else gettext("超出目标")


# --- the chart ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartRow:
    y: int
    title: str
    on_time_width: int
    on_time_text: str
    average_width: int | None  # None: nothing done yet to average, or no target to scale to
    average_text: str


@dataclass(frozen=True)
class Chart:
    dom_id: str
    title: str
    width: int
    height: int
    bar_width: int
    value_x: int
    target_x: int
    rows: list[ChartRow]


def _shorten(text: str) -> str:
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def scorecard_chart(card: VendorScorecard) -> Chart:
    """Two horizontal bars per promise: the share kept on time, and the average time taken
    against the handbook target (the dashed line marks the target)."""
    rows = []
    for index, line in enumerate(card.lines):
        average_width = None
        if line.average_elapsed is not None and line.target_due:
            ratio = min(line.average_elapsed / line.target_due, Decimal(2))
            average_width = round(ratio * BAR_WIDTH / 2)
        verdict = verdict_text(line)
        rows.append(
            ChartRow(
                y=index * ROW_HEIGHT,
                title=_shorten(f"{line.benefit_name} · {line.label}"),
                on_time_width=round(line.on_time_pct * BAR_WIDTH / 100),
                on_time_text=gettext("准时率 %(pct)s%%（%(on_time)d/%(count)d）")
                % {"pct": line.on_time_pct, "on_time": line.on_time, "count": line.count},
                average_width=average_width,
                average_text=gettext("平均 %(average)s，目标 %(target)s%(verdict)s")
                % {
                    "average": average_text(line),
                    "target": target_text(line),
                    "verdict": f"，{verdict}" if verdict else "",
                },
            )
        )
    return Chart(
        dom_id=f"sla-chart-{card.vendor_id}",
        title=gettext("%(vendor)s：各时效节点准时率与平均用时") % {"vendor": card.vendor_name},
        width=CHART_WIDTH,
        height=max(len(rows), 1) * ROW_HEIGHT,
        bar_width=BAR_WIDTH,
        value_x=VALUE_X,
        target_x=BAR_WIDTH // 2,
        rows=rows,
    )


# --- the page -------------------------------------------------------------------------------


def period_from(raw: str | None) -> int:
    """``?days=7|30|90``; anything else is the default period."""
    return int(raw) if raw in {str(days) for days in PERIODS} else DEFAULT_PERIOD


def queue_links() -> dict[str, str]:
    """The queue filtered as each count was counted. The queue's "breached" filter also
    lists closed requests; the dashboard counts open ones, so its link adds the statuses."""
    changelist = reverse("admin:bookings_servicerequest_changelist")
    breached = urlencode({"deadline": "breached", "status__in": ",".join(sorted(OPEN_STATUSES))})
    return {
        "breached": f"{changelist}?{breached}",
        "today": f"{changelist}?deadline=today",
        "soon": f"{changelist}?deadline=24h",
        "provisional": f"{changelist}?deadline=provisional",
    }


def dashboard_context(data: SlaDashboard, days: int) -> dict[str, Any]:
    links = queue_links()
    counts = data.counts
    return {
        "counts": [
            {
                "label": _("已超时"),
                "count": counts.breached,
                "url": links["breached"],
                "help": _("未结束、且有节点已超时的申请"),
            },
            {
                "label": _("今天到期"),
                "count": counts.due_today,
                "url": links["today"],
                "help": _("有进行中的节点在今天24:00前到期"),
            },
            {
                "label": _("24小时内到期"),
                "count": counts.due_soon,
                "url": links["soon"],
                "help": _("有进行中的节点在24小时内到期"),
            },
            {
                "label": _("截止时间暂定"),
                "count": counts.provisional,
                "url": links["provisional"],
                "help": _("截止时间落在节假日尚未确认的年度，暂按周一至周五计算"),
            },
        ],
        "cost_warnings": [
            {
                "product": report.product_name,
                "ratio": f"{report.ratio * 100:.2f}%" if report.ratio is not None else "-",
                "projected": f"{(report.projected_ratio or 0) * 100:.2f}%",
                "cost": report.cost,
                "net_premium": report.net_premium,
            }
            for report in data.cost_warnings
        ],
        "unconfirmed_years": "、".join(str(year) for year in data.unconfirmed_years),
        "calendar_years_url": reverse("admin:benefits_calendaryear_changelist"),
        "urgent": [
            {
                "ref": row.ref,
                "url": reverse("admin:bookings_servicerequest_change", args=[row.request_id]),
                "benefit": row.benefit_name,
                "vendor": row.vendor_name or gettext("未派单"),
                "label": row.label,
                "due": local_text(row.due_at),
                "provisional": row.provisional,
                "left": time_left_text(row.due_at, data.now),
                "overdue": row.remaining < timedelta(0),
            }
            for row in data.urgent
        ],
        "now_text": local_text(data.now),
        "period_text": gettext("%(since)s 至 %(until)s")
        % {
            "since": local_text(data.since),
            "until": local_text(data.until),
        },
        "periods": [
            {
                "days": option,
                "label": gettext("近%(n)d天") % {"n": option},
                "current": option == days,
            }
            for option in PERIODS
        ],
        "scorecards": [
            {
                "vendor": card.vendor_name,
                "count": card.count,
                "on_time": card.on_time,
                "on_time_pct": card.on_time_pct,
                "rating_count": card.rating_count,
                "rating_avg": card.rating_avg,
                "lines": [
                    {
                        "line": line,
                        "target": target_text(line),
                        "average": average_text(line),
                        "verdict": verdict_text(line),
                    }
                    for line in card.lines
                ],
                "chart": scorecard_chart(card),
            }
            for card in data.scorecards
        ],
    }


def dashboard_view(request: HttpRequest, site: AdminSite) -> TemplateResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    days = period_from(request.GET.get("days"))
    data = sla_dashboard(
        now=timezone.now(),
        days=days,
        milestones=scope(Milestone.objects.all(), request.user),
        products=scope(Product.objects.all(), request.user),
    )
    request.current_app = site.name
    return TemplateResponse(
        request,
        "admin/bookings/dashboard.html",
        {
            **site.each_context(request),
            "title": _("服务时效看板"),
            "subtitle": None,
            "app_label": "bookings",
            "app_name": apps.get_app_config("bookings").verbose_name,
            **dashboard_context(data, days),
        },
    )


def install(site: AdminSite) -> None:
    """The dashboard's URL and its entry, first in the bookings app list."""
    admin_page_install(
        site,
        route="bookings/dashboard/",
        view=dashboard_view,
        url_name=URL_NAME,
        listed_in="bookings",
        position=0,
        name=lambda: gettext("服务时效看板"),
        object_name="SlaDashboard",
        may_view=lambda user: user.has_perm(VIEW_PERMISSION),
    )


install(admin.site)
