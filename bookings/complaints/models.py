"""Complaints (投诉) under 《银行业保险业消费投诉处理管理办法》(银保监会令2020年第3号): who
complained about what, the regulatory clock (15 days, 30 when complex, a further 30 after
internal approval), the staff member handling it, the replies sent to the complainant and
the outcome that closes it. The clock's reading of "days" is in ``bookings.complaints.clock``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Complaint(models.Model):
    class Category(models.TextChoices):
        SERVICE_QUALITY = "service_quality", _("服务质量")
        DELAY = "delay", _("服务不及时")
        CONDUCT = "conduct", _("服务态度")
        QUOTA_OR_FEES = "quota_or_fees", _("额度与费用")
        PRIVACY = "privacy", _("个人信息保护")
        OTHER = "other", _("其他")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("网上服务平台")
        HOTLINE = "hotline", _("客服热线")

    class Status(models.TextChoices):
        OPEN = "open", _("处理中")
        CLOSED = "closed", _("已办结")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("投诉成立")
        PARTLY = "partly", _("部分成立")
        NOT_UPHELD = "not_upheld", _("投诉不成立")

    ref = models.CharField(_("投诉编号"), max_length=20, unique=True)
    # Every complainant is a customer on a policy: the policy names the insurer (tenancy).
    policy = models.ForeignKey(
        "benefits.Policy", verbose_name=_("保单"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("投诉人"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    # About one request, or in general (then the vendor may be named by staff).
    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("相关服务申请"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    benefit = models.ForeignKey(
        "benefits.Benefit",
        verbose_name=_("权益"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vendor = models.ForeignKey(
        "benefits.Vendor",
        verbose_name=_("服务商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    category = models.CharField(_("投诉类别"), max_length=20, choices=Category.choices)
    description = models.TextField(_("投诉内容"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("受理时间"))
    # The clock (bookings.complaints.clock): the last day in time, and the instant it ends.
    time_limit_days = models.PositiveSmallIntegerField(_("处理时限（日）"), default=15)
    due_on = models.DateField(_("处理期限（含当日）"))
    due_at = models.DateTimeField(_("期限截止时刻"))
    extension_reason = models.CharField(_("延长至30日的原因"), max_length=300, blank=True)
    extended_at = models.DateTimeField(_("延长时间"), null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("延长操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approval_reason = models.CharField(_("再延长30日的审批理由"), max_length=300, blank=True)
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_text = models.TextField(_("处理意见"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The SLA scan's claims (bookings.complaints.clock.complaint_scan).
    warned_at = models.DateTimeField(_("临期提醒时间"), null=True, blank=True)
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)

    insurer_lookup = "policy__product__insurer"

    class Meta:
        verbose_name = _("客户投诉")
        verbose_name_plural = _("客户投诉")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("extend_complaint", _("延长投诉处理时限至30日")),
            ("approve_extension_complaint", _("审批投诉处理时限再延长30日")),
        ]
        indexes = [
            # The scan's question: open complaints due before T (warned or not).
            models.Index(fields=["status", "due_at"], name="complaint_status_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(time_limit_days__in=[15, 30, 60]), name="complaint_time_limit"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(outcome="") & Q(closed_at__isnull=False)),
                name="closed_complaint_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_days__lt=60) | Q(approved_by__isnull=False),
                name="sixty_days_needs_approval",
            ),
        ]

    def __str__(self) -> str:
        return self.ref


class ComplaintReply(models.Model):
    """What the insurer told the complainant: shown in the portal, announced by SMS."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("投诉"), on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField(_("回复内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("回复时间"), auto_now_add=True)

    insurer_lookup = "complaint__policy__product__insurer"

    class Meta:
        verbose_name = _("投诉回复")
        verbose_name_plural = _("投诉回复")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id}@{self.created_at:%Y-%m-%d}"
