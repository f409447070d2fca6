"""What the policyholder's request page shows: what they submitted, how far the request has
come (the lifecycle's ``PROGRESS``), who serves them and how to reach them, the promises
with their state, the timeline (one row per event) and the records they may take back.

Queries: the request with its benefit, vendor, region, policy, product and insurer (one,
made by the caller), events, documents, milestones, rating: a fixed number whatever the
request's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from bookings.documents.services import document_removable
from bookings.lifecycle.rating import can_rate
from bookings.lifecycle.workflow import PROGRESS, TRANSITIONS
from bookings.models import Document, Milestone, Rating, RequestEvent, ServiceRequest, Status

# The steps the progress bar shows: submitted, then the delivery chain. ``contacted`` and
# ``plan_confirmed`` are steps the vendor may report; a later step implies them.
STEPS = ("submitted", *PROGRESS)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


@dataclass(frozen=True)
class Step:
    label: object
    state: str  # done, current, todo


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Promise:
    label: str
    state: str  # the Milestone.State value
    state_label: str
    due_at: datetime | None
    provisional: bool
    met_at: datetime | None

    @property
    def open(self) -> bool:
        """Still running: the page lists a deadline only for these."""
        return self.state in (Milestone.State.PENDING, Milestone.State.WAITING)


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    removable: bool
    image: bool


@dataclass(frozen=True)
class RequestPage:
    item: ServiceRequest
    steps: list[Step]
    ended_label: str  # "" while the request can still go on, else how it ended
    submitted: list[Fact]
    vendor_name: str
    vendor_hotline: str
    insurer_name: str
    insurer_hotline: str
    promises: list[Promise]
    events: list[RequestEvent]
    documents: list[DocumentRow]
    rating: Rating | None
    can_rate: bool


def request_page(item: ServiceRequest, *, user_id: int | None) -> RequestPage:
    events = timeline(list(item.events.all()))
    insurer = item.policy.product.insurer
    serving = item.vendor if item.vendor is not None and item.is_open else None
    rating = Rating.objects.filter(request=item).first()
    return RequestPage(
        item=item,
        steps=progress_steps(item, {e.event for e in events}),
        ended_label=""
        if item.is_open or item.status == Status.COMPLETED
        else item.get_status_display(),
        submitted=submitted_facts(item),
        vendor_name=serving.name if serving else "",
        vendor_hotline=serving.hotline if serving else "",
        insurer_name=insurer.name,
        insurer_hotline=insurer.hotline,
        promises=[_promise(m) for m in item.milestones.all()],
        events=events,
        documents=[
            DocumentRow(
                d,
                removable=document_removable(d, user_id=user_id),
                image=d.content_type in IMAGE_TYPES and not d.flags,
            )
            for d in item.documents.all()
        ],
        rating=rating,
        can_rate=rating is None and can_rate(item),
    )


def progress_steps(item: ServiceRequest, events: set[str]) -> list[Step]:
    """Every step up to the furthest one reached is done (a booked request was planned even
    if the vendor did not say so); the next one is current while the request is open."""
    furthest = max((STEPS.index(e) for e in events if e in STEPS), default=0)
    if item.status == Status.COMPLETED:
        furthest = len(STEPS) - 1
    steps = []
    for index, code in enumerate(STEPS):
        if index <= furthest:
            state = "done"
        elif index == furthest + 1 and item.is_open:
            state = "current"
        else:
            state = "todo"
        steps.append(Step(TRANSITIONS[code].label, state))
    return steps


def timeline(events: list[RequestEvent]) -> list[RequestEvent]:
    """One row per event: a repeat of the same report (a vendor's retried "contacted", a
    second identical assignment) that changed nothing is left out."""
    seen: set[tuple[str, str, str, str]] = set()
    rows = []
    for event in events:
        key = (event.event, event.to_status, event.reason, repr(sorted(event.data.items())))
        changed = event.from_status != event.to_status
        if key in seen and not changed:
            continue
        seen.add(key)
        rows.append(event)
    return rows


def submitted_facts(item: ServiceRequest) -> list[Fact]:
    """What the policyholder told us, in their words, in the order the form asks."""
    facts: list[Fact] = []

    def add(label: str, value: Any) -> None:
        if value not in (None, ""):
            facts.append(Fact(label, str(value)))

    add(_("服务对象"), item.recipient.person.name)
    add(_("所选项目"), item.option)
    add(_("服务城市"), item.region.name if item.region else "")
    add(_("医院"), item.hospital)
    add(_("期望服务时间"), _datetime_text(item.planned_at))
    stay = item.context.get("hospitalisation") or {}
    add(_("入院日期"), _date_text(stay.get("admitted_on")))
    add(_("出院日期"), _date_text(stay.get("discharged_on")))
    add(_("疾病"), (item.context.get("diagnosis") or {}).get("disease"))
    add(_("服务地点"), item.context.get("site"))
    add(_("天数"), item.context.get("days"))
    add(_("备注"), item.note)
    return facts


def _date_text(value: str | None) -> str:
    parsed: date | None = parse_date(value) if value else None
    return f"{parsed.year}年{parsed.month}月{parsed.day}日" if parsed else ""


def _datetime_text(value: datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _promise(milestone: Milestone) -> Promise:
    return Promise(
        label=milestone.label,
        state=milestone.state,
        state_label=milestone.get_state_display(),
        due_at=milestone.due_at,
        provisional=milestone.provisional,
        met_at=milestone.met_at,
    )
