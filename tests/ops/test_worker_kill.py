"""A Celery worker killed with SIGKILL in the middle of the anniversary run and of the SLA
scan: once the job has run again, the ledger and the notifications are exactly those of one
clean run on identical data (nothing twice, nothing missing).

The jobs work in batches, each in one transaction, and every write is idempotent (periods are
granted once, expiry takes what is left, milestones are claimed with conditional UPDATEs and
notified in the claiming transaction). Killing the process doing the work (the pool child,
as the kernel's OOM killer would) loses its open transaction; ``acks_late`` with
``task_reject_on_worker_lost`` hands the message back to the worker, which runs the job
again. Killing the whole worker leaves the message unacknowledged in Redis (redelivered after
the visibility timeout); the test reruns it at once, as an operator or the next beat would.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from benefits.models import Person, Policy, QuotaBalance
from bookings.models import Milestone
from tests.bookings.test_tasks import redis_answers
from tests.conftest import ensure_catalogue
from tests.ops import worker_faults as faults

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: row locks and several processes on one database",
    ),
    pytest.mark.skipif(not redis_answers(settings.REDIS_URL), reason="no Redis at REDIS_URL"),
]

ANNIVERSARY = date(2026, 3, 10)
POLICIES = 7  # 4 batches of 2
ANNIVERSARY_TASK = "benefits.tasks.run_anniversaries"
SCAN_TASK = "bookings.tasks.scan_sla"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Data committed for real (the workers are other processes), removed afterwards."""
    with django_db_blocker.unblock():
        ensure_catalogue()
        faults.purge()
        yield
        faults.purge()


@pytest.mark.django_db
def test_the_fault_seeds_are_purged_without_a_trace():
    # Also the reason pytest-django creates the test database when this module runs alone:
    # the fault tests only ask for django_db_setup (they commit for real, outside a test
    # transaction), which by itself sets up no database.
    faults.seed_anniversary_policies(1, ANNIVERSARY)
    faults.seed_sla_milestones(overdue=1, due_soon=0)
    faults.purge()
    assert faults.ledger_snapshot() == {"balances": Counter(), "entries": Counter()}
    assert not Policy.objects.filter(number__startswith=faults.PREFIX).exists()
    assert not Person.objects.filter(name__in=["王一", "李二", "赵四"]).exists()


def run_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def clean_run(task: str, *args: object) -> object:
    with faults.workers(settings.REDIS_URL) as pool:
        pool.start(run_id("clean"))
        return pool.wait(pool.send(task, *args))


def new_year_balances() -> int:
    return QuotaBalance.objects.filter(
        policy__number__startswith=faults.PREFIX, period_start=ANNIVERSARY
    ).count()


@pytest.mark.parametrize("killed", ["child", "whole worker"])
def test_a_worker_killed_mid_anniversary_run_leaves_the_ledger_of_one_clean_run(
    committed, capsys, killed
):
    with faults.fault_report(capsys, f"SIGKILL {killed} mid anniversary run") as report:
        # given a clean run's ledger on seven policies
        faults.seed_anniversary_policies(POLICIES, ANNIVERSARY)
        clean_result = clean_run(ANNIVERSARY_TASK, ANNIVERSARY.isoformat())
        clean = faults.ledger_snapshot()
        total = new_year_balances()
        assert clean_result["policies"] == POLICIES and clean_result["opened"] == total > 0

        # when the same data is run again and the worker is killed in its third batch
        faults.purge()
        faults.seed_anniversary_policies(POLICIES, ANNIVERSARY)
        with faults.workers(settings.REDIS_URL) as pool:
            run = run_id("kill")
            worker = pool.start(run, kill_at=3)
            result = pool.send(ANNIVERSARY_TASK, ANNIVERSARY.isoformat())
            paused = pool.paused_pid(run)
            committed_at_kill = new_year_balances()
            killed_at = time.monotonic()
            if killed == "child":
                faults.kill(paused)  # the master hands the message back and runs it again
            else:
                pool.stop_all()  # master and child; the message stays unacknowledged
                pool.start(run_id("rerun"))
                result = pool.send(ANNIVERSARY_TASK, ANNIVERSARY.isoformat())
            rerun_result = pool.wait(result)
            report["recovered_s"] = round(time.monotonic() - killed_at, 1)
            assert worker.pid != paused or killed != "child"

        # then the kill fell mid-run: two batches committed, the third rolled back
        assert 0 < committed_at_kill < total
        report["balances_before_kill"] = f"{committed_at_kill}/{total}"
        # and the rerun finished the job to exactly the clean run's ledger
        assert rerun_result["opened"] == total - committed_at_kill
        assert faults.ledger_snapshot() == clean
        report["entries"] = sum(clean["entries"].values())


def test_a_worker_killed_mid_sla_scan_notifies_each_milestone_once(committed, capsys):
    with faults.fault_report(capsys, "SIGKILL child mid SLA scan") as report:
        # given a clean scan of 6 overdue and 3 due-soon milestones (5 batches of 2)
        faults.seed_sla_milestones(overdue=6, due_soon=3)
        assert clean_run(SCAN_TASK) == {"warned": 3, "breached": 6}
        clean = faults.sla_snapshot()
        assert sum(clean["deliveries"].values()) == 9 and max(clean["deliveries"].values()) == 1

        # when the same data is scanned and the worker is killed in its second breach batch
        faults.purge()
        faults.seed_sla_milestones(overdue=6, due_soon=3)
        with faults.workers(settings.REDIS_URL) as pool:
            run = run_id("kill")
            pool.start(run, kill_at=2)
            result = pool.send(SCAN_TASK)
            paused = pool.paused_pid(run)
            breached_at_kill = Milestone.objects.filter(
                request__ref__startswith=faults.PREFIX, state=Milestone.State.BREACHED
            ).count()
            killed_at = time.monotonic()
            faults.kill(paused)
            rerun = pool.wait(result)
            report["recovered_s"] = round(time.monotonic() - killed_at, 1)

        # then one batch had committed, and the rerun claimed and notified only the rest
        assert breached_at_kill == 2
        assert rerun == {"warned": 3, "breached": 4}
        assert faults.sla_snapshot() == clean
        report["notifications"] = sum(clean["deliveries"].values())
