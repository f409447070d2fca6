"""The two APIs: the staff API at /api/staff/v1/ (docs at /api/docs, staff login) and the
vendor API at /api/vendor/v1/ (docs at /api/vendor/v1/docs). Every error is JSON with a
stable ``code`` and a Chinese ``message``; a 500 never shows internals."""

import logging
import math
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import (
    AuthenticationError,
    AuthorizationError,
    HttpError,
    Throttled,
    ValidationError,
)
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.errors import DomainError
from portal.kernel.staff_auth import staff_auth
from portal.site.api_docs import STAFF_DESCRIPTION, VENDOR_DESCRIPTION
from portal.site.unavailable import unavailable_json

logger = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    # Chinese as characters, not \u escapes: readable in logs, curl and the docs.
    json_dumps_params = {"ensure_ascii": False}


class TextParser(Parser):
    """JSON bodies and query strings as django-ninja reads them, refusing text with a NUL
    character (422 ``invalid_input``): no field of ours means one, and PostgreSQL cannot
    store or compare it (a ``DataError``, a 500)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        _refuse_nul(data, ("body",))
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            _refuse_nul([key, *values], ("query", key))
        return super().parse_querydict(data, list_fields, request)


def _refuse_nul(value: Any, where: tuple[str, ...]) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError([{"loc": where, "msg": "不能包含空字符（\\u0000）"}])
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, (*where, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, (*where, str(index)))


# django-ninja's message for a body its parser refuses (HttpError 400).
UNPARSABLE_BODY = "Cannot parse request body"


def build_api(
    *, title: str, description: str, namespace: str, docs_decorator: Any = None
) -> NinjaAPI:
    """A NinjaAPI with our error shape. Its docs (Swagger UI) load their scripts and styles
    from our own static files (``ninja`` in INSTALLED_APPS): nothing from a CDN."""
    built = NinjaAPI(
        title=title,
        version="1",
        description=description,
        urls_namespace=namespace,
        # No online validator badge: it would load an image from validator.swagger.io.
        docs=Swagger(settings={"validatorUrl": None}),
        docs_url="/docs",
        docs_decorator=docs_decorator,
        renderer=ChineseJSONRenderer(),
        parser=TextParser(),
    )
    _install_error_handlers(built)
    return built


def _install_error_handlers(target: NinjaAPI) -> None:
    def error(request: HttpRequest, status: int, code: str, message: str, **extra: Any):
        return target.create_response(
            request, {"code": code, "message": message, **extra}, status=status
        )

    @target.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = error(request, exc.status, exc.code, exc.message, **exc.details)
        if "retry_after" in exc.details:
            response["Retry-After"] = str(exc.details["retry_after"])
        return response

    @target.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error(request, 401, "not_authenticated", "请先登录管理后台，或提供有效的员工令牌")

    @target.exception_handler(AuthorizationError)
    def on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error(request, 403, "permission_denied", "此接口仅限保险公司员工使用")

    @target.exception_handler(ValidationError)
    def on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors
        ]
        return error(request, 422, "invalid_input", "请求参数不正确", fields=fields)

    @target.exception_handler(Throttled)
    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        response = error(request, 429, "rate_limited", "请求过于频繁，请稍后再试")
        if exc.wait:
            response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        return response

    @target.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error(request, 404, "not_found", "未找到")

    @target.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, ValidationError):  # the parser refused a body's text
            return on_invalid(request, exc.__cause__)
        if exc.status_code == 400 and str(exc).startswith(UNPARSABLE_BODY):
            return error(request, 400, "invalid_json", "请求体无法解析：请发送 UTF-8 编码的 JSON")
        return error(request, exc.status_code, "http_error", str(exc))

    @target.exception_handler(OperationalError)
    @target.exception_handler(InterfaceError)
    def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A database restart or fail-over: 503 with Retry-After, not a 500
        # (portal.site.unavailable).
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        return unavailable_json()

    @target.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return error(request, 500, "server_error", "服务器内部错误，请稍后重试")


# The staff API and its docs, which describe internal systems' endpoints: behind the admin
# login (staff only). The vendor API has its own docs, public (they hold no data).
api = build_api(
    title="健康服务平台 员工 API",
    description=STAFF_DESCRIPTION,
    namespace="api",
    docs_decorator=staff_member_required,
)
vendor_api = build_api(
    title="健康服务平台 服务商 API", description=VENDOR_DESCRIPTION, namespace="vendor_api"
)


class MeOut(Schema):
    username: str
    via: str


@api.get(
    "/staff/v1/me",
    auth=staff_auth(),
    response={200: MeOut, **error_responses(*STAFF_AUTH_ERRORS)},
    tags=["auth"],
    summary="当前员工身份",
)
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
    api.add_router("/staff/v1/", "bookings.complaints.api.router")  # auth per endpoint
    vendor_api.add_router("/", "bookings.vendors.api.router")


_register_routers()
