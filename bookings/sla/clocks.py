"""SLA clocks: each request carries the milestones its benefit's terms promise, each started
by one event of the request, met by another, and breached when its deadline passes first.

Lifecycle of a ``Milestone`` (driven by ``sla_on_event``, called for every recorded event):

* ``submitted`` creates every milestone of ``terms.sla`` in state *waiting*;
* the event named by ``starts_on`` starts its clock: *pending*, ``due_at`` (and ``due_from_at``
  for a printed range) on the working calendar, ``provisional`` if that rests on a year whose
  holidays are not confirmed;
* the event that fulfils it (the milestone's ``met_by`` in the terms) marks it *met*, or —
  after its deadline — *breached* with ``met_at`` kept, so KPIs see both that it was late and
  when it was done. A later event of the progress chain (``PROGRESS``) meets it as well: a
  vendor that goes straight to ``scheduled`` has necessarily contacted the customer;
* ``cancelled``, ``rejected``, ``failed`` and ``no_show`` end the request: open milestones are
  cancelled (already breached ones stay breached). On ``completed`` every pending milestone
  is met and the ones whose clock never started are cancelled. A milestone that starts on an
  event no transition records yet (``discharge_notified``) waits and is cancelled so.

Everything about a particular milestone is in the terms (``benefits.terms.sla.SlaMilestone``,
documented in ``benefits/catalogue/FORMAT.md``): which event meets it, ``tracked: false`` for
a promise no event reports (the request does not carry it), and ``alternative`` for variants
of one promise printed side by side for circumstances the request does not record. When an
alternative group's clocks start, one variant is kept and the others are cancelled, by the
group's ``choice``: the variant whose business hours contain the start (``inside_hours``),
the first listed (``ordinary``), or the latest deadline (``most_lenient``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from benefits.calendar.durations import duration_after
from benefits.calendar.selectors import current_calendar
from benefits.calendar.workcalendar import (
    Deadline,
    WorkingCalendar,
    add_working_time,
    working_time_between,
)
from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.sla import SlaMilestone, sla_alternative_groups
from benefits.terms.timing import BusinessHours, Duration
from benefits.terms.vocabulary import PROGRESS_EVENTS, AlternativeChoice
from bookings.lifecycle.workflow import ENDED_WITHOUT_SERVICE, TRANSITIONS
from bookings.models import Milestone, RequestEvent, ServiceRequest
from portal.kernel.clock import SHANGHAI

logger = logging.getLogger(__name__)

State = Milestone.State

# The order of a request's progress events (``PROGRESS_EVENTS``, in the terms): reaching one
# implies the earlier ones (approval needs complete records, an appointment needs a contact).
PROGRESS = PROGRESS_EVENTS
# SLA targets measured for the KPI only, never breached: an estimate ("预计当日送达") and the
# fastest the vendor can do ("最快12工作小时").
NEVER_BREACHED = ("estimate", "fastest")


def reaches(event: str, met_by: str) -> bool:
    """Does ``event`` fulfil a milestone met by ``met_by`` (itself or a later progress step)?"""
    if event == met_by:
        return True
    return (
        event in PROGRESS and met_by in PROGRESS and PROGRESS.index(event) > PROGRESS.index(met_by)
    )


# --- clocks ---------------------------------------------------------------------------------


def clock_hours(spec: SlaMilestone, terms: BenefitTerms) -> BusinessHours | None:
    """The business hours a milestone's working clock runs in: its own, else the benefit's.

    Working *days* are statutory working days whatever days the service is staffed: 中宏's
    "2个工作日" does not become two calendar days because its hotline answers 7×24. The
    hours still say when such a day ends (平安: 21:00)."""
    hours = spec.business_hours or terms.service_hours
    if spec.clock != "working" or spec.unit != "days" or hours is None:
        return hours
    if hours.days == "working_days":
        return hours
    return hours.model_copy(update={"days": "working_days"})


def _add(
    start: datetime,
    duration: Duration,
    spec: SlaMilestone,
    terms: BenefitTerms,
    calendar: WorkingCalendar,
) -> Deadline:
    return duration_after(start, duration, calendar=calendar, hours=clock_hours(spec, terms))


@dataclass(frozen=True)
class Clock:
    due: Deadline
    due_from: Deadline | None


def milestone_clock(
    spec: SlaMilestone, terms: BenefitTerms, start: datetime, calendar: WorkingCalendar
) -> Clock:
    """When a milestone started at ``start`` is due (and, for a printed range, its lower
    bound)."""
    if spec.due is None:  # same_day: "就诊当日" is any time on the day the clock starts
        day = start.astimezone(SHANGHAI).date()
        return Clock(Deadline(_midnight_after(day), provisional=False), None)
    due = _add(start, spec.due, spec, terms, calendar)
    if spec.due_end_of_day:
        # "最晚次日达": any time on the day the duration reaches is in time.
        due = Deadline(_midnight_after(due.due.astimezone(SHANGHAI).date()), due.provisional)
    due_from = _add(start, spec.due_from, spec, terms, calendar) if spec.due_from else None
    return Clock(due, due_from)


def _midnight_after(day: date) -> datetime:
    """The end of a Shanghai day: the next day's midnight (due instants are in time)."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)


def _inside_hours(spec: SlaMilestone, terms: BenefitTerms, start: datetime) -> bool:
    hours = clock_hours(spec, terms)
    if hours is None:
        return True
    local = start.astimezone(SHANGHAI).time()
    end = time.max if hours.end == "24:00" else time.fromisoformat(hours.end)
    return time.fromisoformat(hours.start) <= local < end


def _choose(
    choice: AlternativeChoice,
    present: Sequence[str],
    started: dict[str, tuple[SlaMilestone, Clock]],
    terms: BenefitTerms,
    start: datetime,
) -> str:
    """The variant of an alternative group to keep among ``present`` (its started
    milestones, in the order the terms list them)."""
    if choice == "inside_hours":
        # The first variant whose hours contain the start, else the last (the off-hours one).
        inside = (c for c in present[:-1] if _inside_hours(started[c][0], terms, start))
        return next(inside, present[-1])
    if choice == "ordinary":
        return present[0]
    return max(present, key=lambda code: started[code][1].due.due)


# --- following the request --------------------------------------------------------------------


def milestones_create(request: ServiceRequest, terms: BenefitTerms) -> list[Milestone]:
    """The request's milestones from its benefit's terms, all waiting for their start.
    Milestones the terms mark ``tracked: false`` (no event reports them) are left out."""
    rows = []
    for spec in terms.sla:
        met_by = spec.met_by  # None only when tracked is false: the terms refuse the rest
        if met_by is None:
            continue
        rows.append(
            Milestone(
                request=request,
                code=spec.code,
                label=spec.label[:120],
                starts_on=spec.starts_on,
                met_by=met_by,
                target=spec.target,
                clause=spec.clause,
            )
        )
    return Milestone.objects.bulk_create(rows, ignore_conflicts=True)


def sla_on_event(
    request: ServiceRequest, event: RequestEvent, *, calendar: WorkingCalendar | None = None
) -> None:
    """Move the request's milestones for ``event``: create them on submission, meet the
    pending ones it fulfils, start the ones it starts, close them when the request ends.

    Runs inside the transaction that recorded the event (``request_event``); every state
    change is a conditional UPDATE, so a scanner breaching the same row concurrently is
    never overwritten blindly."""
    terms = request.benefit.parsed_terms
    if event.event == "submitted":
        milestones_create(request, terms)
    open_rows = list(
        Milestone.objects.filter(request=request, state__in=[State.WAITING, State.PENDING])
    )
    if not open_rows:
        return
    _pause_or_resume(open_rows, terms, event, calendar)
    # Met first: a clock this event starts is not also stopped by it.
    for row in open_rows:
        if row.state == State.PENDING and reaches(event.event, row.met_by):
            milestone_meet(row, event.at)
    waiting = [r for r in open_rows if r.state == State.WAITING and r.starts_on == event.event]
    if waiting:
        _start(waiting, terms, event.at, calendar or current_calendar())
    if event.event in ENDED_WITHOUT_SERVICE or event.event == "completed":
        Milestone.objects.filter(
            request=request,
            state__in=[State.WAITING, State.PENDING]
            if event.event in ENDED_WITHOUT_SERVICE
            else [State.WAITING],
        ).update(state=State.CANCELLED)


def _pause_or_resume(
    rows: Sequence[Milestone],
    terms: BenefitTerms,
    event: RequestEvent,
    calendar: WorkingCalendar | None,
) -> None:
    """Stop the clocks whose terms pause on ``event`` (``paused_by``: waiting for the member,
    an investigation) and restart the paused ones on the request's next step, their
    deadline moved by the time they stood still on their own clock (a night's wait adds no
    working hour). A record uploaded or removed, a rating or a review's decision is no step:
    the clock stays stopped."""
    specs = {spec.code: spec for spec in terms.sla}
    for row in rows:
        spec = specs.get(row.code)
        if row.state != State.PENDING or spec is None or row.due_at is None:
            continue
        if (
            row.paused_at is not None
            and event.event in TRANSITIONS
            and event.event not in spec.paused_by
        ):
            due = _moved_by_pause(row, spec, terms, event.at, calendar or current_calendar())
            Milestone.objects.filter(pk=row.pk, state=State.PENDING).update(
                due_at=due, paused_at=None
            )
            row.due_at, row.paused_at = due, None
        elif row.paused_at is None and event.event in spec.paused_by:
            Milestone.objects.filter(pk=row.pk, state=State.PENDING).update(paused_at=event.at)
            row.paused_at = event.at


def _moved_by_pause(
    row: Milestone,
    spec: SlaMilestone,
    terms: BenefitTerms,
    resumed_at: datetime,
    calendar: WorkingCalendar,
) -> datetime:
    assert row.paused_at is not None and row.due_at is not None
    if resumed_at <= row.paused_at:
        return row.due_at
    if spec.clock == "natural":
        return row.due_at + (resumed_at - row.paused_at)
    hours = clock_hours(spec, terms)
    stood_still = working_time_between(row.paused_at, resumed_at, hours, calendar)
    if not stood_still:
        return row.due_at
    return add_working_time(row.due_at, stood_still, hours, calendar).due


def _start(
    rows: Sequence[Milestone], terms: BenefitTerms, at: datetime, calendar: WorkingCalendar
) -> None:
    specs = {spec.code: spec for spec in terms.sla}
    started: dict[str, tuple[SlaMilestone, Clock]] = {}
    for row in rows:
        spec = specs.get(row.code)
        if spec is None:  # the terms dropped it since submission: nothing to measure
            continue
        try:
            started[row.code] = (spec, milestone_clock(spec, terms, at, calendar))
        except ValueError:
            # A duration the calendar cannot count (half a working day, beyond the horizon)
            # is a catalogue error to fix; it must not stop the request itself.
            logger.exception("SLA clock %s of request %s cannot start", row.code, row.request_id)
    dropped: set[str] = set()
    for variants in sla_alternative_groups(terms.sla).values():
        present = [spec.code for spec in variants if spec.code in started]
        if len(present) > 1 and variants[0].alternative is not None:
            kept = _choose(variants[0].alternative.choice, present, started, terms, at)
            dropped.update(code for code in present if code != kept)
    for row in rows:
        if row.code in dropped or row.code not in specs:
            Milestone.objects.filter(pk=row.pk, state=State.WAITING).update(state=State.CANCELLED)
            continue
        if row.code not in started:
            continue
        clock = started[row.code][1]
        Milestone.objects.filter(pk=row.pk, state=State.WAITING).update(
            state=State.PENDING,
            started_at=at,
            due_at=clock.due.due,
            due_from_at=clock.due_from.due if clock.due_from else None,
            provisional=clock.due.provisional,
        )


def milestone_meet(row: Milestone, at: datetime) -> None:
    """Record that ``row`` was fulfilled at ``at``: met if in time, else breached with the
    moment it was done. A scanner may have breached it already; on time still wins."""
    unmet = Milestone.objects.filter(
        pk=row.pk, state__in=[State.PENDING, State.BREACHED], met_at__isnull=True
    )
    # A late estimate is still met: ``met_at`` after ``due_at`` tells the KPI it was late.
    if row.due_at is None or at <= row.due_at or row.target in NEVER_BREACHED:
        unmet.update(state=State.MET, met_at=at, breached_at=None)
    else:
        unmet.update(state=State.BREACHED, met_at=at, breached_at=Coalesce(F("breached_at"), at))


# --- the calendar changed --------------------------------------------------------------------

# Rows read per batch when recomputing: the recomputation runs in a worker, and batches keep
# each transaction short while an admin confirms a year.
RECOMPUTE_BATCH = 500


def _year_bounds(years: Iterable[int]) -> tuple[datetime, datetime]:
    first, last = min(years), max(years)
    return (
        datetime(first, 1, 1, tzinfo=SHANGHAI),
        datetime(last + 1, 1, 1, tzinfo=SHANGHAI),
    )


def sla_recompute(years: Iterable[int], *, calendar: WorkingCalendar | None = None) -> int:
    """Recompute the deadlines of pending milestones whose clocks run through ``years``
    (started before the last one ends, due after the first one begins): a clock that never
    looked at those days cannot have moved. Returns how many deadlines changed."""
    years = sorted(set(years))
    if not years:
        return 0
    calendar = calendar or current_calendar()
    begins, ends = _year_bounds(years)
    pending = (
        Milestone.objects.filter(state=State.PENDING, started_at__lt=ends, due_at__gte=begins)
        .select_related("request__benefit")
        .order_by("pk")
    )
    terms_by_benefit: dict[int, BenefitTerms] = {}
    changed = 0
    last_pk = 0
    while True:
        batch = list(pending.filter(pk__gt=last_pk)[:RECOMPUTE_BATCH])
        if not batch:
            return changed
        last_pk = batch[-1].pk
        with transaction.atomic():
            for row in batch:
                benefit = row.request.benefit
                terms = terms_by_benefit.setdefault(benefit.pk, benefit.parsed_terms)
                spec = next((s for s in terms.sla if s.code == row.code), None)
                if spec is None or row.started_at is None:
                    continue
                clock = milestone_clock(spec, terms, row.started_at, calendar)
                due_from = clock.due_from.due if clock.due_from else None
                if (row.due_at, row.due_from_at, row.provisional) == (
                    clock.due.due,
                    due_from,
                    clock.due.provisional,
                ):
                    continue
                changed += Milestone.objects.filter(pk=row.pk, state=State.PENDING).update(
                    due_at=clock.due.due, due_from_at=due_from, provisional=clock.due.provisional
                )
    return changed


# --- the scanner -----------------------------------------------------------------------------

# A milestone is "due soon" once a quarter of its clock is left, but never more than an hour
# ahead: the scan then reads only the index range (state='pending', due_at <= now + 1 h), so
# its cost follows what is due, not how many milestones are open. Scanning every 5 minutes,
# a clock shorter than 20 minutes may breach before it is warned: its breach is reported.
WARNING_FRACTION = 0.25
WARNING_MAX_LEAD = timedelta(hours=1)
# Rows claimed per transaction: one notification batch, short write transactions.
SCAN_BATCH = 500


@dataclass(frozen=True)
class ScanResult:
    warned: int
    breached: int


def breach_candidates(now: datetime) -> QuerySet[Milestone]:
    """Pending milestones whose deadline has passed, oldest first (index state, due_at).
    An estimate ("预计当日送达") or a fastest time is measured, never breached; a paused clock
    (``paused_by``) is not running. A milestone is not late at its due
    instant itself: ``milestone_meet`` counts fulfilling it then as on time, so the scan must
    not notify a breach at that instant."""
    return (
        Milestone.objects.filter(state=State.PENDING, due_at__lt=now, paused_at__isnull=True)
        .exclude(target__in=NEVER_BREACHED)
        .order_by("due_at")
    )


def warning_candidates(now: datetime) -> QuerySet[Milestone]:
    """Pending, not yet warned, due within the largest warning lead (index state, due_at)."""
    return Milestone.objects.filter(
        state=State.PENDING,
        paused_at__isnull=True,
        due_at__gt=now,
        due_at__lte=now + WARNING_MAX_LEAD,
        warned_at__isnull=True,
    ).order_by("due_at")


def warning_lead(row: Milestone) -> timedelta:
    span = row.due_at - row.started_at if row.due_at and row.started_at else WARNING_MAX_LEAD
    return min(span * WARNING_FRACTION, WARNING_MAX_LEAD)


def sla_scan(now: datetime) -> ScanResult:
    """Breach what is overdue, warn what is due soon; notify the assigned vendor and the
    insurer's operations once per milestone. Each row is claimed with a conditional UPDATE
    (``WHERE state='pending'`` / ``warned_at IS NULL``) and only the scanner whose update
    changed it notifies, so two scanners never notify twice and a second run changes
    nothing."""
    from bookings.messages.notifications import notify_milestones

    def breach(row: Milestone) -> bool:
        claimed = Milestone.objects.filter(pk=row.pk, state=State.PENDING).update(
            state=State.BREACHED, breached_at=now
        )
        return claimed == 1

    def warn(row: Milestone) -> bool:
        if row.due_at is None or row.due_at - now > warning_lead(row):
            return False
        claimed = Milestone.objects.filter(
            pk=row.pk, state=State.PENDING, warned_at__isnull=True
        ).update(warned_at=now)
        return claimed == 1

    breached = _claim_all(
        breach_candidates(now), breach, lambda rows: notify_milestones(rows, kind="breach")
    )
    warned = _claim_all(
        warning_candidates(now), warn, lambda rows: notify_milestones(rows, kind="warning")
    )
    return ScanResult(warned=warned, breached=breached)


def _claim_all(
    candidates: QuerySet[Milestone],
    claim: Callable[[Milestone], bool],
    notify: Callable[[list[Milestone]], None],
) -> int:
    """Claim candidates batch by batch and notify what this caller claimed, in the batch's
    transaction. Pages by (due_at, pk) from the last row seen, so rows left unclaimed (not
    yet in their warning lead) are not read again in this run."""
    base = candidates.select_related("request__benefit", "request__vendor").order_by("due_at", "pk")
    page = base
    claimed_total = 0
    while True:
        batch = list(page[:SCAN_BATCH])
        if not batch:
            return claimed_total
        with transaction.atomic():
            claimed = [row for row in batch if claim(row)]
            if claimed:
                notify(claimed)
        claimed_total += len(claimed)
        if len(batch) < SCAN_BATCH:
            return claimed_total
        last = batch[-1]
        # due_at >= last keeps the (state, due_at) index range; the OR only breaks ties.
        page = base.filter(due_at__gte=last.due_at).filter(
            Q(due_at__gt=last.due_at) | Q(pk__gt=last.pk)
        )
