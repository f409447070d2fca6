"""Does the quota ledger reconcile? ``benefits.quota.reconcile.ledger_reconcile`` checks that
every balance equals the sum of its entries and that no request holds a negative amount; this
command adds what only the site can see across apps: no quota is still held for a request
that is closed (completed, cancelled, rejected, failed, no-show). One aggregate query each.

Prints every problem (the first ones) and exits 1 if any. Run after the load test
(``tests/ops/loadtest.py``) and whenever an incident touched the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from benefits.models import QuotaBalance, QuotaLedgerEntry
from benefits.quota.reconcile import SHOW, ledger_reconcile
from bookings.lifecycle.models import OPEN_STATUSES
from bookings.models import ServiceRequest

Kind = QuotaLedgerEntry.Kind


def held_for_closed_requests() -> list[str]:
    """One line per closed request whose holds are not all released or used."""
    closed = ServiceRequest.objects.exclude(status__in=OPEN_STATUSES).values("ref")
    held = (
        QuotaLedgerEntry.objects.filter(request_ref__in=closed)
        .values("request_ref")
        .annotate(
            net=Coalesce(Sum("amount", filter=Q(kind=Kind.HOLD)), Decimal(0))
            - Coalesce(Sum("amount", filter=Q(kind__in=[Kind.RELEASE, Kind.USE])), Decimal(0))
        )
        .filter(net__gt=0)
        .order_by("request_ref")
        .values_list("request_ref", "net")
    )
    statuses = dict(
        ServiceRequest.objects.filter(ref__in=[ref for ref, _ in held[:SHOW]]).values_list(
            "ref", "status"
        )
    )
    return [
        f"申请 {ref}（{statuses[ref]}）已结束，仍占用 {Decimal(str(net)).normalize():f}"
        for ref, net in held[:SHOW]
    ]


class Command(BaseCommand):
    help = "额度流水对账：每个额度余额等于其流水之和；已结束的申请不再占用额度"

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_reconcile() + held_for_closed_requests()
        for problem in problems:
            self.stdout.write(f"  {problem}")
        self.stdout.write(
            f"额度流水对账：{QuotaBalance.objects.count()} 个余额、"
            f"{QuotaLedgerEntry.objects.count()} 条流水，发现问题 {len(problems)} 个"
        )
        if problems:
            raise CommandError("额度流水对账不一致")
        self.stdout.write("对账一致")
