"""The id of the request (or task) being handled, for the log lines it writes.

Set by ``portal.site.request_id.RequestIdMiddleware`` for a web request and by the Celery
signals in ``portal.site.celery`` for a task (from the header the publishing request added);
read by ``portal.kernel.logjson.JsonFormatter``. A contextvar, not a thread local: each
thread and each asyncio task sees its own value.

This module imports nothing from the apps (the logging configuration loads it early).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

# What an incoming X-Request-ID may be: a proxy's or a client's id is kept only if it cannot
# break a log line or a header (no spaces, quotes, newlines) and is not absurdly long.
_VALID = re.compile(r"[A-Za-z0-9-]{8,64}")

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def clean_request_id(value: object) -> str | None:
    """``value`` if it is a valid request id (8–64 of ``A-Z a-z 0-9 -``), else ``None``."""
    if isinstance(value, str) and _VALID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """A fresh id: 32 hex digits (a UUID4 without dashes)."""
    return uuid.uuid4().hex
