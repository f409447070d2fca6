"""Does the quota ledger reconcile? Every balance must equal the sum of its entries:
granted = grants + adjustments − expiries, held = holds − releases − uses, used = uses (as
``benefits.quota.ledger.ledger_totals`` recomputes one balance), and no request may hold a
negative amount. One aggregate query per check, whatever the size of the ledger.

Used by the backup drill (a restored database must reconcile before it is trusted) and after
any incident that touched the database.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Case, DecimalField, F, Sum, Value, When
from django.db.models.functions import Coalesce

from benefits.models import QuotaBalance, QuotaLedgerEntry

Kind = QuotaLedgerEntry.Kind
_AMOUNT = DecimalField(max_digits=14, decimal_places=2)
_ZERO = Value(Decimal(0), output_field=_AMOUNT)
GRANTED: dict[str, int] = {Kind.GRANT: 1, Kind.ADJUST: 1, Kind.EXPIRE: -1}
HELD: dict[str, int] = {Kind.HOLD: 1, Kind.RELEASE: -1, Kind.USE: -1}
USED: dict[str, int] = {Kind.USE: 1}
# Problems listed at most; the count is always exact.
SHOW = 50


def _signed(prefix: str, signs: dict[str, int]) -> Coalesce:
    """Sum over entries (``prefix`` is the path to them, "" for the entries themselves) of
    their amount, each kind counted with its sign."""
    return Coalesce(
        Sum(
            Case(
                *(
                    When(**{f"{prefix}kind": kind}, then=F(f"{prefix}amount") * sign)
                    for kind, sign in signs.items()
                ),
                default=_ZERO,
                output_field=_AMOUNT,
            )
        ),
        _ZERO,
    )


def _n(value: object) -> str:
    # One spelling on SQLite (aggregates come back as int or float) and PostgreSQL.
    return format(Decimal(str(value)).normalize(), "f")


def ledger_reconcile(*, using: str = "default") -> list[str]:
    """The ledger's problems, in Chinese, one line each (empty: it reconciles), in the
    database ``using`` (a restored copy, say)."""
    wrong = (
        QuotaBalance.objects.using(using)
        .annotate(
            entries_granted=_signed("entries__", GRANTED),
            entries_held=_signed("entries__", HELD),
            entries_used=_signed("entries__", USED),
        )
        .exclude(granted=F("entries_granted"), held=F("entries_held"), used=F("entries_used"))
        .order_by("pk")
        .values_list(
            "pk", "granted", "held", "used", "entries_granted", "entries_held", "entries_used"
        )
    )
    problems = [
        f"余额 {pk}：记录 {_n(g)}/{_n(h)}/{_n(u)}，"
        f"流水 {_n(eg)}/{_n(eh)}/{_n(eu)}（额度/占用/已使用）"
        for pk, g, h, u, eg, eh, eu in wrong[:SHOW]
    ]
    if len(problems) == SHOW:
        problems.append(f"另有 {wrong.count() - SHOW} 个余额与流水不一致")
    negative = (
        QuotaLedgerEntry.objects.using(using)
        .exclude(request_ref="")
        .values("request_ref")
        .annotate(net=_signed("", HELD))
        .filter(net__lt=0)
        .order_by("request_ref")
        .values_list("request_ref", "net")
    )
    problems += [f"申请 {ref} 占用额度为负：{_n(net)}" for ref, net in negative[:SHOW]]
    return problems
