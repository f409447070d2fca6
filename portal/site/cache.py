"""The shared Redis cache, made to fail soft: while Redis is down (restart, fail-over, a
network cut) a read is a miss and a write is dropped, instead of a 500 on every page.

What the cache holds can all be lost: the reference-data version token
(``portal.kernel.memo``: a miss means a fresh token, so memos are rebuilt, never stale) and
the API rate-limit counters (a miss means the limit is not enforced during the outage: we
prefer serving vendors and the hotline to refusing them). Each call is bounded by the socket
timeouts below, so an unreachable Redis costs at most that per call. ``/readyz`` still reports
the cache as failed (its write-then-read check sees the miss).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# Seconds for a connection attempt and for one answer: a stopped Redis refuses at once, an
# unreachable one must not hold a web worker longer than this.
SOCKET_TIMEOUT = 0.5
# One warning per process per this many seconds, not one per request during an outage.
WARN_EVERY = 10.0
_last_warning = 0.0


def _failed(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY:
        _last_warning = now
        logger.warning("cache unavailable (%s treated as a miss): %s", operation, exc)


class FailSoftClient(RedisCacheClient):
    def get(self, key: Any, default: Any) -> Any:
        try:
            return super().get(key, default)
        except redis.RedisError as exc:
            _failed("get", exc)
            return default

    def get_many(self, keys: Any) -> dict[Any, Any]:
        try:
            return super().get_many(keys)
        except redis.RedisError as exc:
            _failed("get_many", exc)
            return {}

    def has_key(self, key: Any) -> bool:
        try:
            return super().has_key(key)
        except redis.RedisError as exc:
            _failed("has_key", exc)
            return False

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        # False ("already there"): a caller using add() as a lock does not think it holds one.
        try:
            return super().add(key, value, timeout)
        except redis.RedisError as exc:
            _failed("add", exc)
            return False

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        try:
            super().set(key, value, timeout)
        except redis.RedisError as exc:
            _failed("set", exc)

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        try:
            super().set_many(data, timeout)
        except redis.RedisError as exc:
            _failed("set_many", exc)

    def touch(self, key: Any, timeout: Any) -> bool:
        try:
            return super().touch(key, timeout)
        except redis.RedisError as exc:
            _failed("touch", exc)
            return False

    def delete(self, key: Any) -> bool:
        try:
            return super().delete(key)
        except redis.RedisError as exc:
            _failed("delete", exc)
            return False

    def delete_many(self, keys: Any) -> None:
        try:
            super().delete_many(keys)
        except redis.RedisError as exc:
            _failed("delete_many", exc)


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache with ``FailSoftClient`` and bounded socket timeouts."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailSoftClient
        self._options: dict[str, Any] = {
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            **params.get("OPTIONS", {}),
        }
