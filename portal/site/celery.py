"""The Celery app: Redis broker, schedules kept in the database by django-celery-beat.

A task carries the request id of the web request (or task) that queued it: the publishing
process adds it to the message headers, the worker puts it back in the contextvar for the
task's log lines (``portal.kernel.request_context``).
"""

from __future__ import annotations

import os
from contextvars import Token
from typing import Any

from celery import Celery, signals

from portal.kernel.request_context import REQUEST_ID, clean_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.site.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the request id.
REQUEST_ID_HEADER = "request_id"

# Per running task id: the token that puts the contextvar back after the task.
_tokens: dict[str, Token[str | None]] = {}


@signals.before_task_publish.connect
def add_request_id_header(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    request_id = REQUEST_ID.get()
    if request_id is not None and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def _request_id_of(task: Any) -> str | None:
    request = task.request
    # A worker merges custom message headers into the request; an eager apply(headers=...)
    # keeps them apart.
    found = getattr(request, REQUEST_ID_HEADER, None)
    if found is None:
        found = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return clean_request_id(found)


@signals.task_prerun.connect
def set_request_id(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    # No header (a beat schedule, an eager call inside a request): keep what is set, so an
    # eager task inside a request still logs the request's id.
    request_id = _request_id_of(task) if task is not None else None
    if request_id is not None and task_id is not None:
        _tokens[task_id] = REQUEST_ID.set(request_id)


@signals.task_postrun.connect
def reset_request_id(task_id: str | None = None, **_kwargs: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        REQUEST_ID.reset(token)
