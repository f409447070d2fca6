"""Workbench login: name and password (throttled by django-axes, as the admin login), then
a code sent by SMS to the account's phone (``portal.pages.otp``: its send limits and
wrong-code lock). The user is logged in only after the code; between the steps the session
holds the user's id and when the password was checked, never the password."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookings.models import VendorAccount
from bookings.vendors.services import vendor_account_of
from portal.kernel.errors import DomainError
from portal.kernel.identity import mask_phone
from portal.pages.otp import CODE_LIFETIME, otp_request, otp_verify, resend_wait, wait_text
from portal.vendor.forms import CodeForm, LoginForm

PENDING_USER_KEY = "vendor_login_user"
PENDING_SINCE_KEY = "vendor_login_since"
NEXT_KEY = "vendor_login_next"
# Password checked, code not yet entered: after this the password must be typed again.
PENDING_LIFETIME = timedelta(minutes=10)
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "POST"])
def login_password(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST" and form.is_valid():
        # Through the authentication backends: django-axes counts a wrong password and
        # refuses a locked-out client before the password is checked.
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        account = vendor_account_of(user) if user is not None else None
        if account is None:
            # The same answer whether the name exists, the password is wrong or the
            # account is not a vendor's: the form does not reveal which accounts exist.
            form.add_error(None, _("登录名或密码不正确，或该账号未开通服务商工作台"))
        else:
            try:
                otp_request(account.phone, _client_ip(request))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                request.session[PENDING_USER_KEY] = account.user_id
                request.session[PENDING_SINCE_KEY] = timezone.now().isoformat()
                request.session[NEXT_KEY] = next_url
                return redirect("vendor:login_code")
    return render(request, "vendor/login.html", {"form": form, "next": next_url or ""})


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    account = _pending_account(request)
    if account is None:
        return redirect("vendor:login")
    form = CodeForm()
    if request.method == "POST" and "resend" in request.POST:
        try:
            otp_request(account.phone, _client_ip(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("验证码已重新发送"))
        return redirect("vendor:login_code")
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                otp_verify(account.phone, form.cleaned_data["code"], _client_ip(request))
            except DomainError as exc:
                form.add_error("code", exc.message)
            else:
                next_url = request.session.pop(NEXT_KEY, None)
                request.session.pop(PENDING_USER_KEY, None)
                request.session.pop(PENDING_SINCE_KEY, None)
                # A new session key: a session id planted before login is worthless after.
                login(request, account.user, backend=AUTH_BACKEND)
                return redirect(next_url or "vendor:home")
    wait = resend_wait(account.phone)
    context = {
        "form": form,
        "masked_phone": mask_phone(account.phone),
        "code_minutes": int(CODE_LIFETIME.total_seconds() // 60),
        "resend_wait": wait,
        "resend_wait_text": wait_text(timedelta(seconds=wait)),
    }
    return render(request, "vendor/login_code.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已安全退出"))
    return redirect("vendor:login")


def _pending_account(request: HttpRequest) -> VendorAccount | None:
    user_id = request.session.get(PENDING_USER_KEY)
    since = request.session.get(PENDING_SINCE_KEY)
    if user_id is None or since is None:
        return None
    if timezone.now() - datetime.fromisoformat(since) > PENDING_LIFETIME:
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    return vendor_account_of(user) if user is not None else None


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
