"""Service requests: what a policyholder asked for, every step it went through, the records
they uploaded, who opened those records, and what we told them."""

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
        return f"{self.request_id}:{self.event}"


class Document(models.Model):
    """A record the policyholder uploaded (or a vendor's report). The file lives in private
    storage under a random name; ``display_name`` is only ever shown."""

    request = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    requirement = models.CharField(_("资料类型"), max_length=60, blank=True)
    display_name = models.CharField(_("文件名"), max_length=120)
    storage_name = models.CharField(max_length=200, unique=True, editable=False)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64, editable=False)
    # e.g. "pdf_javascript": shown to reviewers, never served inline.
    flags = models.JSONField(_("风险标记"), default=list, blank=True)
    from_vendor = models.BooleanField(_("服务商上传"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("资料")
        verbose_name_plural = _("资料")
        ordering = ["uploaded_at", "id"]
        # Opening a record's file is more than seeing that it exists (auditors see the
        # list and the access log, not the records).
        permissions = [("open_document", _("打开客户资料文件"))]

    def __str__(self) -> str:
        return self.display_name


class DocumentAccess(models.Model):
    """Who opened which record, when, from where (PIPL access log). Never deleted with the
    user who read it."""

    document = models.ForeignKey(
        Document, verbose_name=_("资料"), on_delete=models.CASCADE, related_name="accesses"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("访问人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("访问方"), max_length=60)
    purpose = models.CharField(_("用途"), max_length=30)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    insurer_lookup = "document__request__policy__product__insurer"

    class Meta:
        verbose_name = _("资料访问记录")
        verbose_name_plural = _("资料访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.document_id}@{self.at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """What we told a person about a request, in the portal (and by SMS / e-mail)."""

    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    request = models.ForeignKey(
        ServiceRequest,
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
        ServiceRequest,
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
        return f"{self.request_id}:{self.code}"


class FollowUp(models.Model):
    """A scheduled check-in after a service (monthly 回访, 3 follow-ups within 3 months) or
    the day-before appointment reminder."""

    class Kind(models.TextChoices):
        APPOINTMENT_REMINDER = "appointment_reminder", _("就诊前一日提醒")
        FOLLOW_UP = "follow_up", _("回访")

    request = models.ForeignKey(
        ServiceRequest,
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


class VendorToken(models.Model):
    """A vendor's API token; only its SHA-256 digest is stored, shown once on issue."""

    vendor = models.ForeignKey(
        "benefits.Vendor", verbose_name=_("服务商"), on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务商令牌")
        verbose_name_plural = _("服务商令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.vendor_id}:{self.prefix}…"

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))


class IdempotentResponse(models.Model):
    """The first answer to a vendor's POST with an ``Idempotency-Key``, replayed on retry."""

    vendor = models.ForeignKey(
        "benefits.Vendor", on_delete=models.CASCADE, related_name="+", verbose_name=_("服务商")
    )
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)  # method, path and body: a reused key differs
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "key"], name="one_response_per_key"),
        ]

    def __str__(self) -> str:
        return self.key

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))


class VendorWebhook(models.Model):
    """Where to tell a vendor about new assignments; payloads are signed with HMAC-SHA256."""

    vendor = models.OneToOneField(
        "benefits.Vendor",
        on_delete=models.CASCADE,
        related_name="webhook",
        verbose_name=_("服务商"),
    )
    url = models.URLField(_("回调地址"))
    secret = models.CharField(_("签名密钥"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务商回调")
        verbose_name_plural = _("服务商回调")

    def __str__(self) -> str:
        return self.url

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(
        VendorWebhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("回调")
    )
    event = models.CharField(_("事件"), max_length=40)
    payload = models.JSONField(_("内容"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回调投递")
        verbose_name_plural = _("回调投递")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event}#{self.pk}"

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(webhook__vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))
