"""A transactional outbox for Celery tasks queued by a web request (or any other change).

``enqueue_on_commit(task, *args)`` writes a ``portal.TaskOutbox`` row in the caller's
transaction and, once that commits, tries to publish it at once. If the broker is down the
attempt fails quietly (the request that caused it is already saved and answers normally)
and the row waits; the ``portal.tasks.relay_outbox`` beat job publishes what is due every
minute, backing off per row, until the broker is back. A rolled-back change leaves no row,
so no work for a change that never happened.

Delivery is at least once: a relay killed between the publish and its commit publishes the
row again. Tasks queued through the outbox must therefore be idempotent (the SLA
recomputation is: it recomputes deadlines from the calendar). Each publish carries the task
id ``outbox-<row id>`` so a consumer can tell a resend. Rows waiting together with the same
task and arguments are sent as one task (ten calendar rows saved in one admin change queue
one recomputation): every one of them is committed before that task is published, so it
sees all their changes.

Two relays (the on-commit attempt and the beat job, or two beats) never publish the same
row: each locks the rows it sends with ``SELECT … FOR UPDATE SKIP LOCKED``.

The kernel imports no app: the model is found through the app registry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from portal.kernel.request_context import REQUEST_ID

logger = logging.getLogger(__name__)

# Rows read per relay transaction; the relay loops until nothing is due.
RELAY_BATCH = 200
# Back-off after the n-th failed attempt: 10 s, 20 s, 40 s … at most 10 minutes, so a broker
# back after an outage gets the backlog within one beat tick or ten minutes.
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=10)
# Sent rows are kept this long (to answer "did it go out?"), then deleted by the relay.
KEEP_SENT = timedelta(days=7)
# The relay's own broker connection: no reconnection loop (kombu's default retries for about
# 6 s before a refused connection raises, which a request would wait through) and a short
# connect timeout for a broker that does not answer at all; the row's back-off retries.
PUBLISH_TRANSPORT = {"max_retries": 0, "socket_connect_timeout": 2}
# Same header as portal.site.celery.REQUEST_ID_HEADER (the kernel cannot import the site).
REQUEST_ID_HEADER = "request_id"


def _model() -> Any:
    # Any: the registry's model class, whose manager mypy cannot see through get_model.
    return apps.get_model("portal", "TaskOutbox")


def _name(task: Any) -> str:
    return task if isinstance(task, str) else str(task.name)


def outbox_digest(task: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    canonical = json.dumps([task, list(args), kwargs], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> int:
    """Queue ``task`` (a Celery task or its name) with JSON arguments in the current
    transaction; returns the outbox row's id. Outside a transaction the row is written and
    tried at once."""
    name = _name(task)
    digest = outbox_digest(name, args, kwargs)
    row = _model().objects.create(
        task=name,
        args=list(args),
        kwargs=kwargs,
        digest=digest,
        request_id=REQUEST_ID.get() or "",
    )
    transaction.on_commit(lambda: _attempt_after_commit(digest))
    return int(row.pk)


def _attempt_after_commit(digest: str) -> None:
    # Runs after the caller's commit, inside its request: whatever happens here must not
    # raise, or a saved change would answer 500.
    try:
        outbox_relay(digests=[digest])
    except Exception as exc:  # the row stays and the beat relay sends it
        logger.warning("outbox: publishing after commit failed: %s", type(exc).__name__)


@dataclass(frozen=True)
class RelayResult:
    sent: int  # tasks published
    rows: int  # outbox rows they covered
    failed: int  # tasks that could not be published (their rows wait)


def backoff(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failure."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _publish(
    name: str, args: list[Any], kwargs: dict[str, Any], task_id: str, rid: str, connection: Any
) -> None:
    app = current_app
    headers = {REQUEST_ID_HEADER: rid} if rid else {}
    task = app.tasks.get(name)
    # No publish retries of Celery's own: a down broker fails this attempt fast and the row's
    # back-off decides when to try again. A registered task goes through apply_async, which
    # honours task_always_eager (tests, a worker-less demo); send_task would not.
    options: dict[str, Any] = {
        "task_id": task_id,
        "headers": headers,
        "retry": False,
        "connection": connection,
    }
    if task is not None:
        task.apply_async(args=args, kwargs=kwargs, **options)
    else:
        app.send_task(name, args=args, kwargs=kwargs, **options)


def outbox_relay(
    *, digests: Sequence[str] | None = None, now: datetime | None = None
) -> RelayResult:
    """Publish the unsent rows that are due (only those of ``digests`` if given), one task per
    digest, batch by batch. The first publish that fails stops the run (the broker is down or
    refusing): that row and the rest of its batch get their next attempt backed off."""
    model = _model()
    sent = rows = failed = 0
    last_id = 0
    broken: Exception | None = None
    # One connection for the run, opened at the first publish (none if nothing is due).
    with current_app.connection_for_write(transport_options=PUBLISH_TRANSPORT) as connection:
        while True:
            moment = now or timezone.now()
            with transaction.atomic():
                due = model.objects.filter(
                    sent_at__isnull=True, next_attempt_at__lte=moment, pk__gt=last_id
                )
                if digests is not None:
                    due = due.filter(digest__in=list(digests))
                batch = list(due.order_by("pk").select_for_update(skip_locked=True)[:RELAY_BATCH])
                if not batch:
                    break
                last_id = batch[-1].pk
                groups: dict[str, list[Any]] = {}
                for row in batch:
                    groups.setdefault(row.digest, []).append(row)
                for group in groups.values():
                    ids = [row.pk for row in group]
                    if broken is None:
                        broken = _send_group(group, connection)
                        if broken is None:
                            model.objects.filter(pk__in=ids).update(sent_at=timezone.now())
                            sent, rows = sent + 1, rows + len(ids)
                            continue
                    failed += 1
                    attempts = group[0].attempts + 1
                    model.objects.filter(pk__in=ids).update(
                        attempts=attempts,
                        next_attempt_at=moment + backoff(attempts),
                        last_error=type(broken).__name__[:200],
                    )
            if broken is not None or len(batch) < RELAY_BATCH:
                break
    return RelayResult(sent=sent, rows=rows, failed=failed)


def _send_group(group: list[Any], connection: Any) -> Exception | None:
    """Publish one group's task; the exception if it could not be published."""
    first = group[0]
    try:
        _publish(
            first.task,
            first.args,
            first.kwargs,
            f"outbox-{first.pk}",
            first.request_id,
            connection,
        )
    except Exception as exc:  # broker down or refusing: the caller backs the rows off
        logger.warning(
            "outbox: %s (row %s, attempt %d) not published: %s",
            first.task,
            first.pk,
            first.attempts + 1,
            type(exc).__name__,
        )
        return exc
    return None


def outbox_prune(*, now: datetime | None = None) -> int:
    """Delete rows sent more than ``KEEP_SENT`` ago; returns how many."""
    cutoff = (now or timezone.now()) - KEEP_SENT
    deleted, _by_model = _model().objects.filter(sent_at__lt=cutoff).delete()
    return deleted
