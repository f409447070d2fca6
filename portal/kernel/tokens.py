"""API tokens, staff and vendor alike: issued once (the raw value is shown once and never
stored), found by SHA-256 digest, revocable. ``ApiToken`` is the abstract model both token
tables extend; ``ApiTokenAdmin`` the admin both use; the owner (a user, a vendor) is the
concrete model's own foreign key."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.kernel.tenancy import InsurerScopedAdmin

# Writing last_used_at on every call would turn each API read into a write; once a minute
# is enough to tell an admin whether a token is still in use.
LAST_USED_RESOLUTION_SECONDS = 60
# 32 random bytes: 43 URL-safe characters after the prefix.
TOKEN_RANDOM_BYTES = 32
HINT_CHARS = 12


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """What every API token stores: never the token, only its digest and first characters."""

    # A public prefix that makes a leaked token recognisable to secret scanners.
    PREFIX: ClassVar[str]

    name = models.CharField(_("用途"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, shown in admin so a token can be recognised without its secret.
    hint = models.CharField(_("令牌前缀"), max_length=HINT_CHARS, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}…（{self.name}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def token_issue[T: "ApiToken"](model: type[T], *, name: str, **owner: Any) -> tuple[T, str]:
    """Create a token of ``model`` for ``owner`` (``user=…``, ``vendor=…``); the raw value
    is returned once and never stored."""
    raw = model.PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)
    token = model._default_manager.create(
        name=name, digest=token_digest(raw), hint=raw[:HINT_CHARS], **owner
    )
    return token, raw


def token_authenticate[T: "ApiToken"](tokens: QuerySet[T], raw: str) -> T | None:
    """The token of ``tokens`` (already narrowed to usable ones, owners loaded) matching
    ``raw``, or None. One query, plus at most once a minute the ``last_used_at`` update."""
    if not raw.startswith(tokens.model.PREFIX):
        return None
    token = tokens.filter(digest=token_digest(raw), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (
        (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        type(token)._default_manager.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


class ApiTokenAdmin(InsurerScopedAdmin):
    """Issue (the raw token shown once in a message), read and revoke tokens. Subclasses name
    the owner field and may narrow what a user sees."""

    owner_field: ClassVar[str]
    issued_message = _("新令牌（只显示这一次，请立即复制保存）：%(raw)s")
    list_filter: ClassVar[tuple[str, ...]] = ("revoked_at",)
    actions = ("revoke",)

    def get_list_display(self, request: HttpRequest) -> Any:
        return ("hint", "name", self.owner_field, "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return (self.owner_field, "name")
        return (self.owner_field, "name", "hint", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [self.owner_field, "hint", "created_at", "last_used_at", "revoked_at"]

    def issue_owner(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {self.owner_field: getattr(obj, self.owner_field)}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = token_issue(type(obj), name=obj.name, **self.issue_owner(request, obj))
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        messages.warning(request, self.issued_message % {"raw": raw})

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token)
        self.message_user(request, _("已吊销。"), messages.SUCCESS)
