"""Celery tasks: thin callers of the daily quota jobs (``benefits.quota.anniversaries``; the status
sweep, which also cancels requests, is ``bookings.tasks.sweep_policy_status``), each run
for "today" in Asia/Shanghai, where policy dates live.

All three are idempotent (a second run changes 0 rows), so a retry, a duplicate beat tick or
a second worker is harmless; ``acks_late`` and ``task_reject_on_worker_lost`` come from the
settings. Only database connection errors are retried. Each takes an optional ISO date so an
operator can re-run a day the worker missed (``run_anniversaries.delay("2026-03-01")``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from benefits.quota.anniversaries import anniversaries_run, windows_expire
from portal.kernel.clock import SHANGHAI

RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else timezone.localdate(timezone=SHANGHAI)


@shared_task(**RETRY)
def run_anniversaries(on: str | None = None) -> dict[str, int]:
    """Open the new policy year and expire the old for today's anniversaries (daily)."""
    return asdict(anniversaries_run(_day(on)))


@shared_task(**RETRY)
def expire_windows(on: str | None = None) -> int:
    """Expire windows after first use that ended before today (daily)."""
    return windows_expire(_day(on))
