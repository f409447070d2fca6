"""Writes to the quota ledger. Each function writes its entries and the balance change in one
transaction; holds are conditional UPDATEs, so concurrent requests can never spend the same
unit twice (the database re-checks the condition on the row it finally updates), and the
balance's CHECK constraints refuse an over-grant from any code path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from benefits.models import Benefit, Person, Policy, QuotaBalance, QuotaLedgerEntry
from portal.kernel.actor import SYSTEM, Actor
from portal.kernel.errors import DomainError


class QuotaExhausted(DomainError):
    def __init__(self, balance: QuotaBalance, amount: Decimal):
        unit = QuotaBalance.Measure(balance.measure).label
        super().__init__(
            "quota_exhausted",
            f"权益额度不足：本期剩余{_fmt(balance.remaining)}{unit}，本次需要{_fmt(amount)}{unit}",
        )


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class PoolKey:
    benefit: Benefit
    policy: Policy
    person: Person | None  # None: shared by the family policy
    pool_kind: str
    measure: str
    period_key: str
    period_start: date
    period_end: date | None
    category: str = ""


def _entry(
    balance: QuotaBalance, kind: str, amount: Decimal, actor: Actor, reason: str, request_ref: str
) -> QuotaLedgerEntry:
    return QuotaLedgerEntry.objects.create(
        balance=balance,
        kind=kind,
        amount=amount,
        actor=actor.user,
        actor_label=actor.label,
        reason=reason,
        request_ref=request_ref,
    )


def balance_open(
    *, key: PoolKey, amount: Decimal, actor: Actor = SYSTEM, reason: str
) -> QuotaBalance:
    """The pool's balance for the period, granting ``amount`` the first time it is opened.
    Safe to call twice or concurrently: a period is granted once."""
    lookup = {
        "benefit": key.benefit,
        "policy": key.policy,
        "person": key.person,
        "measure": key.measure,
        "category": key.category,
        "period_key": key.period_key,
    }
    existing = QuotaBalance.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            balance = QuotaBalance.objects.create(
                **lookup,
                pool_kind=key.pool_kind,
                period_start=key.period_start,
                period_end=key.period_end,
                granted=amount,
            )
            if amount > 0:
                _entry(balance, QuotaLedgerEntry.Kind.GRANT, amount, actor, reason, "")
            return balance
    except IntegrityError:
        # Another transaction opened it first; its grant stands.
        raced = QuotaBalance.objects.filter(**lookup).first()
        if raced is None:
            raise
        return raced


@transaction.atomic
def quota_hold(
    *,
    holds: list[tuple[QuotaBalance, Decimal]],
    request_ref: str,
    actor: Actor = SYSTEM,
    reason: str,
) -> None:
    """Hold every amount or none (护工: one request and N days together). Balances are
    updated in primary-key order so two multi-pool holds cannot deadlock."""
    for balance, amount in sorted(holds, key=lambda pair: pair[0].pk):
        changed = QuotaBalance.objects.filter(
            pk=balance.pk, granted__gte=F("held") + F("used") + amount
        ).update(held=F("held") + amount)
        if changed != 1:
            balance.refresh_from_db()
            raise QuotaExhausted(balance, amount)
        _entry(balance, QuotaLedgerEntry.Kind.HOLD, amount, actor, reason, request_ref)


def _held_for(balance: QuotaBalance, request_ref: str) -> Decimal:
    entries = QuotaLedgerEntry.objects.filter(balance=balance, request_ref=request_ref)
    total = Decimal(0)
    for kind, amount in entries.values_list("kind", "amount"):
        if kind == QuotaLedgerEntry.Kind.HOLD:
            total += amount
        elif kind in (QuotaLedgerEntry.Kind.RELEASE, QuotaLedgerEntry.Kind.USE):
            total -= amount
    return total


@transaction.atomic
def quota_release(
    *, balance: QuotaBalance, request_ref: str, actor: Actor = SYSTEM, reason: str
) -> Decimal:
    """Give back what the request still holds (cancelled in time, refused, vendor failed).
    Returns the amount released; releasing twice releases nothing the second time."""
    QuotaBalance.objects.select_for_update().get(pk=balance.pk)
    amount = _held_for(balance, request_ref)
    if amount <= 0:
        return Decimal(0)
    QuotaBalance.objects.filter(pk=balance.pk).update(held=F("held") - amount)
    _entry(balance, QuotaLedgerEntry.Kind.RELEASE, amount, actor, reason, request_ref)
    return amount


@transaction.atomic
def quota_use(
    *,
    balance: QuotaBalance,
    request_ref: str,
    amount: Decimal | None = None,
    actor: Actor = SYSTEM,
    reason: str,
) -> Decimal:
    """Turn the request's hold into use (completed, late cancellation, no-show); ``amount``
    may be less than the hold (7 of 30 carer days), and the rest is released."""
    QuotaBalance.objects.select_for_update().get(pk=balance.pk)
    held = _held_for(balance, request_ref)
    used = held if amount is None else min(amount, held)
    if used <= 0:
        return Decimal(0)
    QuotaBalance.objects.filter(pk=balance.pk).update(held=F("held") - used, used=F("used") + used)
    _entry(balance, QuotaLedgerEntry.Kind.USE, used, actor, reason, request_ref)
    if held > used:
        QuotaBalance.objects.filter(pk=balance.pk).update(held=F("held") - (held - used))
        _entry(
            balance,
            QuotaLedgerEntry.Kind.RELEASE,
            held - used,
            actor,
            "未用完部分返还",
            request_ref,
        )
    return used


@transaction.atomic
def quota_expire(*, balance: QuotaBalance, actor: Actor = SYSTEM, reason: str) -> Decimal:
    """End a period: what is neither used nor held is gone (no carry-over)."""
    locked = QuotaBalance.objects.select_for_update().get(pk=balance.pk)
    amount = locked.remaining
    if amount <= 0:
        return Decimal(0)
    QuotaBalance.objects.filter(pk=balance.pk).update(granted=F("granted") - amount)
    _entry(balance, QuotaLedgerEntry.Kind.EXPIRE, amount, actor, reason, "")
    return amount


def held_by_request(request_ref: str) -> dict[str, Decimal]:
    """What ``request_ref`` was given to hold, per measure of the pools it held in (whatever
    has been used or released of it since): the most a vendor can report consumed."""
    rows = (
        QuotaLedgerEntry.objects.filter(request_ref=request_ref, kind=QuotaLedgerEntry.Kind.HOLD)
        .values_list("balance__measure")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {measure: total for measure, total in rows}


def ledger_totals(balance: QuotaBalance) -> dict[str, Decimal]:
    """(granted, held, used) recomputed from the entries alone: the balance must equal it."""
    granted = held = used = Decimal(0)
    for kind, amount in QuotaLedgerEntry.objects.filter(balance=balance).values_list(
        "kind", "amount"
    ):
        if kind in (QuotaLedgerEntry.Kind.GRANT, QuotaLedgerEntry.Kind.ADJUST):
            granted += amount
        elif kind == QuotaLedgerEntry.Kind.EXPIRE:
            granted -= amount
        elif kind == QuotaLedgerEntry.Kind.HOLD:
            held += amount
        elif kind == QuotaLedgerEntry.Kind.RELEASE:
            held -= amount
        elif kind == QuotaLedgerEntry.Kind.USE:
            held -= amount
            used += amount
    return {"granted": granted, "held": held, "used": used}


# --- bulk variants for the daily jobs -------------------------------------------------------
#
# The anniversary job opens and expires tens of thousands of balances a day. These variants
# keep every guarantee of the functions above (a period granted once, expiry takes only what
# is neither used nor held, the balance equals the sum of its entries, the CHECK constraints
# refuse a bad row) but write each batch in a handful of statements, without building a
# model instance per row.

# Rows per statement: 13 bound values a balance, 1,000 ids an entry statement, all far below
# SQLite's 32,766 bound parameters.
BULK_ROWS = 1000
_BALANCE_COLUMNS = (
    "benefit_id",
    "policy_id",
    "person_id",
    "pool_kind",
    "measure",
    "category",
    "period_key",
    "period_start",
    "period_end",
    "granted",
    "held",
    "used",
    "updated_at",
)
_KEY_COLUMNS = ("policy_id", "benefit_id", "person_id", "measure", "category", "period_key")


def _key_of(key: PoolKey) -> tuple[object, ...]:
    return (
        key.policy.pk,
        key.benefit.pk,
        key.person.pk if key.person is not None else None,
        key.measure,
        key.category,
        key.period_key,
    )


@transaction.atomic
def balances_open_bulk(
    *, pools: Sequence[tuple[PoolKey, Decimal]], actor: Actor = SYSTEM, reason: str
) -> int:
    """Open many periods at once (the anniversary job), each granted once, as ``balance_open``
    guarantees one at a time. Returns how many balances this call opened.

    Periods that already exist are skipped before inserting, so a second run sends no INSERT.
    The rest go in with ``INSERT … ON CONFLICT DO NOTHING RETURNING``: the unique constraints
    silently drop a period that a request's ``balance_open`` or a concurrent run opened in
    the meantime, and RETURNING lists exactly the rows this statement inserted (PostgreSQL and
    SQLite ≥ 3.35 alike), so grant entries are written for those rows only, in the same
    transaction. (Django's ``bulk_create(ignore_conflicts=True)`` would not say which rows
    went in, and writing grants for "the rows that were missing" would grant twice a period
    a request opened meanwhile.)"""
    wanted: dict[tuple[object, ...], tuple[PoolKey, Decimal]] = {}
    for key, amount in pools:
        wanted.setdefault(_key_of(key), (key, amount))
    if not wanted:
        return 0
    existing = set(
        QuotaBalance.objects.filter(
            policy_id__in={k[0] for k in wanted}, period_key__in={k[5] for k in wanted}
        )
        .order_by()
        .values_list(*_KEY_COLUMNS)
    )
    missing = [pair for k, pair in wanted.items() if k not in existing]
    opened: list[int] = []
    for start in range(0, len(missing), BULK_ROWS):
        opened += _insert_ignoring_conflicts(missing[start : start + BULK_ROWS])
    _entries_from_balances(
        opened, QuotaLedgerEntry.Kind.GRANT, "granted", "granted > 0", actor, reason
    )
    return len(opened)


def _insert_ignoring_conflicts(pairs: list[tuple[PoolKey, Decimal]]) -> list[int]:
    """The ids of the rows actually inserted. PostgreSQL receives one array per column
    (``unnest``), so the statement stays short whatever the batch; SQLite a VALUES list."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (
            key.benefit.pk,
            key.policy.pk,
            key.person.pk if key.person is not None else None,
            key.pool_kind,
            key.measure,
            key.category,
            key.period_key,
            ops.adapt_datefield_value(key.period_start),
            ops.adapt_datefield_value(key.period_end),
            ops.adapt_decimalfield_value(amount),
        )
        for key, amount in pairs
    ]
    quote = ops.quote_name
    table = quote(QuotaBalance._meta.db_table)
    columns = ", ".join(quote(c) for c in _BALANCE_COLUMNS)
    zero = ops.adapt_decimalfield_value(Decimal(0))
    if connection.vendor == "postgresql":
        types = ("bigint",) * 3 + ("text",) * 4 + ("date", "date", "numeric")
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        names = "b, p, pe, pk, m, c, k, ps, pn, g"
        source = f"SELECT {names}, %s, %s, %s FROM unnest({arrays}) AS r({names})"  # noqa: S608
        params: list[int | str | list[object] | None] = [
            zero,
            zero,
            now,
            *(list(c) for c in zip(*rows, strict=True)),
        ]
    else:
        row = "(" + ", ".join(["%s"] * len(_BALANCE_COLUMNS)) + ")"
        source = f"VALUES {', '.join([row] * len(rows))}"
        params = [value for values in rows for value in (*values, zero, zero, now)]
    # Names are constants of this module; every value is a bound parameter.
    sql = f"INSERT INTO {table} ({columns}) {source} ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [inserted for (inserted,) in cursor.fetchall()]


def _entries_from_balances(
    ids: Sequence[int], kind: str, amount_sql: str, where_sql: str, actor: Actor, reason: str
) -> None:
    """One ledger entry per balance in ``ids``, its amount computed from the balance row by
    ``amount_sql`` (a constant of this module) — ``INSERT … SELECT``, no round trip a row."""
    entry_table = connection.ops.quote_name(QuotaLedgerEntry._meta.db_table)
    balance_table = connection.ops.quote_name(QuotaBalance._meta.db_table)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    actor_id = actor.user.pk if actor.user is not None else None
    for start in range(0, len(ids), BULK_ROWS):
        chunk = list(ids[start : start + BULK_ROWS])
        id_params: list[list[int]] | list[int]
        if connection.vendor == "postgresql":
            among, id_params = "= ANY(%s::bigint[])", [chunk]
        else:
            among, id_params = f"IN ({', '.join(['%s'] * len(chunk))})", chunk
        sql = (
            f"INSERT INTO {entry_table} (balance_id, kind, amount, actor_id, actor_label, "  # noqa: S608
            f"reason, request_ref, created_at) SELECT id, %s, {amount_sql}, %s, %s, %s, '', %s "
            f"FROM {balance_table} WHERE {where_sql} AND id {among}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [kind, actor_id, actor.label, reason, created, *id_params])


@transaction.atomic
def quota_expire_bulk(
    *, balances: QuerySet[QuotaBalance], actor: Actor = SYSTEM, reason: str
) -> int:
    """``quota_expire`` for every balance of ``balances`` with something left: the rows are
    locked in primary-key order, one EXPIRE entry per balance records what is neither used
    nor held, then one conditional UPDATE takes exactly that away. Holds stay where they
    are. Returns how many balances lost something; a second call returns 0. The caller keeps
    ``balances`` to a batch (the daily jobs pass about a thousand policies' worth)."""
    ids = list(
        balances.filter(granted__gt=F("held") + F("used"))
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    # The entries read the amounts the UPDATE below removes: the rows are locked in between
    # (on SQLite the IMMEDIATE transaction holds the write lock).
    _entries_from_balances(
        ids,
        QuotaLedgerEntry.Kind.EXPIRE,
        "granted - held - used",
        "granted > held + used",
        actor,
        reason,
    )
    changed = 0
    for start in range(0, len(ids), BULK_ROWS):
        changed += QuotaBalance.objects.filter(
            pk__in=ids[start : start + BULK_ROWS], granted__gt=F("held") + F("used")
        ).update(granted=F("held") + F("used"), updated_at=timezone.now())
    if changed != len(ids):  # cannot happen under the row locks: refuse rather than guess
        raise RuntimeError("额度过期时余额被并发修改，已回滚")
    return len(ids)
