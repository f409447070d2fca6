"""Two beat schedulers started by mistake send every scheduled job twice: the two runs of a
job, on two workers at the same time, change what one run changes (no job runs twice in
effect). Proven on the two jobs that write money-like state and notify people: the
anniversary run (ledger) and the SLA scan (vendor notifications). The outbox relay's
equivalent is in test_outbox.py.

Why it holds: the anniversary run locks each batch's policies (the second run waits, then
finds every period granted and nothing left to expire); the scan claims each milestone with
a conditional UPDATE and notifies only what it claimed, in the claiming transaction.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.conf import settings
from django.db import connection

from tests.bookings.test_tasks import redis_answers
from tests.conftest import ensure_catalogue
from tests.ops import worker_faults as faults
from tests.ops.test_worker_kill import (  # noqa: F401 - sets up the test database when alone
    test_the_fault_seeds_are_purged_without_a_trace,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: row locks and several processes on one database",
    ),
    pytest.mark.skipif(not redis_answers(settings.REDIS_URL), reason="no Redis at REDIS_URL"),
]

ANNIVERSARY = date(2026, 3, 10)
# Seconds each batch lingers in the doubled runs, so that they overlap for certain.
SLOW = 0.4


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_catalogue()
        faults.purge()
        yield
        faults.purge()


def once(task: str, *args: object) -> object:
    with faults.workers(settings.REDIS_URL) as pool:
        pool.start(f"once-{uuid.uuid4().hex[:8]}")
        return pool.wait(pool.send(task, *args))


def twice_at_once(task: str, *args: object) -> tuple[list[object], list[tuple[float, float]]]:
    """The job sent twice at the same moment to two workers; their results and when each ran."""
    run = f"twice-{uuid.uuid4().hex[:8]}"
    with faults.workers(settings.REDIS_URL) as pool:
        pool.start(run, slow=SLOW)
        pool.start(run, slow=SLOW)
        first, second = pool.send(task, *args), pool.send(task, *args)
        results = [pool.wait(first), pool.wait(second)]
        return results, pool.spans(run)


def overlapped(spans: list[tuple[float, float]]) -> bool:
    (start_a, end_a), (start_b, end_b) = spans
    return start_b < end_a and start_a < end_b


def test_the_anniversary_run_sent_by_two_beats_grants_each_period_once(committed, capsys):
    with faults.fault_report(capsys, "two beats: anniversary run twice at once") as report:
        faults.seed_anniversary_policies(7, ANNIVERSARY)
        single = once("benefits.tasks.run_anniversaries", ANNIVERSARY.isoformat())
        clean = faults.ledger_snapshot()

        faults.purge()
        faults.seed_anniversary_policies(7, ANNIVERSARY)
        results, spans = twice_at_once("benefits.tasks.run_anniversaries", ANNIVERSARY.isoformat())

        assert overlapped(spans), spans
        # each period opened by one of the two runs, each remainder expired once
        assert sum(r["opened"] for r in results) == single["opened"] > 0
        assert sum(r["expired"] for r in results) == single["expired"] > 0
        assert faults.ledger_snapshot() == clean
        report["opened"] = "+".join(str(r["opened"]) for r in results)


def test_the_sla_scan_sent_by_two_beats_notifies_each_milestone_once(committed, capsys):
    with faults.fault_report(capsys, "two beats: SLA scan twice at once") as report:
        faults.seed_sla_milestones(overdue=6, due_soon=3)
        assert once("bookings.tasks.scan_sla") == {"warned": 3, "breached": 6}
        clean = faults.sla_snapshot()

        faults.purge()
        faults.seed_sla_milestones(overdue=6, due_soon=3)
        results, spans = twice_at_once("bookings.tasks.scan_sla")

        assert overlapped(spans), spans
        assert sum(r["breached"] for r in results) == 6
        assert sum(r["warned"] for r in results) == 3
        assert faults.sla_snapshot() == clean
        report["breached"] = "+".join(str(r["breached"]) for r in results)
