"""Who reaches the workbench: a logged-in user with an active account of an active vendor.
Everyone else is sent to the workbench login (a policyholder's or staff session included)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse

from bookings.models import VendorAccount
from bookings.vendors.services import vendor_account_of


def vendor_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Runs ``view(request, account, ...)`` for a workbench user, else redirects to login."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = vendor_account_of(request.user)
        if account is None:
            return redirect_to_login(request.get_full_path(), reverse("vendor:login"))
        return view(request, account, *args, **kwargs)

    return wrapped


def account_label(account: VendorAccount) -> str:
    return f"{account.vendor.name} · {account.user.get_username()}"
