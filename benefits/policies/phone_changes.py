"""The record of every change of a person's phone, whatever channel made it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.policies.models import Person


class PhoneChange(models.Model):
    """Who changed a person's phone, when, through which channel, from what to what.

    The phone is what the portal's SMS login proves, so a change of it moves who can reach
    the person's records; the numbers are kept masked only (the full old number is nowhere
    once it has been replaced)."""

    class Channel(models.TextChoices):
        API = "api", _("员工接口")
        IMPORT = "import", _("保单导入")
        ADMIN = "admin", _("管理后台")

    person = models.ForeignKey(
        Person,
        verbose_name=_("人员"),
        # Erasing a person (PIPL) takes its masked history with it; nothing else may.
        on_delete=models.CASCADE,
        related_name="phone_changes",
    )
    old_masked = models.CharField(_("原手机号"), max_length=20, blank=True)
    new_masked = models.CharField(_("新手机号"), max_length=20, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作来源"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    at = models.DateTimeField(_("变更时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("手机号变更记录")
        verbose_name_plural = _("手机号变更记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_masked or '—'} → {self.new_masked or '—'}"

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        # Seen by the insurers of the person (portal.kernel.tenancy).
        return Q(person__in=Person.objects.filter(Person.insurer_q(ids)))
