"""Every request gets an id, in its log lines and in the ``X-Request-ID`` response header.

An incoming ``X-Request-ID`` (from the proxy or the caller) is kept when it is valid (8–64 of
``A-Z a-z 0-9 -``), so one id follows a call through the proxy's log and ours; anything else
is replaced by a new id. Tasks queued during the request carry it too (``portal.site.celery``).
First in ``MIDDLEWARE``: what every other middleware logs carries the id.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token

from django.http import HttpRequest, HttpResponseBase

from portal.kernel.request_context import REQUEST_ID, clean_request_id, new_request_id

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = clean_request_id(request.headers.get(HEADER)) or new_request_id()
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        except BaseException:
            REQUEST_ID.reset(token)
            raise
        response[HEADER] = request_id
        # Kept until the server closes the response, not only until this returns: Django
        # logs a returned 4xx/5xx ("Service Unavailable: /readyz") after the middleware chain;
        # closing runs the closers HttpResponseBase keeps (the stubs do not declare them).
        response._resource_closers.append(lambda: _reset(token))  # type: ignore[attr-defined]
        return response


def _reset(token: Token[str | None]) -> None:
    try:
        REQUEST_ID.reset(token)
    except (ValueError, RuntimeError):  # another context (ASGI), or reset already: nothing left
        pass
