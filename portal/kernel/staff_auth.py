"""Who may call a staff endpoint: a staff user (by admin session or Bearer token) holding
``portal.use_staff_api`` and the endpoint's own permissions. Checked before the body is
read, so a caller without the permission learns nothing from validation errors."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer

from portal.kernel.tenancy import require
from portal.kernel.tokens import token_authenticate, token_issue, token_revoke


def staff_token_authenticate(raw: str) -> Any:
    """The active staff token matching ``raw`` (its user staff and active), or None. The
    model is looked up by label: the kernel imports no app."""
    model = apps.get_model("portal", "StaffToken")
    tokens = model.objects.select_related("user").filter(user__is_active=True, user__is_staff=True)
    return token_authenticate(tokens, raw)


def staff_token_issue(*, user: Any, name: str) -> tuple[Any, str]:
    """A new staff token for ``user``; the raw value is returned once and never stored."""
    return token_issue(apps.get_model("portal", "StaffToken"), name=name, user=user)


def staff_token_revoke(*, token: Any) -> None:
    token_revoke(token)


# Every staff endpoint needs it besides its own permissions: a staff user without a role
# gets 403 everywhere, /me included.
STAFF_API_PERMISSION = "portal.use_staff_api"


class StaffTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``, a token issued to a staff user in admin. The token
    acts with its user's roles and insurers, nothing more."""

    def __init__(self, *perms: str):
        super().__init__()
        self.perms = (STAFF_API_PERMISSION, *perms)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        staff_token = staff_token_authenticate(token)
        if staff_token is None:
            return None
        request.user = staff_token.user
        require(request, *self.perms)
        return staff_token.user


class StaffSessionAuth(APIKeyCookie):
    """The admin's own login session (CSRF-checked for writes)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, *perms: str):
        super().__init__()
        self.perms = (STAFF_API_PERMISSION, *perms)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if not (user.is_active and user.is_staff):
            raise AuthorizationError()
        require(request, *self.perms)
        return user


def staff_auth(*perms: str) -> list[Any]:
    """The auth of a staff endpoint that needs ``perms`` (besides the staff API one)."""
    return [StaffTokenAuth(*perms), StaffSessionAuth(*perms)]
