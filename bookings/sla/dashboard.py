"""What the insurer's SLA dashboard shows: how many open requests are late, due today, due
within a day or on provisional deadlines; the most urgent pending promises; and each
vendor's scorecard for a period.

Every function takes ``now`` (or the period) explicitly; the admin view passes
``timezone.now()``. "Today" is the day in Asia/Shanghai, whatever the server's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, QuerySet

from benefits.calendar.selectors import current_calendar
from benefits.calendar.workcalendar import years_needing_confirmation
from benefits.models import Product, Vendor
from bookings.models import OPEN_STATUSES, Milestone, Rating
from bookings.settlement.cost_cap import CostRatio, cost_cap_warnings
from bookings.sla.selectors import ONE_DECIMAL, ScoreLine, vendor_scorecard
from portal.kernel.clock import SHANGHAI

State = Milestone.State
URGENT_LIMIT = 20
# The same horizon as the queue's "24小时内到期" filter (bookings.admin.DeadlineFilter).
SOON = timedelta(hours=24)
# Upper bound of the queries ``vendor_scorecard`` makes for one vendor: counts, the met
# rows' times, the benefits, and the working calendar's days and years.
QUERIES_PER_VENDOR = 5


@dataclass(frozen=True)
class DeadlineCounts:
    """Requests (not milestones: a request late on two promises is one late request)."""

    breached: int  # open, with at least one breached milestone
    due_today: int  # a pending milestone due before midnight, Asia/Shanghai
    due_soon: int  # a pending milestone due within 24 hours
    provisional: int  # a pending milestone whose deadline rests on an unconfirmed year


@dataclass(frozen=True)
class UrgentMilestone:
    request_id: int
    ref: str
    benefit_name: str
    vendor_name: str | None  # None: not assigned yet
    label: str
    due_at: datetime
    provisional: bool
    # Negative once the deadline has passed (the scanner breaches it within minutes).
    remaining: timedelta


@dataclass(frozen=True)
class VendorScorecard:
    vendor_id: int
    vendor_name: str
    lines: list[ScoreLine]
    # The policyholders' ratings of requests this vendor delivered, rated in the period.
    rating_count: int = 0
    rating_avg: Decimal | None = None

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def on_time(self) -> int:
        return sum(line.on_time for line in self.lines)

    @property
    def on_time_pct(self) -> Decimal:
        return (Decimal(self.on_time * 100) / self.count).quantize(ONE_DECIMAL, ROUND_HALF_UP)


@dataclass(frozen=True)
class SlaDashboard:
    now: datetime
    counts: DeadlineCounts
    unconfirmed_years: list[int]
    urgent: list[UrgentMilestone]
    since: datetime
    until: datetime
    scorecards: list[VendorScorecard]
    # Products whose services are projected past 20 % of the net premium this year.
    cost_warnings: list[CostRatio]


def end_of_day(now: datetime) -> datetime:
    """Midnight after ``now`` in Asia/Shanghai."""
    today = now.astimezone(SHANGHAI).date()
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=SHANGHAI)


def deadline_counts(now: datetime, milestones: QuerySet[Milestone] | None = None) -> DeadlineCounts:
    """The four numbers at the top of the dashboard, in one query. Each matches what the
    queue's deadline filter lists for the same ``now`` (breached restricted to open
    requests, as the dashboard links it)."""
    pending = Q(state=State.PENDING)
    totals = (
        _all(milestones)
        .filter(pending | Q(state=State.BREACHED, request__status__in=OPEN_STATUSES))
        .aggregate(
            breached=Count("request", distinct=True, filter=Q(state=State.BREACHED)),
            due_today=Count(
                "request", distinct=True, filter=pending & Q(due_at__lt=end_of_day(now))
            ),
            due_soon=Count("request", distinct=True, filter=pending & Q(due_at__lte=now + SOON)),
            provisional=Count("request", distinct=True, filter=pending & Q(provisional=True)),
        )
    )
    return DeadlineCounts(**totals)


def urgent_milestones(
    now: datetime, limit: int = URGENT_LIMIT, milestones: QuerySet[Milestone] | None = None
) -> list[UrgentMilestone]:
    """The pending milestones due first (overdue ones the scanner has not breached yet come
    first of all), in one query along the (state, due_at) index."""
    rows = (
        _all(milestones)
        .filter(state=State.PENDING, due_at__isnull=False)
        .select_related("request__benefit", "request__vendor")
        .only(
            "label",
            "due_at",
            "provisional",
            "request__ref",
            "request__benefit__name",
            "request__vendor__name",
        )
        .order_by("due_at", "pk")[:limit]
    )
    urgent = []
    for row in rows:
        due_at = row.due_at
        assert due_at is not None  # filtered due_at__isnull=False above
        urgent.append(
            UrgentMilestone(
                request_id=row.request_id,
                ref=row.request.ref,
                benefit_name=row.request.benefit.name,
                vendor_name=row.request.vendor.name if row.request.vendor else None,
                label=row.label,
                due_at=due_at,
                provisional=row.provisional,
                remaining=due_at - now,
            )
        )
    return urgent


def unconfirmed_years(today: date) -> list[int]:
    """This year and the next, if their holidays are not confirmed (two queries)."""
    return years_needing_confirmation(current_calendar(), today)


def scorecard_vendors(
    since: datetime, until: datetime, milestones: QuerySet[Milestone] | None = None
) -> list[Vendor]:
    """Vendors with at least one decided milestone due in [since, until): exactly those whose
    scorecard is not empty, so the page never pays for a vendor it shows nothing for."""
    decided = (
        _all(milestones)
        .filter(
            state__in=[State.MET, State.BREACHED],
            due_at__gte=since,
            due_at__lt=until,
            request__vendor__isnull=False,
        )
        .values("request__vendor")
    )
    return list(Vendor.objects.filter(pk__in=decided).only("name").order_by("name", "pk"))


def vendor_scorecards(
    since: datetime, until: datetime, milestones: QuerySet[Milestone] | None = None
) -> list[VendorScorecard]:
    """One scorecard per vendor active in the period: one query for the vendors, then at
    most ``QUERIES_PER_VENDOR`` each (``vendor_scorecard`` reads the calendar itself)."""
    ratings = vendor_ratings(since, until, milestones)
    cards = []
    for vendor in scorecard_vendors(since, until, milestones):
        lines = vendor_scorecard(vendor, since, until, milestones)
        if lines:
            count, average = ratings.get(vendor.pk, (0, None))
            cards.append(VendorScorecard(vendor.pk, vendor.name, lines, count, average))
    return cards


def vendor_ratings(
    since: datetime, until: datetime, milestones: QuerySet[Milestone] | None = None
) -> dict[int, tuple[int, Decimal]]:
    """Count and average stars per vendor of the ratings given in [since, until], in one
    query; restricted to the requests of the visible milestones when those are given."""
    rows = Rating.objects.filter(created_at__gte=since, created_at__lte=until, vendor__isnull=False)
    if milestones is not None:
        rows = rows.filter(request__in=milestones.values("request"))
    return {
        row["vendor"]: (
            row["count"],
            Decimal(row["average"]).quantize(ONE_DECIMAL, ROUND_HALF_UP),
        )
        for row in rows.values("vendor").annotate(count=Count("id"), average=Avg("stars"))
    }


def _all(milestones: QuerySet[Milestone] | None) -> QuerySet[Milestone]:
    return Milestone.objects.all() if milestones is None else milestones


def sla_dashboard(
    *,
    now: datetime,
    days: int,
    milestones: QuerySet[Milestone] | None = None,
    products: QuerySet[Product] | None = None,
) -> SlaDashboard:
    """Everything the dashboard shows; the scorecards cover the ``days`` before ``now``.
    ``milestones`` and ``products``: the ones the viewer may see (their insurers'); default
    all. Queries: 1 (counts) + 2 (calendar) + 1 (urgent) + 1 (ratings) + 1 (vendors) + at
    most ``QUERIES_PER_VENDOR`` per vendor with decided milestones in the period + 4 (the
    products, their cost, policies and premiums: the cost-cap warning)."""
    since = now - timedelta(days=days)
    visible = list(Product.objects.all() if products is None else products)
    return SlaDashboard(
        now=now,
        counts=deadline_counts(now, milestones),
        unconfirmed_years=unconfirmed_years(now.astimezone(SHANGHAI).date()),
        urgent=urgent_milestones(now, milestones=milestones),
        since=since,
        until=now,
        scorecards=vendor_scorecards(since, now, milestones),
        cost_warnings=cost_cap_warnings(visible, today=now.astimezone(SHANGHAI).date()),
    )
