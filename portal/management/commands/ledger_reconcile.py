"""Does the quota ledger reconcile? Two checks, each one aggregate query whatever the size:

1. every balance equals the sum of its entries (granted = grants + adjustments − expiries,
   held = holds − releases − uses, used = uses), as ``benefits.quota.ledger.ledger_totals``
   recomputes it for one balance;
2. no quota is held for a request that is closed: per request, holds − releases − uses is 0
   once it is completed, cancelled, rejected, failed or a no-show, and never negative.

Prints one line per check and every mismatch (at most ``--show``); exits 1 if any. Run after
the load test (``tests/ops/loadtest.py``) and whenever an incident touched the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Case, DecimalField, F, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from benefits.models import QuotaBalance, QuotaLedgerEntry
from bookings.lifecycle.models import OPEN_STATUSES
from bookings.models import ServiceRequest

Kind = QuotaLedgerEntry.Kind
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))


def _signed(path: str, signs: dict[str, int]) -> Coalesce:
    """Sum of ``path`` (an entry amount) over entry kinds, each counted with its sign."""
    kind = path.rsplit("amount", 1)[0] + "kind"
    return Coalesce(
        Sum(
            Case(
                *(When(**{kind: name}, then=F(path) * sign) for name, sign in signs.items()),
                default=ZERO,
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        ),
        ZERO,
    )


def _n(value: Any) -> str:
    # The same text on SQLite (aggregates come back as int or float) and PostgreSQL (2 places).
    return format(Decimal(str(value)).normalize(), "f")


GRANTED: dict[str, int] = {Kind.GRANT: 1, Kind.ADJUST: 1, Kind.EXPIRE: -1}
HELD: dict[str, int] = {Kind.HOLD: 1, Kind.RELEASE: -1, Kind.USE: -1}
USED: dict[str, int] = {Kind.USE: 1}


def unbalanced() -> QuerySet[QuotaBalance]:
    """Balances whose stored totals differ from their entries'."""
    return (
        QuotaBalance.objects.annotate(
            entries_granted=_signed("entries__amount", GRANTED),
            entries_held=_signed("entries__amount", HELD),
            entries_used=_signed("entries__amount", USED),
        )
        .exclude(granted=F("entries_granted"), held=F("entries_held"), used=F("entries_used"))
        .order_by("pk")
    )


def held_for_closed_requests() -> list[tuple[str, Decimal, str]]:
    """(request ref, quota still held, status) where a closed request holds quota, or any
    request holds a negative amount."""
    nets = (
        QuotaLedgerEntry.objects.exclude(request_ref="")
        .values("request_ref")
        .annotate(net=_signed("amount", HELD))
        .exclude(net=0)
    )
    held = {row["request_ref"]: row["net"] for row in nets}
    statuses = dict(ServiceRequest.objects.filter(ref__in=list(held)).values_list("ref", "status"))
    return sorted(
        (ref, net, statuses.get(ref, "?"))
        for ref, net in held.items()
        if net < 0 or statuses.get(ref) not in OPEN_STATUSES
    )


class Command(BaseCommand):
    help = "额度流水对账：每个额度余额等于其流水之和；已结束的申请不再占用额度"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--show", type=int, default=20, help="最多列出的不一致条数")

    def handle(self, *args: Any, show: int, **options: Any) -> None:
        balances = QuotaBalance.objects.count()
        entries = QuotaLedgerEntry.objects.count()
        wrong = list(unbalanced()[:show])
        wrong_count = len(wrong) if len(wrong) < show else unbalanced().count()
        for balance in wrong:
            self.stdout.write(
                f"  余额 {balance.pk}：记录 {_n(balance.granted)}/{_n(balance.held)}/"
                f"{_n(balance.used)}，流水 {_n(balance.entries_granted)}/"  # type: ignore[attr-defined]
                f"{_n(balance.entries_held)}/{_n(balance.entries_used)}（额度/占用/已使用）"  # type: ignore[attr-defined]
            )
        self.stdout.write(
            f"余额与流水：{balances} 个余额、{entries} 条流水，不一致 {wrong_count} 个"
        )
        stuck = held_for_closed_requests()
        for ref, net, status in stuck[:show]:
            self.stdout.write(f"  申请 {ref}（{status}）仍占用 {_n(net)}")
        self.stdout.write(f"已结束的申请仍占用额度：{len(stuck)} 个")
        if wrong_count or stuck:
            raise CommandError("额度流水对账不一致")
        self.stdout.write("对账一致")
