"""Reads of complaints: one staff user's (tenancy), one person's in the portal, and the
report per vendor and per benefit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from benefits.models import Person
from bookings.complaints.clock import days_taken
from bookings.models import Complaint
from portal.kernel.errors import NotFound
from portal.kernel.tenancy import scope

Status = Complaint.Status


def staff_complaints(user: Any) -> QuerySet[Complaint]:
    return scope(Complaint.objects.all(), user)


def staff_complaint(user: Any, ref: str) -> Complaint:
    """One complaint of the user's insurers with what its answer shows; 404 otherwise."""
    found = (
        staff_complaints(user)
        .select_related("policy", "person", "request", "benefit", "vendor", "assignee")
        .prefetch_related("replies")
        .filter(ref=ref)
        .first()
    )
    if found is None:
        raise NotFound("投诉不存在")
    return found


def complaints_for(person: Person) -> QuerySet[Complaint]:
    """The person's own complaints (filed in the portal or recorded from their call), newest
    first, with the request and the replies: two queries."""
    return (
        Complaint.objects.filter(person=person)
        .select_related("request__benefit", "benefit")
        .prefetch_related("replies")
        .order_by("-received_at", "-id")
    )


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    key: int | None  # vendor or benefit id; None: none named
    name: str
    total: int
    open: int
    overdue: int  # open and past the deadline
    closed_late: int
    average_days: Decimal | None  # natural days from receipt to decision, closed ones


@dataclass(frozen=True)
class ComplaintReport:
    by_vendor: list[ReportLine]
    by_benefit: list[ReportLine]


def _lines(
    queryset: QuerySet[Complaint], key: str, name: str, now: datetime, days: dict[Any, list[int]]
) -> list[ReportLine]:
    rows = (
        queryset.values(key, name)
        .annotate(
            total=Count("id"),
            open=Count("id", filter=Q(status=Status.OPEN)),
            overdue=Count("id", filter=Q(status=Status.OPEN, due_at__lte=now)),
            closed_late=Count("id", filter=Q(status=Status.CLOSED, closed_at__gte=F("due_at"))),
        )
        .order_by("-total", name)
    )
    lines = []
    for row in rows:
        taken = days.get(row[key], [])
        average = (
            (Decimal(sum(taken)) / len(taken)).quantize(Decimal("0.1"), ROUND_HALF_UP)
            if taken
            else None
        )
        lines.append(
            ReportLine(
                key=row[key],
                name=row[name] or "",
                total=row["total"],
                open=row["open"],
                overdue=row["overdue"],
                closed_late=row["closed_late"],
                average_days=average,
            )
        )
    return lines


def complaint_report(queryset: QuerySet[Complaint], now: datetime) -> ComplaintReport:
    """Counts, open, overdue, closed late and average days to close, per vendor and per
    benefit, of ``queryset`` (already scoped): three queries whatever the number of rows
    grouped (two aggregates, one read of the closed complaints' two instants)."""
    by_vendor: dict[Any, list[int]] = defaultdict(list)
    by_benefit: dict[Any, list[int]] = defaultdict(list)
    closed = queryset.filter(status=Status.CLOSED).values_list(
        "vendor_id", "benefit_id", "received_at", "closed_at"
    )
    for vendor_id, benefit_id, received_at, closed_at in closed:
        if closed_at is None:  # a closed complaint has its instant (database constraint)
            continue
        taken = days_taken(received_at, closed_at)
        by_vendor[vendor_id].append(taken)
        by_benefit[benefit_id].append(taken)
    return ComplaintReport(
        by_vendor=_lines(queryset, "vendor_id", "vendor__name", now, by_vendor),
        by_benefit=_lines(queryset, "benefit_id", "benefit__name", now, by_benefit),
    )
