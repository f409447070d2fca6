"""The complaint clock of 《银行业保险业消费投诉处理管理办法》(银保监会令2020年第3号), and the
SLA scan's part for complaints.

The 办法 gives its limits in 日 without saying 工作日, so they are **natural days**: 15 days
from receipt, up to 30 when the case is complex, a further 30 (60 in all) when it is
especially complex and the extension is approved internally. Following the civil-law rule
for periods counted in days (民法典 第二百零一条: the starting day is not counted), day 1 is
the day after the complaint was received, in Asia/Shanghai; the decision is in time on any
instant of the last day. A complaint received on 3 March at 23:50 is due by the end of
18 March (15 days), 2 April (30) or 2 May (60).

Not applied: 民法典 第二百零三条 moves a period's last day off a statutory holiday; the 办法 does
not say it applies, and a deadline that moves with the holiday calendar would be harder to
explain to a complainant. Deciding earlier is always in time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bookings.models import Complaint
from portal.kernel.clock import SHANGHAI

STANDARD_DAYS = 15  # 办法: 15日内作出处理决定
COMPLEX_DAYS = 30  # 情况复杂的可以延长至30日
APPROVED_DAYS = 60  # 情况特别复杂 … 经审批 … 可以再延长30日
TIME_LIMITS = (STANDARD_DAYS, COMPLEX_DAYS, APPROVED_DAYS)

# Warned once this much is left: the last three days leave time to draft the decision, have
# it approved and tell the complainant (milestones' one-hour lead suits hours, not weeks).
WARNING_LEAD = timedelta(days=3)
SCAN_BATCH = 500

Status = Complaint.Status


def received_on(received_at: datetime) -> date:
    """The day of receipt in Asia/Shanghai (not counted: day 1 is the next day)."""
    return timezone.localtime(received_at, SHANGHAI).date()


def due_day(received_at: datetime, days: int) -> date:
    """The last day in time for a limit of ``days`` natural days."""
    if days not in TIME_LIMITS:
        raise ValueError(f"complaint time limit must be one of {TIME_LIMITS}, not {days}")
    return received_on(received_at) + timedelta(days=days)


def deadline(received_at: datetime, days: int) -> datetime:
    """The first instant that is late: midnight after the last day, Asia/Shanghai."""
    return datetime.combine(due_day(received_at, days) + timedelta(days=1), time(0), SHANGHAI)


def days_taken(received_at: datetime, closed_at: datetime) -> int:
    """Natural days from receipt to the decision, counted as the limit is (same day = 0)."""
    return (received_on(closed_at) - received_on(received_at)).days


def is_late(complaint: Complaint, at: datetime) -> bool:
    return at >= complaint.due_at


# --- the scan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintScan:
    warned: int
    breached: int


def breach_candidates(now: datetime) -> QuerySet[Complaint]:
    """Open complaints past their deadline, not yet escalated (index status, due_at)."""
    return Complaint.objects.filter(
        status=Status.OPEN, due_at__lte=now, breached_at__isnull=True
    ).order_by("due_at", "pk")


def warning_candidates(now: datetime) -> QuerySet[Complaint]:
    """Open complaints within ``WARNING_LEAD`` of their deadline, not yet warned."""
    return Complaint.objects.filter(
        status=Status.OPEN,
        due_at__gt=now,
        due_at__lte=now + WARNING_LEAD,
        warned_at__isnull=True,
    ).order_by("due_at", "pk")


def complaint_scan(now: datetime) -> ComplaintScan:
    """Escalate open complaints past their deadline and warn those close to it, through the
    same operations digests as the request milestones. Each row is claimed by a conditional
    UPDATE, so two scanners never notify twice and a second run changes nothing."""
    from bookings.complaints.services import notify_complaints

    breached = _claim(
        breach_candidates(now),
        {"breached_at__isnull": True},
        {"breached_at": now},
        lambda rows: notify_complaints(rows, kind="breach"),
    )
    warned = _claim(
        warning_candidates(now),
        {"warned_at__isnull": True},
        {"warned_at": now},
        lambda rows: notify_complaints(rows, kind="warning"),
    )
    return ComplaintScan(warned=warned, breached=breached)


def _claim(
    candidates: QuerySet[Complaint],
    unclaimed: dict[str, Any],
    claim: dict[str, Any],
    notify: Callable[[list[Complaint]], None],
) -> int:
    """Claim candidates batch by batch (by pk, each batch read once) and notify what this
    caller claimed, in the batch's transaction."""
    base = candidates.select_related("benefit", "vendor")
    total = 0
    last_pk = 0
    while True:
        batch = list(base.filter(pk__gt=last_pk).order_by("pk")[:SCAN_BATCH])
        if not batch:
            return total
        last_pk = batch[-1].pk
        with transaction.atomic():
            claimed = [
                row
                for row in batch
                if Complaint.objects.filter(pk=row.pk, status=Status.OPEN, **unclaimed).update(
                    **claim
                )
                == 1
            ]
            if claimed:
                notify(claimed)
        total += len(claimed)
