"""The task outbox (portal.kernel.outbox): a web request that queues Celery work while the
broker is down is saved and answers normally; the work is sent once the broker is back,
through a real worker, exactly once. Also: a rolled-back change queues nothing, rows with the
same task and arguments go as one task, failures back off, two relays at once publish each
row once.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from celery import Celery
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from benefits.models import CalendarDay, CalendarYear
from bookings.models import Milestone
from portal.kernel import outbox
from portal.models import TaskOutbox
from portal.site.celery import app as portal_app
from tests.clock import at
from tests.conftest import ensure_catalogue
from tests.factories import outpatient_request
from tests.ops import worker_faults as faults
from tests.ops.test_worker_kill import (  # noqa: F401 - sets up the test database when alone
    test_the_fault_seeds_are_purged_without_a_trace,
)

RECOMPUTE = "bookings.tasks.recompute_sla_deadlines"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SKIP LOCKED and several processes on one database",
)


# --- the outbox on its own ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.enqueue_on_commit(RECOMPUTE, [2027])
            raise RuntimeError("the change fails")
    assert not TaskOutbox.objects.exists()
    assert callbacks == []


@pytest.mark.django_db
def test_rows_with_the_same_task_and_arguments_go_as_one_task(monkeypatch):
    published = []
    monkeypatch.setattr(outbox, "_publish", lambda *args: published.append(args[:2]))
    for years in ([2027], [2027], [2028]):
        outbox.enqueue_on_commit(RECOMPUTE, years)

    result = outbox.outbox_relay()

    assert (result.sent, result.rows, result.failed) == (2, 3, 0)
    assert sorted(published) == [(RECOMPUTE, [[2027]]), (RECOMPUTE, [[2028]])]
    assert not TaskOutbox.objects.filter(sent_at__isnull=True).exists()
    assert outbox.outbox_relay().sent == 0  # sent rows are not sent again


@pytest.mark.django_db
def test_a_broker_that_refuses_backs_the_rows_off_until_it_answers(monkeypatch):
    def refuse(*args):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(outbox, "_publish", refuse)
    outbox.enqueue_on_commit(RECOMPUTE, [2027])
    outbox.enqueue_on_commit(RECOMPUTE, [2028])
    now = timezone.now()

    first = outbox.outbox_relay(now=now)
    # the first refusal stops the run: both rows wait 10 s, then 20 s, …, at most 10 minutes
    assert (first.sent, first.failed) == (0, 2)
    rows = list(TaskOutbox.objects.order_by("pk"))
    assert [(r.attempts, r.next_attempt_at, r.last_error) for r in rows] == [
        (1, now + timedelta(seconds=10), "ConnectionRefusedError")
    ] * 2
    assert outbox.outbox_relay(now=now + timedelta(seconds=9)).failed == 0  # not due yet
    assert outbox.outbox_relay(now=now + timedelta(seconds=10)).failed == 2
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [
        10,
        20,
        40,
        600,
        600,
    ]

    monkeypatch.setattr(outbox, "_publish", lambda *args: None)
    assert outbox.outbox_relay(now=now + timedelta(minutes=1)).sent == 2


@pytest.mark.django_db
def test_publishing_after_commit_never_raises_into_the_request(monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database went away mid-relay")

    monkeypatch.setattr(outbox, "outbox_relay", broken)
    outbox._attempt_after_commit("digest")  # must not raise: the change is already saved
    assert "publishing after commit failed: RuntimeError" in caplog.text


@postgresql_only
def test_two_relays_at_once_publish_each_row_once(django_db_setup, django_db_blocker, monkeypatch):
    published: list[str] = []
    lock = threading.Lock()

    def slow_publish(name, args, kwargs, task_id, request_id, connection):
        time.sleep(0.01)  # long enough for the other relay to reach the same rows
        with lock:
            published.append(task_id)

    monkeypatch.setattr(outbox, "_publish", slow_publish)
    with django_db_blocker.unblock():
        # rows left by an outage: written, never sent
        rows = TaskOutbox.objects.bulk_create(
            TaskOutbox(task=name, digest=outbox.outbox_digest(name, [], {}))
            for name in (f"tests.outbox_probe_{n}" for n in range(60))
        )
        ids = [row.pk for row in rows]
        barrier = threading.Barrier(2)
        results = []

        def relay() -> None:
            try:
                barrier.wait()
                results.append(outbox.outbox_relay())
            finally:
                connection.close()

        threads = [threading.Thread(target=relay) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert not TaskOutbox.objects.filter(pk__in=ids, sent_at__isnull=True).exists()
        finally:
            TaskOutbox.objects.filter(pk__in=ids).delete()

    assert Counter(published) == Counter(f"outbox-{pk}" for pk in ids)  # each once, none lost
    assert sum(r.sent for r in results) == 60


# --- a web request while the broker is down, then a real worker ----------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, to stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def provisional_deadline(django_db_setup, django_db_blocker):
    """Committed for real: a 平安 门诊协助 request submitted on New Year's Eve 2026 20:30
    (contact due on Friday 1 January 2027, provisional: 2027 unconfirmed), 元旦 2027 entered
    but not confirmed, and a superuser to confirm it in admin."""
    with django_db_blocker.unblock():
        ensure_catalogue()
        faults.purge()
        submitted = at(2026, 12, 31, 20, 30)
        with pytest.MonkeyPatch.context() as clock:  # events carry "now"
            clock.setattr(timezone, "now", lambda: submitted)
            request = outpatient_request(at=submitted, number=f"{faults.PREFIX}O1")
        day = CalendarDay.objects.create(
            date=date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电〔2026〕"
        )
        year, _created = CalendarYear.objects.get_or_create(year=2027)
        user = get_user_model().objects.create_superuser(
            username=f"outbox-{uuid.uuid4().hex[:6]}", password="outbox-test-pass-1"
        )
        TaskOutbox.objects.all().delete()  # what entering the day queued is not under test
        try:
            yield Milestone.objects.get(request=request, code="contact"), year, user
        finally:
            TaskOutbox.objects.all().delete()
            year.delete()
            day.delete()
            user.delete()
            faults.purge()


@postgresql_only
def test_a_request_while_the_broker_is_down_is_saved_and_its_work_runs_once_it_is_back(
    private_redis, provisional_deadline, django_db_blocker, monkeypatch, capsys
):
    contact, year, user = provisional_deadline
    assert (contact.due_at, contact.provisional) == (at(2027, 1, 1, 10, 30), True)
    monkeypatch.setattr(outbox, "BACKOFF_FIRST", timedelta(0))  # the retry is due at once
    with faults.fault_report(capsys, "broker down during an admin change") as report:
        with django_db_blocker.unblock(), faults.workers(private_redis.url) as pool:
            # The web process's app: the site's settings (no result backend), this broker.
            web_app = Celery("outbox-web", set_as_current=False)
            web_app.config_from_object("django.conf:settings", namespace="CELERY")
            web_app.conf.update(broker_url=private_redis.url, task_default_queue=pool.queue)
            web_app.set_current()
            try:
                # given the broker is down
                private_redis.stop()

                # when an admin confirms 2027 (an action that queues the recomputation)
                client = Client()
                client.force_login(user)
                started = time.monotonic()
                response = client.post(
                    "/admin/benefits/calendaryear/",
                    {"action": "confirm_years", "_selected_action": [year.pk]},
                )
                report["request_ms"] = round((time.monotonic() - started) * 1000)

                # then the admin's change is saved and answered, the work waits in the outbox
                assert response.status_code == 302
                # without waiting through kombu's reconnection loop (about 6 s)
                assert report["request_ms"] < 2000
                year.refresh_from_db()
                assert year.confirmed
                waiting = TaskOutbox.objects.get()
                assert (waiting.task, waiting.args, waiting.sent_at) == (RECOMPUTE, [[2027]], None)
                assert waiting.attempts == 1 and waiting.last_error == "OperationalError"
                contact.refresh_from_db()
                assert contact.provisional is True

                # when the broker is back and the beat's relay runs on a real worker
                private_redis.start()
                run = f"outbox-{uuid.uuid4().hex[:8]}"
                pool.start(run)
                relayed = pool.wait(pool.send("portal.tasks.relay_outbox"))
                moved_by = time.monotonic() + faults.TASK_TIMEOUT
                while time.monotonic() < moved_by:
                    contact.refresh_from_db()
                    if not contact.provisional:
                        break
                    time.sleep(0.2)
                # a second relay finds nothing left to send
                again = pool.wait(pool.send("portal.tasks.relay_outbox"))
                time.sleep(1)  # a duplicate, had one been published, would have run by now
                ran = pool.ran(run)
            finally:
                portal_app.set_current()
                portal_app.set_default()

        # then the deadline moved, by one recomputation
        assert (contact.due_at, contact.provisional) == (at(2027, 1, 4, 10, 30), False)
        assert (relayed["sent"], relayed["rows"], again["sent"]) == (1, 1, 0)
        assert ran.count(RECOMPUTE) == 1
        assert TaskOutbox.objects.get().sent_at is not None
        report["recomputations"] = ran.count(RECOMPUTE)
