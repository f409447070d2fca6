"""Celery tasks: thin callers of the SLA scan (request milestones and complaints), the
scheduled messages, vendor webhooks and the daily policy status sweep.

Each is idempotent (rows are claimed with conditional UPDATEs), so a retry or a second
worker changes nothing; ``acks_late`` and ``task_reject_on_worker_lost`` come from the
settings, so a worker lost mid-task hands it to another. Only database connection errors are
retried: anything else is a bug to read in the logs, not to repeat.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from bookings.complaints.clock import complaint_scan
from bookings.documents.retention import records_purge
from bookings.lifecycle.policy_end import policy_status_sweep
from bookings.messages.followups import followups_send
from bookings.sla.clocks import sla_recompute, sla_scan
from bookings.vendors import webhooks
from portal.kernel.clock import SHANGHAI

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRY)
def scan_sla() -> dict[str, int]:
    """Warn of milestones and complaints due soon, breach (escalate) the overdue ones (every
    5 minutes); the counts add both."""
    now = timezone.now()
    milestones, complaints = sla_scan(now), complaint_scan(now)
    return {
        "warned": milestones.warned + complaints.warned,
        "breached": milestones.breached + complaints.breached,
    }


@shared_task(**RETRY)
def send_follow_ups() -> int:
    """Send the reminders and follow-ups that are due (every 10 minutes)."""
    return followups_send(timezone.now())


@shared_task(**RETRY)
def recompute_sla_deadlines(years: list[int]) -> int:
    """Recompute open deadlines after the working calendar of ``years`` changed."""
    return sla_recompute(years)


@shared_task(**RETRY)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one vendor webhook delivery."""
    return webhooks.webhook_deliver(delivery_id)


@shared_task(**RETRY)
def deliver_webhooks() -> int:
    """Queue an attempt for every delivery that is due (every minute); a slow vendor holds
    up only its own attempt. Queuing one twice is harmless: the attempt is claimed."""
    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


@shared_task(**RETRY)
def sweep_policy_status(on: str | None = None) -> dict[str, int]:
    """Expire policies past their term, cancel their requests not yet in service, end the
    entitlements of ended policies (daily; ``on``: an ISO date to re-run a missed day)."""
    today = date.fromisoformat(on) if on else timezone.localdate(timezone=SHANGHAI)
    return asdict(policy_status_sweep(today))


@shared_task(**RETRY)
def purge_expired_records() -> dict[str, int]:
    """Delete the medical records of requests closed longer than the retention period
    (daily); the counts (the ids are in the log)."""
    result = records_purge(timezone.now())
    return {"requests": len(result.requests), "documents": len(result.documents)}
