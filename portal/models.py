import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class StaffTokenQuerySet(models.QuerySet["StaffToken"]):
    def active(self) -> "StaffTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True, user__is_staff=True)


class StaffToken(models.Model):
    """A per-user token for the staff API. Only the SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="staff_tokens",
    )
    name = models.CharField(_("用途"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, shown in admin so a token can be recognised without its secret.
    hint = models.CharField(_("令牌前缀"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    objects = StaffTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("员工接口令牌")
        verbose_name_plural = _("员工接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}…（{self.name}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
