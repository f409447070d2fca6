"""The site's error answers: a Chinese page in the portal's layout (templates 400.html,
403.html, 404.html, 500.html), or JSON ``{"code", "message"}`` under ``/api/`` — the NinjaAPI
answers its own routes' errors, these handlers answer what never reached it (an unknown
``/api/`` URL, a failure in a middleware).

``handler500`` (``server_error``) renders without the request's context: the page must not
read the session or the user, whose tables may be what failed."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from portal.kernel.errors import ErrorCode
from portal.site.unavailable import database_unavailable, unavailable_json, unavailable_page

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status: int, code: ErrorCode, message: str) -> JsonResponse:
    return JsonResponse(
        {"code": code.value, "message": message},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return json_error(400, ErrorCode.INVALID_INPUT, _("请求不正确"))
    return defaults.bad_request(request, exception, template_name="400.html")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return json_error(403, ErrorCode.PERMISSION_DENIED, _("没有权限访问"))
    return defaults.permission_denied(request, exception, template_name="403.html")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return json_error(404, ErrorCode.NOT_FOUND, _("未找到"))
    return defaults.page_not_found(request, exception, template_name="404.html")


def server_error(request: HttpRequest) -> HttpResponse:
    """Called for any exception a view or a middleware let through (the session saved after
    the view, too), still inside the ``except`` block: a database outage is a 503."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_json() if is_api(request) else unavailable_page()
    if is_api(request):
        return json_error(500, ErrorCode.SERVER_ERROR, _("服务器内部错误，请稍后重试"))
    # Django's view renders 500.html with no context at all (no request, no user).
    return defaults.server_error(request, template_name="500.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form posted from a page kept open too long (its token
    expired with the session) or with cookies blocked. Chinese, in the portal's layout, with
    what to do; the technical ``reason`` goes nowhere the user sees."""
    if is_api(request):
        return json_error(403, ErrorCode.PERMISSION_DENIED, _("请求已失效，请刷新页面后重试"))
    response = render(request, "403_csrf.html", status=403)
    response["Cache-Control"] = "no-store"
    return response
