"""``/healthz`` and ``/readyz`` for the load balancer and the orchestrator.

- ``/healthz``: the process answers. No database, no cache, no broker: a database outage
  must not make the orchestrator restart every web process.
- ``/readyz``: the database, the cache and the Celery broker answer; 200 with each check's
  result, else 503 naming the checks that failed. Each check is bounded (the broker's Redis
  ping has a 1 s socket timeout) and any error is a failed check, never a 500. The body says
  only ``ok`` or ``failed``: the reason (host names, error texts) goes to the log.

Both are public (no login, no session read, no cookie set) and not cached by any proxy.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds the broker's Redis may take to accept the connection and answer PING.
BROKER_TIMEOUT = 1.0
# The cache key the readiness check writes and reads back (a few bytes, expires at once).
CACHE_KEY = "health:readyz"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    token = uuid.uuid4().hex
    cache.set(CACHE_KEY, token, timeout=10)
    if cache.get(CACHE_KEY) != token:
        raise RuntimeError("the cache did not return what was just written")


def check_broker() -> None:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_timeout=BROKER_TIMEOUT,
        socket_connect_timeout=BROKER_TIMEOUT,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # any failure is "not ready", reported by name, logged in full
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "failed"
        else:
            results[name] = "ok"
    failed = [name for name, result in results.items() if result != "ok"]
    if failed:
        return JsonResponse(
            {"status": "unavailable", "checks": results, "failed": failed}, status=503
        )
    return JsonResponse({"status": "ok", "checks": results})
