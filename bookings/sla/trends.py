"""Workload and trends for the insurer's operations (issue 16 part 3): open requests and those
due today per staff member and per vendor, and per week the requests submitted and the SLA
attainment per benefit and per vendor.

Counting conventions (as the SLA dashboard's): a request is open in ``OPEN_STATUSES``; it is
due today when one of its pending deadlines falls before the end of today in Shanghai; a
week is Monday to Sunday in Shanghai; attainment is milestones met on time over those
decided (met or breached) whose deadline fell in the week. Every figure is one grouped
query: six queries whatever the number of requests, staff, vendors or weeks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from bookings.models import OPEN_STATUSES, Milestone, ServiceRequest
from bookings.sla.dashboard import end_of_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKS = 12
State = Milestone.State


@dataclass(frozen=True)
class Load:
    name: str  # the staff member's username or the vendor's name; "" for nobody
    open: int
    due_today: int


@dataclass
class Series:
    name: str
    values: dict[date, int | Decimal | None] = field(default_factory=dict)

    def total(self) -> Decimal:
        return sum((Decimal(v) for v in self.values.values() if v is not None), Decimal(0))


@dataclass(frozen=True)
class Trend:
    weeks: list[date]  # the Mondays, oldest first
    series: list[Series]  # by descending total


@dataclass(frozen=True)
class Workload:
    by_staff: list[Load]
    by_vendor: list[Load]
    volume_by_benefit: Trend
    volume_by_vendor: Trend
    attainment_by_benefit: Trend
    attainment_by_vendor: Trend


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def recent_weeks(now: datetime, weeks: int = WEEKS) -> list[date]:
    this_week = week_of(now.astimezone(SHANGHAI).date())
    return [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _name(row: dict, keys: tuple[str, ...]) -> str:
    """The series' name: its grouping values joined (平安健康 · 门诊协助); "" for none."""
    return " · ".join(str(row[key]) for key in keys if row[key])


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _loads(requests: QuerySet[ServiceRequest], key: str, now: datetime) -> list[Load]:
    due = Q(milestones__state=State.PENDING, milestones__due_at__lt=end_of_day(now))
    rows = (
        requests.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values(key)
        .annotate(open=Count("id", distinct=True), due=Count("id", filter=due, distinct=True))
    )
    loads = [Load(row[key] or "", row["open"], row["due"]) for row in rows]
    return sorted(loads, key=lambda load: (-load.open, load.name))


def _volume(requests: QuerySet[ServiceRequest], keys: tuple[str, ...], weeks: list[date]) -> Trend:
    rows = (
        requests.filter(created_at__gte=_start_of(weeks[0]))
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .order_by()
        .values(*keys, "day")
        .annotate(n=Count("id"))
    )
    by_name: dict[str, Series] = {}
    for row in rows:
        name = _name(row, keys)
        series = by_name.setdefault(name, Series(name))
        week = week_of(row["day"])
        series.values[week] = int(series.values.get(week) or 0) + row["n"]
    for series in by_name.values():
        for week in weeks:
            series.values.setdefault(week, 0)
    ordered = sorted(by_name.values(), key=lambda s: (-s.total(), s.name))
    return Trend(weeks, ordered)


def _attainment(milestones: QuerySet[Milestone], keys: tuple[str, ...], weeks: list[date]) -> Trend:
    rows = (
        # Bounded at both ends: a deadline met early can fall due after this week.
        milestones.filter(
            state__in=[State.MET, State.BREACHED],
            due_at__gte=_start_of(weeks[0]),
            due_at__lt=_start_of(weeks[-1] + timedelta(weeks=1)),
        )
        .annotate(day=TruncDate("due_at", tzinfo=SHANGHAI))
        .order_by()
        .values(*keys, "day")
        .annotate(decided=Count("id"), met=Count("id", filter=Q(state=State.MET)))
    )
    counts: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        cell = counts[_name(row, keys)][week_of(row["day"])]
        cell[0] += row["met"]
        cell[1] += row["decided"]
    series = []
    for name, by_week in counts.items():
        values: dict[date, int | Decimal | None] = {week: None for week in weeks}
        for week, (met, decided) in by_week.items():
            values[week] = (Decimal(100) * met / decided).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        series.append(Series(name, values))
    decided_total = {name: sum(c[1] for c in weeks_.values()) for name, weeks_ in counts.items()}
    series.sort(key=lambda s: (-decided_total[s.name], s.name))
    return Trend(weeks, series)


def workload(
    *, now: datetime, requests: QuerySet[ServiceRequest], milestones: QuerySet[Milestone]
) -> Workload:
    """The figures of the workload page over ``requests`` and ``milestones`` (the viewer's
    insurers' — the caller scopes them). Six queries."""
    weeks = recent_weeks(now)
    return Workload(
        by_staff=_loads(requests, "assignee__username", now),
        by_vendor=_loads(requests, "vendor__name", now),
        volume_by_benefit=_volume(requests, ("benefit__product__name", "benefit__name"), weeks),
        volume_by_vendor=_volume(requests, ("vendor__name",), weeks),
        attainment_by_benefit=_attainment(
            milestones, ("request__benefit__product__name", "request__benefit__name"), weeks
        ),
        attainment_by_vendor=_attainment(milestones, ("request__vendor__name",), weeks),
    )
