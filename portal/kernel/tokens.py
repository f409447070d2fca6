"""Staff API tokens: issued in admin, shown once, stored as digests."""

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from portal.models import StaffToken, token_digest

# Writing last_used_at on every call would turn each API read into a write; once a minute
# is enough to tell an admin whether a token is still in use.
LAST_USED_RESOLUTION_SECONDS = 60


def staff_token_issue(*, user: AbstractBaseUser, name: str) -> tuple[StaffToken, str]:
    """Create a token for ``user``; the raw value is returned once and never stored."""
    raw = settings.STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken.objects.create(user=user, name=name, digest=token_digest(raw), hint=raw[:12])
    return token, raw


def staff_token_authenticate(raw: str) -> StaffToken | None:
    """The active token matching ``raw`` (its user staff and active), or None."""
    if not raw.startswith(settings.STAFF_TOKEN_PREFIX):
        return None
    token = (
        StaffToken.objects.active().select_related("user").filter(digest=token_digest(raw)).first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
        LAST_USED_RESOLUTION_SECONDS
    ):
        StaffToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def staff_token_revoke(*, token: StaffToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
