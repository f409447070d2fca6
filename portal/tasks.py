"""Celery tasks of the site: the outbox relay (``portal.kernel.outbox``)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from django.db import OperationalError

from portal.kernel.outbox import outbox_prune, outbox_relay


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def relay_outbox() -> dict[str, int]:
    """Publish the outbox rows that are due (every minute) and forget the ones sent a week
    ago. Two of these at once (two beats) publish each row once: rows are locked, skipped
    by the other."""
    result = asdict(outbox_relay())
    result["pruned"] = outbox_prune()
    return result
