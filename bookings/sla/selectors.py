"""Vendor KPIs from the SLA milestones: how often a vendor keeps each promise, and how long
it takes against the handbook's target."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet

from benefits.calendar.durations import elapsed
from benefits.calendar.selectors import current_calendar
from benefits.calendar.workcalendar import WorkingCalendar, library_calendar
from benefits.models import Benefit, Vendor
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.sla import SlaMilestone
from benefits.terms.vocabulary import TimeUnit
from bookings.models import Milestone
from bookings.sla.clocks import clock_hours

State = Milestone.State
# Natural months and years have no fixed length to average in; no handbook promises one.
MEASURABLE_UNITS = ("minutes", "hours", "days", "weeks")
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class ScoreLine:
    """One promise of one benefit as kept by one vendor over a period.

    ``count`` is every milestone whose deadline fell in the period and whose outcome is
    known (met, or breached — late or still not done); ``average_elapsed`` is over the ones
    done, in the promise's own unit and clock (working hours for "2个工作小时"). For an
    average target ("平均5-10个工作日") the breach line is the upper bound ``target_due``,
    ``target_from`` the lower one."""

    benefit_code: str
    benefit_name: str
    code: str
    label: str
    target: str
    unit: str
    clock: str
    target_due: Decimal | None
    target_from: Decimal | None
    count: int
    on_time: int
    late: int
    on_time_pct: Decimal
    average_elapsed: Decimal | None

    @property
    def within_target(self) -> bool | None:
        if self.average_elapsed is None or self.target_due is None:
            return None
        return self.average_elapsed <= self.target_due


def _spec(terms: BenefitTerms, code: str) -> SlaMilestone | None:
    return next((spec for spec in terms.sla if spec.code == code), None)


def vendor_scorecard(
    vendor: Vendor,
    since: datetime,
    until: datetime,
    milestones: QuerySet[Milestone] | None = None,
) -> list[ScoreLine]:
    """Per benefit and milestone code, the vendor's record for deadlines in [since, until),
    among ``milestones`` (an insurer's, for its staff; default all).

    Counts are aggregated in the database (one query); the elapsed times of the met ones
    are read in one more and measured on the working calendar in Python, because working
    time cannot be summed in SQL. Five queries whatever the volume."""
    decided = (Milestone.objects.all() if milestones is None else milestones).filter(
        request__vendor=vendor,
        state__in=[State.MET, State.BREACHED],
        due_at__gte=since,
        due_at__lt=until,
    )
    counts = list(
        decided.values("request__benefit_id", "code")
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(state=State.MET)))
        .order_by("request__benefit_id", "code")
    )
    if not counts:
        return []
    done: dict[tuple[int, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for benefit_id, code, started_at, met_at in decided.filter(
        met_at__isnull=False, started_at__isnull=False
    ).values_list("request__benefit_id", "code", "started_at", "met_at"):
        assert started_at is not None and met_at is not None  # both filtered non-null above
        done[(benefit_id, code)].append((started_at, met_at))
    benefits = Benefit.objects.only("code", "name", "terms").in_bulk(
        {row["request__benefit_id"] for row in counts}
    )
    working_calendar: WorkingCalendar | None = None
    lines = []
    for row in counts:
        benefit = benefits[row["request__benefit_id"]]
        terms = benefit.parsed_terms
        spec = _spec(terms, row["code"])
        key = (benefit.pk, row["code"])
        average = None
        if spec is not None and done.get(key):
            if spec.clock == "natural":
                calendar = library_calendar()  # never consulted; needs no query
            else:
                working_calendar = working_calendar or current_calendar()
                calendar = working_calendar
            average = _average_elapsed(spec, terms, done[key], calendar)
        total, on_time = row["total"], row["on_time"]
        lines.append(
            ScoreLine(
                benefit_code=benefit.code,
                benefit_name=benefit.name,
                code=row["code"],
                label=spec.label if spec else row["code"],
                target=spec.target if spec else "deadline",
                unit=_unit(spec),
                clock=spec.clock if spec else "natural",
                target_due=spec.due.amount if spec and spec.due else None,
                target_from=spec.due_from.amount if spec and spec.due_from else None,
                count=total,
                on_time=on_time,
                late=total - on_time,
                on_time_pct=(Decimal(on_time * 100) / total).quantize(ONE_DECIMAL, ROUND_HALF_UP),
                average_elapsed=average,
            )
        )
    return lines


def _unit(spec: SlaMilestone | None) -> TimeUnit:
    if spec is None or spec.due is None or spec.due.unit not in MEASURABLE_UNITS:
        return "days"
    return spec.due.unit


def _average_elapsed(
    spec: SlaMilestone,
    terms: BenefitTerms,
    spans: list[tuple[datetime, datetime]],
    calendar: WorkingCalendar,
) -> Decimal:
    hours = clock_hours(spec, terms)
    unit = _unit(spec)
    total = sum(
        (elapsed(start, end, unit, spec.clock, hours, calendar) for start, end in spans),
        Decimal(0),
    )
    return (total / len(spans)).quantize(Decimal("0.01"), ROUND_HALF_UP)
