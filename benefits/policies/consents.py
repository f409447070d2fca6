"""Consent to process personal information (PIPL art. 29: a separate consent for sensitive
information such as health records; art. 30: told the purpose and who receives it).

A ``ConsentRecord`` is one consent given by a person: its kind, the version of the text and
the purpose and recipients as they were shown, when and through which channel it was given,
and when it was withdrawn. Records are never edited otherwise: a new grant is a new record,
so the history shows what was agreed to when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConsentRecord(models.Model):
    class Kind(models.TextChoices):
        HEALTH_INFORMATION = "health_information", _("处理健康信息")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("客户门户")
        HOTLINE = "hotline", _("客服热线")
        STAFF_API = "staff_api", _("员工接口")
        ADMIN = "admin", _("管理后台")

    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("同意人"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    kind = models.CharField(_("类型"), max_length=40, choices=Kind.choices)
    version = models.CharField(_("文本版本"), max_length=40)
    purpose = models.TextField(_("处理目的（同意时展示的文本）"))
    recipients = models.JSONField(_("接收方（同意时展示）"), default=list, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    granted_at = models.DateTimeField(_("同意时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("个人信息处理同意")
        verbose_name_plural = _("个人信息处理同意")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["person", "kind", "-granted_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        # Seen by the insurers of the person (portal.kernel.tenancy).
        from benefits.policies.models import Person

        return Q(person__in=Person.objects.filter(Person.insurer_q(ids)))

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None
