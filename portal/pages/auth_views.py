"""Policyholder login pages: phone → SMS code → (first time) ID number → the portal.

The phone travels in the session between steps, never in a URL. The views parse forms and
call ``portal.pages.otp`` and ``portal.pages.accounts``; each refusal is shown in the form with its
Chinese reason.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from benefits.policies.consent import consent_needed
from portal.kernel.errors import DomainError
from portal.kernel.identity import mask_phone
from portal.pages.access import portal_account
from portal.pages.accounts import account_bind, account_for_phone
from portal.pages.forms import BindForm, CodeForm, PhoneForm
from portal.pages.otp import CODE_LIFETIME, otp_request, otp_verify, resend_wait, wait_text

PHONE_SESSION_KEY = "portal_login_phone"
NEXT_SESSION_KEY = "portal_login_next"
# The accounts are reached by SMS code, never by password; ModelBackend only restores the
# user from the session on later requests.
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
HOME_URL = "/"


@require_http_methods(["GET", "POST"])
def login_phone(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            otp_request(phone, _client_ip(request))
        except DomainError as exc:
            form.add_error("phone", exc.message)
        else:
            request.session[PHONE_SESSION_KEY] = phone
            request.session[NEXT_SESSION_KEY] = next_url
            return redirect("portal:login_code")
    return render(request, "portal/login.html", {"form": form, "next": next_url or ""})


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(PHONE_SESSION_KEY)
    if not phone:
        return redirect("portal:login")
    form = CodeForm()
    if request.method == "POST" and "resend" in request.POST:
        try:
            otp_request(phone, _client_ip(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("验证码已重新发送"))
        return redirect("portal:login_code")
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                otp_verify(phone, form.cleaned_data["code"], _client_ip(request))
            except DomainError as exc:
                form.add_error("code", exc.message)
            else:
                return _log_in(request, phone)
    # The seconds left before 重新获取验证码 works, from the server: the page states them
    # without JavaScript, and its small script counts them down on the button.
    wait = resend_wait(phone)
    context = {
        "form": form,
        "masked_phone": mask_phone(phone),
        "code_minutes": int(CODE_LIFETIME.total_seconds() // 60),
        "resend_wait": wait,
        "resend_wait_text": wait_text(timedelta(seconds=wait)),
    }
    return render(request, "portal/login_code.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def login_bind(request: HttpRequest) -> HttpResponse:
    account = portal_account(request)
    if account.person_id is not None:
        return redirect(request.session.pop(NEXT_SESSION_KEY, None) or HOME_URL)
    form = BindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_bind(
                account=account,
                id_type=form.cleaned_data["id_type"],
                id_number=form.cleaned_data["id_number"],
            )
        except DomainError as exc:
            form.add_error("id_number" if exc.code == "invalid_id_number" else None, exc.message)
        else:
            messages.success(request, _("身份验证成功"))
            next_url = request.session.pop(NEXT_SESSION_KEY, None) or HOME_URL
            if account.person is not None and consent_needed(account.person):
                # PIPL art. 29: the separate consent for health information, asked at once.
                query = urlencode({"next": next_url})
                return redirect(f"{reverse('portal:consent')}?{query}")
            return redirect(next_url)
    return render(request, "portal/login_bind.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已安全退出"))
    return redirect("portal:login")


def _log_in(request: HttpRequest, phone: str) -> HttpResponse:
    account = account_for_phone(phone)
    next_url = request.session.get(NEXT_SESSION_KEY)
    # login() gives the session a new key (or a fresh session if another user was logged
    # in), so a session id planted before login is worthless after it.
    login(request, account.user, backend=AUTH_BACKEND)
    request.session.pop(PHONE_SESSION_KEY, None)
    if account.person_id is None:
        request.session[NEXT_SESSION_KEY] = next_url
        return redirect("portal:login_bind")
    request.session.pop(NEXT_SESSION_KEY, None)
    return redirect(next_url or HOME_URL)


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, the deployment must put the client's address in REMOTE_ADDR
    # (the per-IP limit would otherwise count the proxy).
    return request.META.get("REMOTE_ADDR") or None
