"""Vendor API credentials, idempotent replies and webhooks."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.kernel.identity import PhoneNumberError, normalise_phone
from portal.kernel.tokens import ApiToken


class VendorToken(ApiToken):
    """A vendor's API token (``Authorization: Bearer hbv_…``): it sees the requests assigned
    to its vendor, nothing else."""

    PREFIX = "hbv_"

    vendor = models.ForeignKey(
        "benefits.Vendor", verbose_name=_("服务商"), on_delete=models.CASCADE, related_name="tokens"
    )

    class Meta(ApiToken.Meta):
        verbose_name = _("服务商令牌")
        verbose_name_plural = _("服务商令牌")

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))


class VendorAccount(models.Model):
    """A vendor staff member's login to the workbench at /vendor/ (``portal.vendor``):
    password, then a code sent by SMS to ``phone``. It sees what the vendor's API token sees
    (the requests assigned to ``vendor``) and acts through the same services. Created in
    admin; the user is not staff and reaches neither admin nor the staff API."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="vendor_account",
        verbose_name=_("登录账号"),
    )
    vendor = models.ForeignKey(
        "benefits.Vendor",
        on_delete=models.CASCADE,
        related_name="accounts",
        verbose_name=_("服务商"),
    )
    phone = models.CharField(_("手机号（接收登录验证码）"), max_length=11)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务商工作台账号")
        verbose_name_plural = _("服务商工作台账号")

    def __str__(self) -> str:
        return self.user.get_username()

    def clean(self) -> None:
        try:
            self.phone = normalise_phone(self.phone)
        except PhoneNumberError:
            raise ValidationError({"phone": _("请输入正确的11位中国大陆手机号码")}) from None

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from benefits.models import Vendor

        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids)))


class IdempotentResponse(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, replayed on retry. Keys are
    per caller: a vendor (vendor API) or a staff user (staff API), exactly one of them
    (``bookings.idempotency``)."""

    vendor = models.ForeignKey(
        "benefits.Vendor",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("服务商"),
        null=True,
        blank=True,
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("员工"),
        null=True,
        blank=True,
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
            # NULLs are distinct in a unique constraint: a staff row never meets a vendor's.
            models.UniqueConstraint(fields=["vendor", "key"], name="one_response_per_key"),
            models.UniqueConstraint(
                fields=["staff_user", "key"], name="one_response_per_staff_key"
            ),
            models.CheckConstraint(
                condition=Q(vendor__isnull=False, staff_user__isnull=True)
                | Q(vendor__isnull=True, staff_user__isnull=False),
                name="idempotent_response_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        from django.contrib.auth import get_user_model

        from benefits.models import Vendor

        # Subqueries, not joins: a user of two insurers must not make a row appear twice.
        members = get_user_model().objects.filter(staff_memberships__insurer__in=ids)
        return Q(vendor__in=Vendor.objects.filter(Vendor.insurer_q(ids))) | Q(
            staff_user__in=members
        )


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
