"""The API root: staff API at /api/staff/v1/, docs at /api/docs. Every error is JSON with a
stable ``code`` and a Chinese ``message``; a 500 never shows internals."""

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
    ValidationError,
)
from ninja.renderers import JSONRenderer

from portal.kernel.errors import DomainError
from portal.kernel.staff_auth import staff_auth
from portal.site.unavailable import unavailable_json

logger = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    # Chinese as characters, not \u escapes: readable in logs, curl and the docs.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="健康服务平台 API",
    version="1",
    description="员工接口（/api/staff/v1/）：使用管理后台登录会话或员工令牌（Bearer）。",
    urls_namespace="api",
    docs_url="/docs",
    renderer=ChineseJSONRenderer(),
)


def error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error(request, exc.status, exc.code, exc.message, **exc.details)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(request, 401, "not_authenticated", "请先登录管理后台，或提供有效的员工令牌")


@api.exception_handler(AuthorizationError)
def on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(request, 403, "permission_denied", "此接口仅限保险公司员工使用")


@api.exception_handler(ValidationError)
def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors
    ]
    return error(request, 422, "invalid_input", "请求参数不正确", fields=fields)


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(request, 429, "rate_limited", "请求过于频繁，请稍后再试")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(request, 404, "not_found", "未找到")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A database restart or fail-over: 503 with Retry-After, not a 500 (portal.site.unavailable).
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    return unavailable_json()


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled API error on %s %s", request.method, request.path)
    return error(request, 500, "server_error", "服务器内部错误，请稍后重试")


class MeOut(Schema):
    username: str
    via: str


@api.get("/staff/v1/me", auth=staff_auth(), response=MeOut, tags=["auth"], summary="当前员工身份")
def me(request: HttpRequest) -> dict:
    """Who the credentials belong to: lets an integrator check a token before using it."""
    via = "token" if request.headers.get("authorization", "").startswith("Bearer ") else "session"
    return {"username": request.user.get_username(), "via": via}


def _register_routers() -> None:
    from benefits.api import router as catalogue_router
    from coverage.api import router as coverage_router

    api.add_router("/staff/v1/", catalogue_router, auth=staff_auth(), tags=["catalogue"])
    api.add_router("/staff/v1/", coverage_router, auth=staff_auth(), tags=["coverage"])
    api.add_router("/staff/v1/", "bookings.lifecycle.api.router")  # auth per endpoint
    api.add_router("/staff/v1/", "bookings.settlement.api.router")  # auth per endpoint
    api.add_router("/vendor/v1/", "bookings.vendors.api.router")


_register_routers()
