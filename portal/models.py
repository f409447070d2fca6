from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.kernel.identity import mask_phone
from portal.kernel.tokens import ApiToken


class StaffToken(ApiToken):
    """A per-user token for the staff API (``Authorization: Bearer hbs_…``): it acts with
    its user's roles and insurers."""

    PREFIX = "hbs_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="staff_tokens",
    )

    class Meta(ApiToken.Meta):
        verbose_name = _("员工接口令牌")
        verbose_name_plural = _("员工接口令牌")
        # Every staff API endpoint needs this besides its own permission, so a staff user
        # with no role gets 403 everywhere, /me included.
        permissions = [("use_staff_api", _("使用员工接口"))]


class StaffMembership(models.Model):
    """A staff user works for this insurer: they see and change its data only
    (``portal.kernel.tenancy``). A user may belong to several insurers; a superuser to all."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("员工"),
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    insurer = models.ForeignKey(
        "benefits.Insurer",
        verbose_name=_("保险公司"),
        on_delete=models.CASCADE,
        related_name="staff_memberships",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("所属保险公司")
        verbose_name_plural = _("所属保险公司")
        constraints = [
            models.UniqueConstraint(fields=["user", "insurer"], name="staff_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.insurer}"


class SmsMessage(models.Model):
    """The development outbox: every text the ``OutboxBackend`` would have sent, readable in
    admin so a developer can log in without a phone."""

    phone = models.CharField(_("手机号"), max_length=11)
    template = models.CharField(_("模板"), max_length=50)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("短信（发件箱）")
        verbose_name_plural = _("短信（发件箱）")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.template}"


class OneTimeCode(models.Model):
    """A login code sent by SMS. Only its HMAC digest is stored; the newest row for a phone is
    the only one that can be used, so a new request retires the previous code. The rows also
    serve as the send log that the rate limits count."""

    phone = models.CharField(_("手机号"), max_length=11)
    ip = models.GenericIPAddressField(_("请求IP"), null=True, blank=True)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [
            models.Index(fields=["phone", "created_at"], name="otp_phone_created"),
            models.Index(fields=["ip", "created_at"], name="otp_ip_created"),
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"


class OtpThrottle(models.Model):
    """Wrong-code counter and lock per phone. Its row is also locked (SELECT … FOR UPDATE)
    while a code is requested or checked, so concurrent requests for one phone queue up and
    the limits hold across processes."""

    phone = models.CharField(_("手机号"), max_length=11, unique=True)
    failed_attempts = models.PositiveSmallIntegerField(_("连续错误次数"), default=0)
    first_failed_at = models.DateTimeField(_("首次错误时间"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("验证码限制")
        verbose_name_plural = _("验证码限制")

    def __str__(self) -> str:
        return mask_phone(self.phone)


class PolicyholderAccount(models.Model):
    """A policyholder's login: a Django user without a password, reached by SMS code, bound
    to the ``Person`` whose ID number and phone both match once they prove who they are."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="policyholder_account",
    )
    phone = models.CharField(_("手机号"), max_length=11, unique=True)
    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("绑定人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policyholder_accounts",
    )
    bound_at = models.DateTimeField(_("绑定时间"), null=True, blank=True)
    # Failed binding attempts on one day (Asia/Shanghai); the count restarts each day.
    bind_failures = models.PositiveSmallIntegerField(_("当日绑定失败次数"), default=0)
    bind_failures_on = models.DateField(_("绑定失败日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投保人账户")
        verbose_name_plural = _("投保人账户")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked_phone

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> models.Q:
        # Accounts bound to a person of these insurers; unbound ones only superusers see.
        from benefits.models import Person

        return models.Q(person__in=Person.objects.filter(Person.insurer_q(ids)))


class TaskOutbox(models.Model):
    """A Celery task to send, written in the transaction of the change that needs it
    (``portal.kernel.outbox.enqueue_on_commit``): the change and its work commit together, and
    a broker that is down delays the work instead of failing a request already saved. Rows
    with the same task and arguments (``digest``) waiting together are sent as one."""

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    digest = models.CharField(max_length=64, editable=False)  # sha256 of task + arguments
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("失败次数"), default=0)
    # Only the exception's class: a broker's message may carry a host or a password.
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务发件箱")
        verbose_name_plural = _("任务发件箱")
        ordering = ["id"]
        indexes = [
            # The relay's question: unsent rows that are due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(sent_at__isnull=True),
                name="outbox_unsent_due",
            ),
            models.Index(fields=["digest"], name="outbox_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
