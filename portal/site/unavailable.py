"""503 instead of 500 while the database cannot be reached (a PostgreSQL restart or
fail-over): the policyholder sees a Chinese page saying to try again shortly, an API client a
JSON ``{"code": "service_unavailable"}``, both with ``Retry-After``, and the load balancer
keeps the process (``/healthz`` never touches the database).

Nothing is retried here: each request that meets the outage fails at once (the connection
attempt is bounded by ``connect_timeout``), and the next request opens a new connection
(``CONN_HEALTH_CHECKS`` drops a persistent one that died), so the processes recover by
themselves when the database is back.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from portal.kernel.errors import ErrorCode

# Seconds a client is asked to wait: a restart or fail-over takes about this long.
RETRY_AFTER_SECONDS = 5
SERVICE_UNAVAILABLE = 503


def database_unavailable(exc: BaseException | None) -> bool:
    """The database could not be reached or the connection broke: not a bug in the request.
    A programming error (``ProgrammingError``, ``IntegrityError``) stays a 500."""
    return isinstance(exc, OperationalError | InterfaceError)


def unavailable_json() -> JsonResponse:
    response = JsonResponse(
        {
            "code": ErrorCode.SERVICE_UNAVAILABLE.value,
            "message": _("服务暂时不可用，请稍后重试"),
        },
        status=SERVICE_UNAVAILABLE,
        json_dumps_params={"ensure_ascii": False},
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_page() -> HttpResponse:
    # Rendered without the request: the page must not read the session or the user, which
    # live in the database that is down.
    response = HttpResponse(
        render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}),
        status=SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
