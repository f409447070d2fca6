"""Real Celery workers for the fault tests (tests/ops/test_worker_kill.py, test_two_beats.py):
worker processes on the test database, data committed for real, and a way to stop a worker
in the middle of a batch.

Run as ``python -m tests.ops.worker_faults --queue Q --run R [--kill-at N] [--slow S]``: a
worker on queue Q (prefork, one child) whose anniversary run and SLA scan work in batches of
2 instead of 1000 / 500, so a handful of rows make several transactions. After each batch's
writes (still inside its transaction) the child counts the batch in Redis (``R:batches``);
at batch N it writes its pid to ``R:paused`` and sleeps, so the test can SIGKILL it with the
batch's transaction open. Only one child ever pauses (SET NX): the task redelivered after
the kill runs through. ``--slow`` sleeps that long after every batch, so that two workers
running the same job really overlap.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import redis
from celery import Celery, signals

ROOT = Path(__file__).resolve().parents[2]
BATCH = 2
# How long a worker may take to start and a task to finish; each test stays under a minute.
START_TIMEOUT = 20.0
TASK_TIMEOUT = 30.0


# --- inside the worker process ----------------------------------------------------------------


def _patch(run: str, redis_url: str, kill_at: int, slow: float) -> None:
    from benefits.quota import anniversaries
    from bookings.messages import notifications
    from bookings.sla import clocks

    anniversaries.ANNIVERSARY_BATCH = BATCH
    clocks.SCAN_BATCH = BATCH
    client = redis.Redis.from_url(redis_url)

    def checkpoint() -> None:
        count = client.incr(f"{run}:batches")
        if slow:
            time.sleep(slow)
        if count == kill_at and client.set(f"{run}:paused", os.getpid(), nx=True):
            time.sleep(600)  # the test kills this process here, mid-transaction

    def after(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            checkpoint()
            return result

        return wrapped

    # The last write of an anniversary batch, and the notifications of an SLA scan batch
    # (sla_scan imports notify_milestones when it runs, so the module attribute is used).
    anniversaries.quota_expire_bulk = after(anniversaries.quota_expire_bulk)
    notifications.notify_milestones = after(notifications.notify_milestones)

    # When each task ran, so a test can show that two runs overlapped.
    def started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
        client.hset(f"{run}:started", str(task_id), time.time())
        client.rpush(f"{run}:ran", str(getattr(task, "name", "")))

    def finished(task_id: str | None = None, **_: Any) -> None:
        client.hset(f"{run}:finished", str(task_id), time.time())

    signals.task_prerun.connect(started, weak=False)
    signals.task_postrun.connect(finished, weak=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--slow", type=float, default=0.0)
    options = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from portal.site.celery import app

    _patch(options.run, settings.REDIS_URL, options.kill_at, options.slow)
    # What the worker queues itself (the outbox relay's tasks) goes to its own queue too.
    app.conf.update(
        result_backend=settings.REDIS_URL,
        worker_hijack_root_logger=False,
        task_default_queue=options.queue,
    )
    app.worker_main(
        [
            "worker",
            "--queues",
            options.queue,
            "--concurrency=1",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            f"--hostname={options.run}-{uuid.uuid4().hex[:6]}@faults",
        ]
    )


# --- in the test ------------------------------------------------------------------------------


def database_url() -> str:
    """The URL of the test database this process uses, for the worker processes."""
    from django.db import connection

    s = connection.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}:{port}/{s['NAME']}"


class Workers:
    """Worker processes on one queue of the Redis at ``redis_url``, and the app to send
    tasks to them and wait for their results."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.redis = redis.Redis.from_url(redis_url)
        self.queue = f"faults-{uuid.uuid4().hex}"
        self.app = Celery("faults", set_as_current=False)
        self.app.conf.update(broker_url=redis_url, result_backend=redis_url)
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, run: str, *, kill_at: int = 0, slow: float = 0.0) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "tests.ops.worker_faults", "--queue", self.queue]
        command += ["--run", run, "--kill-at", str(kill_at), "--slow", str(slow)]
        # A session of its own, so the whole worker (master and child) can be killed at once.
        process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        self.processes.append(process)
        return process

    def send(self, task: str, *args: Any) -> Any:
        return self.app.send_task(task, args=list(args), queue=self.queue)

    def wait(self, result: Any, timeout: float = TASK_TIMEOUT) -> Any:
        """The task's return value once it succeeded (a redelivered task succeeds later)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result.state == "SUCCESS":
                return result.result
            time.sleep(0.2)
        raise AssertionError(f"task {result.id} still {result.state} after {timeout} s")

    def paused_pid(self, run: str, timeout: float = START_TIMEOUT + TASK_TIMEOUT) -> int:
        """The pid of the child paused mid-batch (it holds the batch's transaction open)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.redis.get(f"{run}:paused")
            if pid:
                return int(pid)
            time.sleep(0.1)
        raise AssertionError(f"no worker paused for {run} within {timeout} s")

    def spans(self, run: str) -> list[tuple[float, float]]:
        """(start, end) of every task the workers of ``run`` finished, by wall clock."""
        started = self.redis.hgetall(f"{run}:started")
        finished = self.redis.hgetall(f"{run}:finished")
        return sorted((float(started[key]), float(finished[key])) for key in finished)

    def ran(self, run: str) -> list[str]:
        """The names of the tasks the workers of ``run`` started, once per execution."""
        return [name.decode() for name in self.redis.lrange(f"{run}:ran", 0, -1)]

    def batches(self, run: str) -> int:
        return int(self.redis.get(f"{run}:batches") or 0)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()
        self.redis.delete(self.queue)
        # A killed worker's unacknowledged message would come back to this queue in an hour
        # (kombu's visibility timeout): drop it, the test is over.
        for tag, raw in self.redis.hscan_iter("unacked"):
            if json.loads(raw)[2] == self.queue:
                self.redis.hdel("unacked", tag)
                self.redis.zrem("unacked_index", tag)


@contextmanager
def workers(redis_url: str) -> Iterator[Workers]:
    pool = Workers(redis_url)
    try:
        yield pool
    finally:
        pool.stop_all()


@contextmanager
def fault_report(capsys: Any, name: str) -> Iterator[dict[str, Any]]:
    """Print ``FAULT <name>: PASS|FAIL`` and the figures the test put in the yielded dict, on
    the terminal whatever pytest captures, so a CI log shows each drill's outcome."""
    figures: dict[str, Any] = {}
    started = time.monotonic()
    try:
        yield figures
    except BaseException:
        verdict = "FAIL"
        raise
    else:
        verdict = "PASS"
    finally:
        figures["seconds"] = round(time.monotonic() - started, 1)
        details = ", ".join(f"{key}={value}" for key, value in figures.items())
        with capsys.disabled():
            print(f"\nFAULT {name}: {verdict} ({details})")


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


# --- data, committed for real -----------------------------------------------------------------

PREFIX = "FAULT-"


def seed_anniversary_policies(count: int, anniversary: date) -> None:
    """``count`` two-member 平安 policies whose year starts on ``anniversary`` (the first
    year opened, so the run both opens a year and expires one)."""
    from benefits.demo import policy_with_members
    from benefits.quota.anniversaries import anniversaries_run

    start = anniversary.replace(year=anniversary.year - 1)
    for index in range(count):
        policy_with_members(
            number=f"{PREFIX}A{index:03d}",
            product="pingan.health",
            members=[
                ("王一", date(1970, 1, 1) + timedelta(days=index), "self"),
                ("李二", date(1972, 1, 1) + timedelta(days=index), "spouse"),
            ],
            effective_on=start,
            expires_on=anniversary.replace(year=anniversary.year + 1) - timedelta(days=1),
        )
    anniversaries_run(start)


def ledger_snapshot() -> dict[str, Counter[tuple[Any, ...]]]:
    """The seeded policies' balances and ledger entries by their natural keys (no ids, no
    times), each counted: equal snapshots mean the same ledger, nothing twice, nothing
    missing."""
    from benefits.models import QuotaBalance, QuotaLedgerEntry

    mine = {"policy__number__startswith": PREFIX}
    balances = QuotaBalance.objects.filter(**mine).values_list(
        "policy__number", "person__name", "benefit__code", "measure", "category", "period_key",
        "granted", "held", "used",
    )  # fmt: skip
    entries = QuotaLedgerEntry.objects.filter(
        **{f"balance__{key}": value for key, value in mine.items()}
    ).values_list(
        "balance__policy__number", "balance__person__name", "balance__benefit__code",
        "balance__period_key", "kind", "amount", "reason", "actor_label",
    )  # fmt: skip
    return {"balances": Counter(balances), "entries": Counter(entries)}


def seed_sla_milestones(overdue: int, due_soon: int) -> None:
    """平安 门诊协助 requests, assigned to its vendor (which has an active webhook), with a
    contact milestone ``overdue`` of them past their deadline and ``due_soon`` of them ten
    minutes from it (inside the warning lead)."""
    from django.utils import timezone

    from benefits.demo import policy_with_members
    from benefits.models import Benefit
    from bookings.models import Milestone, ServiceRequest, VendorWebhook

    benefit = Benefit.objects.select_related("vendor").get(code="pingan.health.outpatient_assist")
    VendorWebhook.objects.update_or_create(
        vendor=benefit.vendor,
        defaults={"url": "http://127.0.0.1:9/hook", "secret": "fault-test", "active": True},
    )
    now = timezone.now()
    for index in range(overdue + due_soon):
        policy = policy_with_members(
            number=f"{PREFIX}S{index:03d}",
            product="pingan.health",
            members=[("赵四", date(1960, 1, 1) + timedelta(days=index), "self")],
            effective_on=date(2026, 1, 2),
        )
        member = policy.members.get()
        request = ServiceRequest.objects.create(
            ref=f"{PREFIX}S{index:03d}",
            policy=policy,
            member=member,
            recipient=member,
            benefit=benefit,
            vendor=benefit.vendor,
            status="assigned",
        )
        due = now - timedelta(hours=1) if index < overdue else now + timedelta(minutes=10)
        Milestone.objects.create(
            request=request,
            code="contact",
            label="服务专员联系客户",
            starts_on="assigned",
            met_by="contacted",
            state=Milestone.State.PENDING,
            started_at=due - timedelta(hours=1),
            due_at=due,
        )


def sla_snapshot() -> dict[str, Counter[tuple[Any, ...]]]:
    """The seeded milestones' outcomes and the vendor notifications the scan wrote, counted."""
    from bookings.models import Milestone, WebhookDelivery

    milestones = Milestone.objects.filter(request__ref__startswith=PREFIX)
    outcomes = Counter(
        (
            row.request.ref,
            row.code,
            row.state,
            row.warned_at is not None,
            row.breached_at is not None,
        )
        for row in milestones.select_related("request")
    )
    deliveries = Counter(
        (row.event, row.payload["ref"], row.payload["milestone"])
        for row in WebhookDelivery.objects.filter(payload__ref__startswith=PREFIX)
    )
    return {"milestones": outcomes, "deliveries": deliveries}


def purge() -> None:
    """Delete everything the seeds made (the tests commit for real)."""
    from benefits.models import Person, Policy, PolicyMember, QuotaBalance, QuotaLedgerEntry
    from bookings.models import ServiceRequest, WebhookDelivery

    policies = Policy.objects.filter(number__startswith=PREFIX)
    people = set(PolicyMember.objects.filter(policy__in=policies).values_list("person", flat=True))
    people |= set(policies.values_list("holder", flat=True))
    WebhookDelivery.objects.filter(payload__ref__startswith=PREFIX).delete()
    ServiceRequest.objects.filter(policy__in=policies).delete()
    QuotaLedgerEntry.objects.filter(balance__policy__in=policies).delete()
    QuotaBalance.objects.filter(policy__in=policies).delete()
    PolicyMember.objects.filter(policy__in=policies).delete()
    policies.delete()
    Person.objects.filter(pk__in=people).delete()


if __name__ == "__main__":
    main()
