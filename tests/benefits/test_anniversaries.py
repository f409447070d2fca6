"""The daily quota jobs: anniversaries renew every yearly pool once (29 February included),
ended policies end their entitlements, windows expire; every job run twice changes nothing;
the two benchmarks run and print their ratio."""

import io
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Benefit, Person, Policy, QuotaBalance, QuotaLedgerEntry
from benefits.quota.anniversaries import anniversaries_run, windows_expire
from benefits.quota.ledger import PoolKey, balance_open, ledger_totals, quota_hold, quota_use
from benefits.tasks import expire_windows, run_anniversaries
from bookings.lifecycle.policy_end import policy_status_sweep
from bookings.models import Notification, QuotaOutcome, RequestEvent, ServiceRequest, Status
from bookings.tasks import sweep_policy_status
from portal.kernel.actor import Actor
from tests.conftest import ensure_catalogue

PINGAN_FAMILY_POOLS = {
    "pingan.health.admission_assist",
    "pingan.health.escort",
    "pingan.health.inpatient_carer_7d",
    "pingan.health.outpatient_assist",
    "pingan.health.second_opinion",
}


def family(number: str, effective_on: date, expires_on: date) -> Policy:
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[("王一", date(1980, 5, 1), "self"), ("李二", date(1982, 6, 2), "spouse")],
        effective_on=effective_on,
        expires_on=expires_on,
    )


def single(number: str, effective_on: date, expires_on: date, product="xiaokang.rsyj") -> Policy:
    return policy_with_members(
        number=number,
        product=product,
        members=[("陈三", date(1975, 3, 4), "self")],
        effective_on=effective_on,
        expires_on=expires_on,
    )


def pool(policy: Policy, code: str, period_key: str) -> QuotaBalance:
    return QuotaBalance.objects.get(policy=policy, benefit__code=code, period_key=period_key)


def entries(balance: QuotaBalance) -> list[tuple[str, Decimal]]:
    return list(balance.entries.order_by("id").values_list("kind", "amount"))


def open_request(policy: Policy, code: str, ref: str, status: str, balance: QuotaBalance):
    member = policy.members.get(ref="M1")
    quota_hold(holds=[(balance, Decimal(1))], request_ref=ref, reason="提交服务申请")
    return ServiceRequest.objects.create(
        ref=ref,
        policy=policy,
        member=member,
        recipient=member,
        benefit=Benefit.objects.get(code=code),
        status=status,
        quota_outcome=QuotaOutcome.HELD,
    )


# --- anniversaries ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_29_february_start_renews_on_28_february_in_common_years_and_29_in_leap_years():
    # given a policy that began on 29 February 2024 (保单年度: 生效日至每一周年日前一日)
    policy = single("P-LEAP", date(2024, 2, 29), date(2029, 2, 27))
    assert policy.anniversary_md == 229

    # when the job runs on 28 February 2027 (common year) and around 29 February 2028
    in_2027 = anniversaries_run(date(2027, 2, 28))
    on_28_feb_2028 = anniversaries_run(date(2028, 2, 28))
    on_29_feb_2028 = anniversaries_run(date(2028, 2, 29))

    # then the policy year opens on 28 Feb 2027 and on 29 Feb 2028, never on 28 Feb 2028
    assert in_2027.policies == 1 and in_2027.opened == 4  # 4 yearly pools of 小康 for one member
    assert on_28_feb_2028.policies == 0
    assert on_29_feb_2028.policies == 1
    escort = "xiaokang.rsyj.discharge_transport_escort"
    year_2027 = pool(policy, escort, "year:2027-02-28")
    assert (year_2027.period_start, year_2027.period_end) == (date(2027, 2, 28), date(2028, 2, 28))
    assert pool(policy, escort, "year:2028-02-29").granted == 1


@pytest.mark.django_db
def test_an_anniversary_opens_a_fresh_year_and_expires_only_what_is_neither_used_nor_held():
    # given a family policy (平安: five pools shared by the family) in its first year, with
    # one pool used, one held by an open request and the others untouched
    policy = family("P-ANNIV", date(2025, 3, 10), date(2027, 3, 9))
    first = anniversaries_run(date(2025, 3, 10))
    assert (first.policies, first.opened, first.expired) == (1, 5, 0)
    old = "year:2025-03-10"
    used = pool(policy, "pingan.health.outpatient_assist", old)
    quota_hold(holds=[(used, Decimal(1))], request_ref="R-USED", reason="提交服务申请")
    quota_use(balance=used, request_ref="R-USED", reason="服务完成")
    held = pool(policy, "pingan.health.second_opinion", old)
    quota_hold(holds=[(held, Decimal(1))], request_ref="R-OPEN", reason="提交服务申请")

    # when the first anniversary comes
    result = anniversaries_run(date(2026, 3, 10))

    # then each pool has a new year granted once, and the old year lost only its remainder
    assert (result.policies, result.opened, result.expired) == (1, 5, 3)
    new = QuotaBalance.objects.filter(policy=policy, period_key="year:2026-03-10")
    assert {b.benefit.code for b in new} == PINGAN_FAMILY_POOLS
    assert all(b.person_id is None and b.remaining == 1 for b in new)
    assert all(entries(b) == [("grant", 1)] for b in new)
    escort = pool(policy, "pingan.health.escort", old)
    assert (escort.granted, escort.remaining) == (0, 0)
    assert entries(escort) == [("grant", 1), ("expire", 1)]
    used.refresh_from_db()
    assert (used.used, used.remaining) == (1, 0)
    assert "expire" not in dict(entries(used))
    held.refresh_from_db()
    assert (held.held, held.remaining) == (1, 0)  # the open request keeps its hold there
    for balance in QuotaBalance.objects.filter(policy=policy):
        totals = ledger_totals(balance)
        assert (balance.granted, balance.held, balance.used) == (
            totals["granted"],
            totals["held"],
            totals["used"],
        )


@pytest.mark.django_db
def test_running_an_anniversary_twice_changes_nothing():
    policy = single("P-TWICE", date(2025, 5, 20), date(2027, 5, 19))
    anniversaries_run(date(2025, 5, 20))
    first = anniversaries_run(date(2026, 5, 20))
    rows = (QuotaBalance.objects.count(), QuotaLedgerEntry.objects.count())

    second = anniversaries_run(date(2026, 5, 20))

    assert first.changed == 8  # 4 pools opened, 4 old remainders expired
    assert (second.policies, second.changed) == (1, 0)
    assert (QuotaBalance.objects.count(), QuotaLedgerEntry.objects.count()) == rows
    assert QuotaBalance.objects.filter(policy=policy, period_key="year:2026-05-20").count() == 4


@pytest.mark.django_db
def test_a_balance_a_request_already_opened_is_not_granted_again():
    # given the new year's escort pool opened by a request on the anniversary morning
    policy = single("P-RACE", date(2025, 8, 1), date(2027, 7, 31))
    benefit = Benefit.objects.get(code="xiaokang.rsyj.discharge_transport_escort")
    key = PoolKey(
        benefit=benefit,
        policy=policy,
        person=policy.holder,
        pool_kind=QuotaBalance.PoolKind.MEMBER,
        measure="times",
        period_key="year:2026-08-01",
        period_start=date(2026, 8, 1),
        period_end=date(2027, 7, 31),
    )
    opened_early = balance_open(key=key, amount=Decimal(1), reason="权益期间开始")

    result = anniversaries_run(date(2026, 8, 1))

    assert result.opened == 3  # the other three pools
    assert entries(opened_early) == [("grant", 1)]


@pytest.mark.django_db
def test_a_policy_not_in_force_or_not_yet_started_has_no_anniversary():
    lapsed = single("P-LAPSED-ANNIV", date(2025, 9, 1), date(2027, 8, 31))
    lapsed.status = Policy.Status.LAPSED
    lapsed.save()
    single("P-FUTURE", date(2027, 9, 1), date(2028, 8, 31))

    assert anniversaries_run(date(2026, 9, 1)).policies == 0


@pytest.mark.django_db
def test_changing_the_effective_date_moves_the_anniversary_even_with_update_fields():
    policy = single("P-MOVE", date(2025, 4, 1), date(2027, 3, 31))
    policy.effective_on = date(2025, 4, 15)
    policy.save(update_fields=["effective_on"])

    assert Policy.objects.get(pk=policy.pk).anniversary_md == 415
    assert anniversaries_run(date(2026, 4, 15)).policies == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking needs PostgreSQL")
def test_two_concurrent_runs_and_a_request_grant_each_new_period_exactly_once(
    django_db_setup, django_db_blocker
):
    # given three family policies committed for real, so threads with their own
    # connections see them
    with django_db_blocker.unblock():
        ensure_catalogue()
        policies = [family(f"P-CONC-{i}", date(2025, 3, 10), date(2027, 3, 9)) for i in range(3)]
        try:
            escort = PoolKey(
                benefit=Benefit.objects.get(code="pingan.health.escort"),
                policy=policies[0],
                person=None,
                pool_kind=QuotaBalance.PoolKind.FAMILY_POLICY,
                measure="times",
                period_key="year:2025-03-10",
                period_start=date(2025, 3, 10),
                period_end=date(2026, 3, 9),
            )
            opened: list[int] = []
            barrier = threading.Barrier(3)

            errors: list[Exception] = []

            def run() -> None:
                try:
                    barrier.wait()
                    opened.append(anniversaries_run(date(2025, 3, 10)).opened)
                except Exception as exc:  # a deadlock, say: the test must fail, not warn
                    errors.append(exc)
                finally:
                    connection.close()

            def request() -> None:
                try:
                    barrier.wait()
                    balance_open(
                        key=escort, amount=Decimal(1), actor=Actor(label="request"), reason="t"
                    )
                except Exception as exc:
                    errors.append(exc)
                finally:
                    connection.close()

            # when two runs and a request's balance_open race on the first policy year
            workers = [threading.Thread(target=t) for t in (run, run, request)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

            # then nobody failed, and every period exists once with one grant, whoever opened it
            assert errors == []
            balances = QuotaBalance.objects.filter(policy__in=policies)
            grants = QuotaLedgerEntry.objects.filter(balance__in=balances, kind="grant")
            assert balances.count() == 15 == grants.count()
            by_request = grants.filter(actor_label="request").count()
            assert sum(opened) + by_request == 15
        finally:
            QuotaLedgerEntry.objects.filter(balance__policy__in=policies).delete()
            QuotaBalance.objects.filter(policy__in=policies).delete()
            people = list(Person.objects.filter(memberships__policy__in=policies))
            Policy.objects.filter(pk__in=[p.pk for p in policies]).delete()
            Person.objects.filter(pk__in=[p.pk for p in people]).delete()


# --- renewals and ended policies ------------------------------------------------------------


@pytest.mark.django_db
def test_a_renewal_starts_its_own_years_and_the_old_policy_ends_at_its_expiry():
    # given a one-year policy with an unused pool, renewed from the day after it expires
    old = single("P-OLD", date(2025, 7, 1), date(2026, 6, 30))
    anniversaries_run(date(2025, 7, 1))
    renewal = single("P-NEW", date(2026, 7, 1), date(2027, 6, 30))
    renewal.renewal_of = old
    renewal.save()
    escort = "xiaokang.rsyj.discharge_transport_escort"

    # when the old policy's last day passes
    on_last_day = policy_status_sweep(date(2026, 6, 30))
    swept = policy_status_sweep(date(2026, 7, 1))
    renewed = anniversaries_run(date(2026, 7, 1))

    # then the old policy expires with its balances, and only the renewal opens a year
    assert on_last_day.changed == 0
    assert (swept.expired_policies, swept.balances_expired) == (1, 4)
    old.refresh_from_db()
    assert old.status == Policy.Status.EXPIRED
    assert pool(old, escort, "year:2025-07-01").remaining == 0
    assert renewed.policies == 1
    assert pool(renewal, escort, "year:2026-07-01").remaining == 1
    assert not QuotaBalance.objects.filter(policy=old, period_key="year:2026-07-01").exists()
    assert policy_status_sweep(date(2026, 7, 1)).changed == 0


@pytest.mark.django_db
def test_a_lapse_cancels_requests_before_service_releasing_the_hold_and_keeps_those_in_service():
    # given a family policy with a scheduled request and one in service
    policy = family("P-LAPSE", date(2025, 1, 2), date(2026, 12, 31))
    anniversaries_run(date(2025, 1, 2))
    year = "year:2025-01-02"
    escort = pool(policy, "pingan.health.escort", year)
    admission = pool(policy, "pingan.health.admission_assist", year)
    scheduled = open_request(
        policy, "pingan.health.escort", "SR-SCHEDULED", Status.SCHEDULED, escort
    )
    serving = open_request(
        policy, "pingan.health.admission_assist", "SR-SERVING", Status.IN_SERVICE, admission
    )

    # when the policy lapses (保单失效，服务终止) and the sweep runs
    policy.status = Policy.Status.LAPSED
    policy.save()
    result = policy_status_sweep(date(2025, 6, 1))

    # then the scheduled request is cancelled with its hold released, and then expired
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.quota_outcome) == (Status.CANCELLED, QuotaOutcome.RELEASED)
    assert scheduled.outcome_reason == "保单已失效，服务尚未开始的申请自动取消"
    event = RequestEvent.objects.get(request=scheduled, event="cancelled")
    assert (event.from_status, event.actor_label) == (Status.SCHEDULED, "system")
    assert event.data["consequence"] == "已占用的权益额度已返还。"
    assert Notification.objects.filter(
        request=scheduled, body__contains="保单已失效，服务尚未开始的申请自动取消"
    ).exists()
    escort.refresh_from_db()
    assert (escort.held, escort.remaining) == (0, 0)
    assert [kind for kind, _ in entries(escort)] == ["grant", "hold", "release", "expire"]
    # and the request in service goes on with its hold
    serving.refresh_from_db()
    admission.refresh_from_db()
    assert serving.status == Status.IN_SERVICE
    assert (admission.held, admission.remaining) == (1, 0)
    assert (result.requests_cancelled, result.balances_expired) == (1, 4)
    assert policy_status_sweep(date(2025, 6, 1)).changed == 0


@pytest.mark.django_db
def test_an_expired_policy_that_was_renewed_keeps_its_open_requests():
    old = family("P-EXP-OLD", date(2025, 1, 2), date(2026, 1, 1))
    anniversaries_run(date(2025, 1, 2))
    escort = pool(old, "pingan.health.escort", "year:2025-01-02")
    request = open_request(old, "pingan.health.escort", "SR-LATE", Status.APPROVED, escort)
    renewal = family("P-EXP-NEW", date(2026, 1, 2), date(2027, 1, 1))
    renewal.renewal_of = old
    renewal.save()

    result = policy_status_sweep(date(2026, 1, 2))

    request.refresh_from_db()
    assert result.requests_cancelled == 0
    assert (request.status, request.quota_outcome) == (Status.APPROVED, QuotaOutcome.HELD)
    escort.refresh_from_db()
    assert escort.held == 1


# --- windows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_180_day_window_expires_the_day_after_it_ends():
    # given a window opened on 1 January 2026 for 180 days, one use taken
    policy = single("P-WINDOW", date(2025, 10, 1), date(2027, 9, 30), product="manulife.dmm")
    key = PoolKey(
        benefit=Benefit.objects.get(code="manulife.dmm.post_discharge_care.home_guidance"),
        policy=policy,
        person=policy.holder,
        pool_kind=QuotaBalance.PoolKind.MEMBER,
        measure="times",
        period_key="window:2026-01-01",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 1) + timedelta(days=179),
    )
    window = balance_open(key=key, amount=Decimal(3), reason="服务时间窗开始")
    quota_hold(holds=[(window, Decimal(1))], request_ref="R-W1", reason="提交服务申请")
    quota_use(balance=window, request_ref="R-W1", reason="服务完成")

    # when the job runs on the window's last day, and on the day after
    on_last_day = windows_expire(date(2026, 6, 29))
    after = windows_expire(date(2026, 6, 30))
    again = windows_expire(date(2026, 6, 30))

    # then the two unused visits lapse after the 180th day, once
    window.refresh_from_db()
    assert (on_last_day, after, again) == (0, 1, 0)
    assert (window.granted, window.used, window.remaining) == (1, 1, 0)
    assert entries(window)[-1] == ("expire", 2)


# --- tasks ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tasks_run_for_today_in_shanghai(monkeypatch):
    # given 16:30 UTC on 9 March, which is already 10 March 00:30 in Shanghai
    single("P-TASK", date(2025, 3, 10), date(2027, 3, 9))
    anniversaries_run(date(2025, 3, 10))
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 9, 16, 30, tzinfo=UTC))

    renewed = run_anniversaries.apply().get()
    swept = sweep_policy_status.apply().get()
    windows = expire_windows.apply().get()

    assert renewed == {"policies": 1, "opened": 4, "expired": 4}
    assert swept == {"expired_policies": 0, "balances_expired": 0, "requests_cancelled": 0}
    assert windows == 0
    assert run_anniversaries.run("2026-03-10") == {"policies": 1, "opened": 0, "expired": 0}


# --- benchmarks -------------------------------------------------------------------------------
# They run in a throwaway database of their own; the marker lets the parent create it on
# PostgreSQL (on SQLite it is a temporary file).


@pytest.mark.django_db
def test_the_anniversary_benchmark_runs_tiny_and_prints_its_ratio():
    out = io.StringIO()
    call_command("benchmark_anniversaries", small=200, big=400, due=5, repeat=1, stdout=out)
    text = out.getvalue()
    assert re.search(r"比值 \d+\.\d+", text), text
    assert "第二次运行改变 0 行" in text, text


@pytest.mark.django_db
def test_the_sla_scan_benchmark_runs_tiny_and_prints_its_ratio():
    out = io.StringIO()
    call_command("benchmark_sla_scan", small=200, big=400, due=5, repeat=1, stdout=out)
    text = out.getvalue()
    assert re.search(r"比值 \d+\.\d+", text), text
    assert "第二次扫描改变 0 行" in text, text
