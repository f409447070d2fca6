"""Service requests: what a policyholder asked for, every step it went through, and what
the vendor reported as consumed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    NEEDS_RECORDS = "needs_records", _("待补充资料")
    UNDER_REVIEW = "under_review", _("审核中")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    ASSIGNED = "assigned", _("已派单")
    SCHEDULED = "scheduled", _("已预约")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("已完成")
    FAILED = "failed", _("未能提供")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("爽约")


OPEN_STATUSES = frozenset(
    {
        Status.SUBMITTED,
        Status.NEEDS_RECORDS,
        Status.UNDER_REVIEW,
        Status.APPROVED,
        Status.ASSIGNED,
        Status.SCHEDULED,
        Status.IN_SERVICE,
    }
)


class QuotaOutcome(models.TextChoices):
    NONE = "none", _("不占额度")
    HELD = "held", _("占用中")
    USED = "used", _("已使用")
    RELEASED = "released", _("已返还")


class ServiceRequest(models.Model):
    """One use of one benefit by one insured member (or a family member on their behalf)."""

    ref = models.CharField(_("申请编号"), max_length=20, unique=True)
    policy = models.ForeignKey(
        "benefits.Policy", verbose_name=_("保单"), on_delete=models.PROTECT, related_name="requests"
    )
    # The insured whose benefit is used, and who receives the service (a family member
    # for shared benefits).
    member = models.ForeignKey(
        "benefits.PolicyMember",
        verbose_name=_("被保险人"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    recipient = models.ForeignKey(
        "benefits.PolicyMember",
        verbose_name=_("服务对象"),
        on_delete=models.PROTECT,
        related_name="received_requests",
    )
    benefit = models.ForeignKey(
        "benefits.Benefit", verbose_name=_("权益"), on_delete=models.PROTECT, related_name="+"
    )
    option = models.CharField(_("所选项目"), max_length=60, blank=True)  # 3选1
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    quota_outcome = models.CharField(
        _("额度"), max_length=10, choices=QuotaOutcome.choices, default=QuotaOutcome.NONE
    )
    # What the policyholder told us: planned time, hospital, stay, diagnosis, place.
    planned_at = models.DateTimeField(_("期望服务时间"), null=True, blank=True)
    hospital = models.CharField(_("医院"), max_length=200, blank=True)
    region = models.ForeignKey(
        "coverage.Region",
        verbose_name=_("服务城市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    context = models.JSONField(_("申请信息"), default=dict, blank=True)
    amount = models.DecimalField(
        _("金额/天数"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("备注"), blank=True)
    vendor = models.ForeignKey(
        "benefits.Vendor",
        verbose_name=_("服务商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    scheduled_at = models.DateTimeField(_("预约时间"), null=True, blank=True)
    place = models.CharField(_("服务地点"), max_length=200, blank=True)
    changes = models.PositiveSmallIntegerField(_("改约次数"), default=0)
    # The reason the insurer or the vendor gave for the last refusal or failure.
    outcome_reason = models.CharField(_("结果说明"), max_length=300, blank=True)
    # The insurer's staff member who works the request (我的待办); nobody until taken.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A random token carried by the form: the same form submitted twice is one request.
    submission_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    # Tenancy (portal.kernel.tenancy): the insurer of the policy's product.
    insurer_lookup = "policy__product__insurer"

    class Meta:
        verbose_name = _("服务申请")
        verbose_name_plural = _("服务申请")
        ordering = ["-created_at"]
        permissions = [
            ("assign_servicerequest", _("派单给服务商")),
            ("reject_servicerequest", _("审核不通过")),
            # Exports and pages show ID numbers and phones masked; unmasked is logged.
            ("see_identity_servicerequest", _("查看完整证件号码与手机号")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "submission_key"],
                condition=~Q(submission_key=""),
                name="one_request_per_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="request_status_updated"),
            models.Index(fields=["vendor", "status"], name="request_vendor_status"),
            models.Index(fields=["assignee", "status"], name="request_assignee_status"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RequestEvent(models.Model):
    """Every transition (and every event that changes no status, such as a vendor's first
    contact), with who did it, when and why."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("服务申请"), on_delete=models.CASCADE, related_name="events"
    )
    event = models.CharField(_("事件"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作方"), max_length=60)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("处理记录")
        verbose_name_plural = _("处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> object:
        """The event as the policyholder's timeline names it: its transition's label."""
        from bookings.lifecycle.workflow import event_label  # workflow imports the models

        if self.event == "reviewed":  # a review gate's decision
            verdict = _("通过") if self.data.get("passed") else _("未通过")
            return f"{self.data.get('label', _('审核'))}：{verdict}"
        return event_label(self.event)

    @property
    def cause_label(self) -> str:
        """Why the request ended without its service, in Chinese ("" for other events)."""
        from bookings.lifecycle.cancellation import cause_label  # imports the models

        cause = self.data.get("cause", "")
        return cause_label(cause) if cause else ""


class Consumption(models.Model):
    """What a vendor reports as actually consumed (7 of 30 carer days, 1,860 元 paid)."""

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="consumptions",
    )
    measure = models.CharField(_("计量"), max_length=10)  # days, cny, times
    amount = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("服务消耗")
        verbose_name_plural = _("服务消耗")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.amount}{self.measure}"


class RequestNote(models.Model):
    """An internal note of the insurer's staff on a request: never shown to the
    policyholder or the vendor, never edited (a correction is a new note)."""

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("服务申请"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填写人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("内部备注"), max_length=2000)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("内部备注")
        verbose_name_plural = _("内部备注")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return str(_("内部备注"))


class CallLog(models.Model):
    """A phone call about a request: which way, with whom, who took it, when, what was said."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("呼入")
        OUTBOUND = "outbound", _("呼出")

    class Party(models.TextChoices):
        CUSTOMER = "customer", _("客户")
        VENDOR = "vendor", _("服务商")
        HOSPITAL = "hospital", _("医院")
        OTHER = "other", _("其他")

    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("服务申请"), on_delete=models.CASCADE, related_name="calls"
    )
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    party = models.CharField(_("通话对象"), max_length=10, choices=Party.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    called_at = models.DateTimeField(_("通话时间"))
    summary = models.CharField(_("通话摘要"), max_length=500)
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("通话记录")
        verbose_name_plural = _("通话记录")
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {self.get_party_display()}"


class Rating(models.Model):
    """The policyholder's rating of a completed request: 1–5 stars and a comment, one per
    request. Feeds the vendor scorecard of the SLA dashboard."""

    request = models.OneToOneField(
        ServiceRequest, verbose_name=_("服务申请"), on_delete=models.CASCADE, related_name="rating"
    )
    # The vendor that delivered, kept with the rating so the scorecard needs no join back.
    vendor = models.ForeignKey(
        "benefits.Vendor",
        verbose_name=_("服务商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ratings",
    )
    stars = models.PositiveSmallIntegerField(_("评分"))
    comment = models.TextField(_("评价"), blank=True, max_length=500)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True, db_index=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("服务评价")
        verbose_name_plural = _("服务评价")
        constraints = [
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}:{self.stars}"
