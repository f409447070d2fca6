"""The quota ledger: every grant, hold, use, release, expiry and adjustment is an entry; a
balance row per pool caches the sums so a hold can be a single conditional UPDATE, and
database constraints refuse an over-grant even from code that bypasses the services."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class QuotaBalance(models.Model):
    class PoolKind(models.TextChoices):
        MEMBER = "member", _("被保险人本人")
        MEMBER_FAMILY = "member_family", _("被保险人及家属")
        FAMILY_POLICY = "family_policy", _("家庭保单共享")

    class Measure(models.TextChoices):
        TIMES = "times", _("次")
        DAYS = "days", _("天")
        CNY = "cny", _("元")
        REQUESTS = "requests", _("申请次数")

    benefit = models.ForeignKey(
        "benefits.Benefit", verbose_name=_("权益"), on_delete=models.PROTECT, related_name="+"
    )
    policy = models.ForeignKey(
        "benefits.Policy", verbose_name=_("保单"), on_delete=models.CASCADE, related_name="balances"
    )
    # Empty for a pool shared by the whole family policy.
    person = models.ForeignKey(
        "benefits.Person",
        verbose_name=_("被保险人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pool_kind = models.CharField(_("共享方式"), max_length=20, choices=PoolKind.choices)
    measure = models.CharField(_("计量"), max_length=10, choices=Measure.choices)
    category = models.CharField(_("类别"), max_length=30, blank=True)  # e.g. 省内 / 省外 caps
    period_key = models.CharField(_("期间"), max_length=40)  # year:2026-01-02, policy, stay:17
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"), null=True, blank=True)
    granted = models.DecimalField(_("额度"), max_digits=12, decimal_places=2, default=Decimal(0))
    held = models.DecimalField(_("占用中"), max_digits=12, decimal_places=2, default=Decimal(0))
    used = models.DecimalField(_("已使用"), max_digits=12, decimal_places=2, default=Decimal(0))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    insurer_lookup = "policy__product__insurer"

    class Meta:
        verbose_name = _("权益额度")
        verbose_name_plural = _("权益额度")
        ordering = ["policy", "benefit", "period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(granted__gte=0) & Q(held__gte=0) & Q(used__gte=0),
                name="balance_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(granted__gte=F("held") + F("used")),
                name="balance_never_over_granted",
            ),
            models.UniqueConstraint(
                fields=["benefit", "policy", "person", "measure", "category", "period_key"],
                condition=Q(person__isnull=False),
                name="unique_member_balance",
            ),
            models.UniqueConstraint(
                fields=["benefit", "policy", "measure", "category", "period_key"],
                condition=Q(person__isnull=True),
                name="unique_policy_balance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_id}/{self.period_key}/{self.measure}"

    @property
    def remaining(self) -> Decimal:
        return self.granted - self.held - self.used


class QuotaLedgerEntry(models.Model):
    class Kind(models.TextChoices):
        GRANT = "grant", _("发放")
        HOLD = "hold", _("占用")
        USE = "use", _("使用")
        RELEASE = "release", _("释放")
        EXPIRE = "expire", _("过期")
        ADJUST = "adjust", _("调整")

    balance = models.ForeignKey(
        QuotaBalance, verbose_name=_("额度"), on_delete=models.CASCADE, related_name="entries"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    # Positive, except an adjustment, which may take quota away.
    amount = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作方"), max_length=60, default="system")
    reason = models.CharField(_("原因"), max_length=200)
    request_ref = models.CharField(_("服务申请"), max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    insurer_lookup = "balance__policy__product__insurer"

    class Meta:
        verbose_name = _("额度流水")
        verbose_name_plural = _("额度流水")
        ordering = ["balance", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adjust") | Q(amount__gt=0), name="entry_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Delivery(models.Model):
    """A use that was delivered: the request completed and, where the benefit hands over a
    document (its terms' ``deliverable``: 《居家康护指导书》), with that document attached.
    A benefit that must come first (``prerequisites``) is met by a delivery, not by an
    approval or a hold. Written by the request lifecycle; read by the eligibility facts."""

    policy = models.ForeignKey(
        "benefits.Policy",
        verbose_name=_("保单"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    person = models.ForeignKey(
        "benefits.Person", verbose_name=_("被保险人"), on_delete=models.PROTECT, related_name="+"
    )
    benefit = models.ForeignKey(
        "benefits.Benefit", verbose_name=_("权益"), on_delete=models.PROTECT, related_name="+"
    )
    request_ref = models.CharField(_("服务申请"), max_length=40, unique=True)
    delivered_at = models.DateTimeField(_("交付时间"))

    insurer_lookup = "policy__product__insurer"

    class Meta:
        verbose_name = _("服务交付")
        verbose_name_plural = _("服务交付")
        ordering = ["delivered_at", "id"]
        indexes = [models.Index(fields=["policy", "benefit"], name="delivery_policy_benefit")]

    def __str__(self) -> str:
        return self.request_ref
