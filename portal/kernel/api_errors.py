"""The error shape every API answers (``portal.site.api``), as an OpenAPI schema, and the
``response=`` entries that declare which client errors an endpoint can answer: schemathesis
(tests/portal/test_api_schemathesis.py) fails on an answer an endpoint does not declare."""

from __future__ import annotations

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str = Field(description="稳定的错误代码，例如 not_found、transition_not_allowed")
    message: str = Field(description="中文说明，可直接展示给业务人员")


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """``{status: ErrorOut}`` for ``response={200: X, **error_responses(401, 403)}``."""
    return dict.fromkeys(statuses, ErrorOut)


# Every staff endpoint: no or bad credentials (401), credentials without the permission (403).
STAFF_AUTH_ERRORS = (401, 403)
