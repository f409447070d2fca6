"""The quota ledger: holds never overspend, even concurrently on PostgreSQL; the balance is
always the sum of its entries; the database refuses an over-grant from any code path."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from benefits.models import Benefit, Person, Policy, QuotaBalance, QuotaLedgerEntry
from benefits.quota.ledger import (
    PoolKey,
    QuotaExhausted,
    balance_open,
    ledger_totals,
    quota_expire,
    quota_hold,
    quota_release,
    quota_use,
)
from tests.conftest import ensure_catalogue


def make_policy(number: str = "P-LEDGER-1", id_number: str = "11010519491231002X") -> Policy:
    holder = Person(name="张三", id_number=id_number, birth_date=date(1949, 12, 31))
    holder.save()
    return Policy.objects.create(
        number=number,
        product=Benefit.objects.get(code="pingan.health.escort").product,
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=holder,
        family=True,
    )


def open_pool(policy: Policy, amount: str, period: str = "year:2026-01-02") -> QuotaBalance:
    key = PoolKey(
        benefit=Benefit.objects.get(code="pingan.health.escort"),
        policy=policy,
        person=None,
        pool_kind=QuotaBalance.PoolKind.FAMILY_POLICY,
        measure=QuotaBalance.Measure.TIMES,
        period_key=period,
        period_start=date(2026, 1, 2),
        period_end=date(2027, 1, 1),
    )
    return balance_open(key=key, amount=Decimal(amount), reason="保单年度开始")


@pytest.mark.django_db
def test_opening_a_period_twice_grants_once():
    policy = make_policy()
    first = open_pool(policy, "1")
    second = open_pool(policy, "1")
    assert first.pk == second.pk
    assert QuotaLedgerEntry.objects.filter(balance=first, kind="grant").count() == 1


@pytest.mark.django_db
def test_a_hold_beyond_what_is_left_is_refused_in_chinese_and_writes_nothing():
    balance = open_pool(make_policy(), "1")
    quota_hold(holds=[(balance, Decimal(1))], request_ref="R1", reason="申请")

    with pytest.raises(QuotaExhausted) as caught:
        quota_hold(holds=[(balance, Decimal(1))], request_ref="R2", reason="申请")

    assert caught.value.code == "quota_exhausted"
    assert "本期剩余0次" in caught.value.message
    assert not QuotaLedgerEntry.objects.filter(request_ref="R2").exists()


@pytest.mark.django_db
def test_a_multi_pool_hold_is_all_or_nothing():
    policy = make_policy()
    requests = open_pool(policy, "2", period="year:2026-01-02:requests")
    days = open_pool(policy, "30", period="year:2026-01-02:days")
    quota_hold(holds=[(requests, Decimal(1)), (days, Decimal(25))], request_ref="R1", reason="护工")

    with pytest.raises(QuotaExhausted):
        quota_hold(
            holds=[(requests, Decimal(1)), (days, Decimal(10))], request_ref="R2", reason="护工"
        )

    requests.refresh_from_db()
    assert requests.held == 1  # the request count was not taken by the failed hold


@pytest.mark.django_db
def test_release_returns_the_hold_once_and_use_may_take_less_than_held():
    balance = open_pool(make_policy(), "30")
    quota_hold(holds=[(balance, Decimal(10))], request_ref="R1", reason="护工10天")

    used = quota_use(balance=balance, request_ref="R1", amount=Decimal(7), reason="实际7天")
    again = quota_release(balance=balance, request_ref="R1", reason="重复释放")

    balance.refresh_from_db()
    assert (used, again) == (Decimal(7), Decimal(0))
    assert (balance.held, balance.used, balance.remaining) == (0, 7, 23)
    assert ledger_totals(balance) == {"granted": 30, "held": 0, "used": 7}


@pytest.mark.django_db
def test_expiry_removes_only_what_is_left():
    balance = open_pool(make_policy(), "3")
    quota_hold(holds=[(balance, Decimal(1))], request_ref="R1", reason="申请")
    assert quota_expire(balance=balance, reason="保单年度结束") == 2
    balance.refresh_from_db()
    assert (balance.granted, balance.held, balance.remaining) == (1, 1, 0)


@pytest.mark.django_db
def test_the_database_refuses_an_over_grant_even_bypassing_the_services():
    balance = open_pool(make_policy(), "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        QuotaBalance.objects.filter(pk=balance.pk).update(used=2)


operations = st.lists(
    st.tuples(
        st.sampled_from(["hold", "release", "use", "expire"]), st.integers(1, 3), st.integers(0, 4)
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(granted=st.integers(0, 6), steps=operations)
def test_ledger_invariants_hold_for_any_sequence_of_operations(granted, steps):
    policy = Policy.objects.filter(number="P-PROPERTY").first() or make_policy("P-PROPERTY")
    balance = open_pool(policy, str(granted), period=f"prop:{QuotaBalance.objects.count()}")
    held_by_ref: dict[str, Decimal] = {}
    for operation, amount, ref_number in steps:
        ref = f"R{ref_number}"
        if operation == "hold":
            try:
                quota_hold(holds=[(balance, Decimal(amount))], request_ref=ref, reason="t")
                held_by_ref[ref] = held_by_ref.get(ref, Decimal(0)) + amount
            except QuotaExhausted:
                pass
        elif operation == "release":
            released = quota_release(balance=balance, request_ref=ref, reason="t")
            assert released == held_by_ref.pop(ref, Decimal(0))  # never more than held
        elif operation == "use":
            quota_use(balance=balance, request_ref=ref, reason="t")
            held_by_ref.pop(ref, None)
        else:
            quota_expire(balance=balance, reason="t")
        balance.refresh_from_db()
        assert balance.remaining >= 0
        assert ledger_totals(balance) == {
            "granted": balance.granted,
            "held": balance.held,
            "used": balance.used,
        }


@pytest.fixture
def committed_pool(django_db_blocker):
    """A pool committed for real, so threads with their own connections see it."""
    with django_db_blocker.unblock():
        ensure_catalogue()
        policy = make_policy("P-CONCURRENT", id_number="110105194912310096")
        balance = open_pool(policy, "5")
        yield balance
        QuotaLedgerEntry.objects.filter(balance__policy=policy).delete()
        QuotaBalance.objects.filter(policy=policy).delete()
        holder = policy.holder
        policy.delete()
        holder.delete()


def hammer(balance: QuotaBalance, amount: Decimal, threads: int, per_thread: int) -> list[str]:
    """``threads`` connections, each trying ``per_thread`` holds of ``amount`` at once."""
    outcomes: list[str] = []
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for attempt in range(per_thread):
                try:
                    quota_hold(
                        holds=[(balance, amount)], request_ref=f"C{index}-{attempt}", reason="并发"
                    )
                    outcomes.append("held")
                except QuotaExhausted:
                    outcomes.append("refused")
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return outcomes


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locking needs PostgreSQL"
)


@postgresql_only
def test_hundreds_of_concurrent_holds_on_a_family_pool_grant_exactly_what_is_left(
    committed_pool, django_db_blocker
):
    # given a family pool with 5 units and 200 simultaneous requests for 1 unit
    with django_db_blocker.unblock():
        outcomes = hammer(committed_pool, Decimal(1), threads=40, per_thread=5)
        committed_pool.refresh_from_db()
        totals = ledger_totals(committed_pool)

    # then exactly 5 holds succeed, and the balance agrees with its entries
    assert (outcomes.count("held"), outcomes.count("refused")) == (5, 195)
    assert committed_pool.held == 5 == totals["held"]


@postgresql_only
def test_concurrent_claims_on_a_money_cap_never_exceed_it(committed_pool, django_db_blocker):
    # given an out-of-province travel subsidy cap of 5000 CNY and 200 claims of 250 CNY
    with django_db_blocker.unblock():
        QuotaBalance.objects.filter(pk=committed_pool.pk).update(
            measure=QuotaBalance.Measure.CNY, granted=Decimal(5000)
        )
        QuotaLedgerEntry.objects.filter(balance=committed_pool, kind="grant").update(amount=5000)
        outcomes = hammer(committed_pool, Decimal(250), threads=40, per_thread=5)
        committed_pool.refresh_from_db()

    # then exactly 20 claims (5000 CNY) are held, not one yuan more
    assert outcomes.count("held") == 20
    assert committed_pool.held == Decimal(5000)
    assert committed_pool.remaining == 0
