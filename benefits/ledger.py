"""Writes to the quota ledger. Each function writes its entries and the balance change in one
transaction; holds are conditional UPDATEs, so concurrent requests can never spend the same
unit twice (the database re-checks the condition on the row it finally updates), and the
balance's CHECK constraints refuse an over-grant from any code path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F

from benefits.models import Benefit, Person, Policy, QuotaBalance, QuotaLedgerEntry
from portal.errors import DomainError


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
class Actor:
    user: AbstractBaseUser | None = None
    label: str = "system"


SYSTEM = Actor()


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
