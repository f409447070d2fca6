"""The admin login's lockout (django-axes): the Chinese page a locked-out client sees, and
the name under which axes records an attempt.

Axes guards the admin login and the vendor workbench's password step (``AXES_ONLY_ADMIN_SITE``
with ``is_admin_request`` extended to the workbench login); policyholders log in by SMS code,
throttled by ``portal.pages.otp``.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from portal.kernel.logmask import mask_personal_numbers


def is_vendor_login(request: HttpRequest) -> bool:
    """The workbench's two login steps: the password (counted, locked) and the SMS code,
    after which the user is logged in and the wrong passwords are forgotten."""
    return getattr(request, "path", None) in (reverse("vendor:login"), reverse("vendor:login_code"))


class AdminOnlyDatabaseHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: axes' database handler, recording logins and logouts on the admin
    site (and the workbench's password step) only. Policyholders log in through
    ``django.contrib.auth.login`` too (after the SMS code), and axes would otherwise keep a
    row with their IP address and browser for every portal login, forever."""

    def is_admin_request(self, request: HttpRequest) -> bool:
        # The workbench's password step is throttled like the admin login: same limit, same
        # cool-off, attempts in the same admin list.
        return super().is_admin_request(request) or is_vendor_login(request)

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        if request is not None and self.is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)


def attempt_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username typed on the admin login, with any phone or
    ID number in it masked, so that a policyholder who types their phone into the admin
    login is not recorded in axes' tables, logs or page in full. Staff usernames are kept:
    the attempts in admin say whose account is under attack."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = credentials.get(field) if credentials else request.POST.get(field)
    return None if username is None else mask_personal_numbers(str(username))


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: a 429 page in Chinese saying until when the account is
    locked for this client. Every attempt during the lock starts the cool-off again
    (axes' ``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``), so the lock ends one cool-off
    after this attempt."""
    cool_off = get_cool_off(request)
    attempted_at = getattr(request, "axes_attempt_time", None) or timezone.now()
    locked_until = attempted_at + cool_off if cool_off else None
    if is_vendor_login(request):
        response = render(
            request, "vendor/lockout.html", {"locked_until": locked_until}, status=429
        )
    else:
        response = _admin_lockout(request, credentials, locked_until)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def _admin_lockout(
    request: HttpRequest, credentials: dict[str, Any] | None, locked_until: Any
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "登录已暂时锁定",
        "username": get_client_username(request, credentials) or "",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "locked_until": locked_until,
    }
    return render(request, "axes/lockout.html", context, status=429)
