"""What we told a person, and the reminders and follow-up calls planned for a request."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """What we told a person about a request, in the portal (and by SMS / e-mail)."""

    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        # A notification about a request belongs to the request's insurer; one without a
        # request (a policy-level notice) to the person's insurers.
        from benefits.models import Person

        return Q(request__policy__product__insurer__in=ids) | Q(
            request__isnull=True, person__in=Person.objects.filter(Person.insurer_q(ids))
        )


class FollowUp(models.Model):
    """A scheduled check-in after a service (monthly 回访, 3 follow-ups within 3 months) or
    the day-before appointment reminder."""

    class Kind(models.TextChoices):
        APPOINTMENT_REMINDER = "appointment_reminder", _("就诊前一日提醒")
        FOLLOW_UP = "follow_up", _("回访")

    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    due_at = models.DateTimeField(_("计划时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    cancelled = models.BooleanField(_("已取消"), default=False)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("提醒与回访")
        verbose_name_plural = _("提醒与回访")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind", "due_at"], name="one_follow_up_per_time"
            ),
        ]
        indexes = [models.Index(fields=["sent_at", "due_at"], name="follow_up_due")]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.kind}@{self.due_at:%Y-%m-%d}"
