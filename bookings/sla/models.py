"""The promised deadlines (SLA milestones) of a request."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Milestone(models.Model):
    """One promise of the benefit's SLA on one request ("2个工作小时内联系客户"): the clock
    starts when ``starts_on`` happens; a scanner finds those due soon and breached."""

    class State(models.TextChoices):
        WAITING = "waiting", _("未开始")  # the starting event has not happened yet
        PENDING = "pending", _("进行中")
        MET = "met", _("已达成")
        BREACHED = "breached", _("已超时")
        CANCELLED = "cancelled", _("已取消")

    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="milestones",
    )
    code = models.CharField(_("节点"), max_length=60)
    label = models.CharField(_("名称"), max_length=120)
    starts_on = models.CharField(_("起算事件"), max_length=30)
    # The event that meets the promise (contacted, scheduled, completed …).
    met_by = models.CharField(_("达成事件"), max_length=30)
    target = models.CharField(_("类型"), max_length=10, default="deadline")  # or "average"
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.WAITING)
    started_at = models.DateTimeField(_("起算时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    due_from_at = models.DateTimeField(_("最早时间"), null=True, blank=True)
    # Computed on weekdays because the year's holidays are not confirmed yet.
    provisional = models.BooleanField(_("暂定"), default=False)
    met_at = models.DateTimeField(_("达成时间"), null=True, blank=True)
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    warned_at = models.DateTimeField(_("临期提醒时间"), null=True, blank=True)
    # Set while the clock stands still (the terms' ``paused_by``: waiting for the member, an
    # investigation); the next event restarts it and moves ``due_at``.
    paused_at = models.DateTimeField(_("暂停计时时间"), null=True, blank=True)
    clause = models.TextField(_("手册条款"), blank=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("服务时效节点")
        verbose_name_plural = _("服务时效节点")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "code"], name="one_milestone_per_code"),
        ]
        indexes = [
            # The scanner's two questions: pending ones due before T, and not yet warned.
            models.Index(fields=["state", "due_at"], name="milestone_state_due"),
        ]

    def __str__(self) -> str:
        return self.label
