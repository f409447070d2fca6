"""Vendor contract prices, monthly vendor statements and their lines, and each product's
net premium per year (the base of the 20 % cost cap, 银保监办发〔2020〕83号)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ZERO = Decimal(0)


class PriceBasis(models.TextChoices):
    """The unit a service is consumed in (``Consumption.measure``), which its price is per."""

    TIMES = "times", _("按次")
    DAYS = "days", _("按天")
    CNY = "cny", _("按金额比例")  # 垫付/补贴金额 × 费率
    KM = "km", _("按公里")


class ContractPrice(models.Model):
    """One effective-dated price of a vendor's contract for one benefit (a benefit belongs
    to one product, so this is vendor × product × benefit).

    A service's amount is ``fixed_fee + unit_price × quantity`` (+ the CNY the vendor paid
    on the member's behalf when ``pass_through``), where quantity is what was consumed in
    ``basis``. Tiers (``tier_over`` < quantity ≤ ``tier_upto``, the handbooks' "超过N公里" and
    "N公里以内（含）") let one benefit carry several rows in force on the same day."""

    vendor = models.ForeignKey(
        "benefits.Vendor", verbose_name=_("服务商"), on_delete=models.PROTECT, related_name="+"
    )
    benefit = models.ForeignKey(
        "benefits.Benefit", verbose_name=_("权益"), on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField(_("计价单位"), max_length=10, choices=PriceBasis.choices)
    unit_price = models.DecimalField(
        _("单价/费率"),
        max_digits=12,
        decimal_places=4,
        default=ZERO,
        help_text=_("每次、每天、每公里的价格（元）；按金额比例时为费率，如 0.0300 即 3%"),
    )
    fixed_fee = models.DecimalField(
        _("固定费用（元/次）"), max_digits=12, decimal_places=2, default=ZERO
    )
    pass_through = models.BooleanField(
        _("代垫费用据实结算"), default=False, help_text=_("服务商代付的金额（元）按实际金额另计")
    )
    tier_over = models.DecimalField(
        _("档位：超过"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    tier_upto = models.DecimalField(
        _("档位：至（含）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    effective_from = models.DateField(_("生效日期"))
    effective_until = models.DateField(_("失效日期（含）"), null=True, blank=True)
    contract_ref = models.CharField(_("合同编号"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    insurer_lookup = "benefit__product__insurer"

    class Meta:
        verbose_name = _("服务商合同价格")
        verbose_name_plural = _("服务商合同价格")
        ordering = ["vendor", "benefit", "effective_from", "tier_over"]
        indexes = [
            models.Index(fields=["vendor", "benefit", "effective_from"], name="price_lookup"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=models.F("effective_from")),
                name="price_until_after_from",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(fixed_fee__gte=0), name="price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id}/{self.benefit_id} {self.effective_from}"

    def clean(self) -> None:
        """Refuse a row that would give a service two prices: same vendor and benefit, an
        overlapping period and an overlapping tier. Pricing relies on this."""
        if not (self.vendor_id and self.benefit_id and self.effective_from):
            return
        if self.effective_until and self.effective_until < self.effective_from:
            raise ValidationError({"effective_until": _("失效日期不能早于生效日期")})
        if (
            self.tier_over is not None
            and self.tier_upto is not None
            and self.tier_upto <= self.tier_over
        ):
            raise ValidationError({"tier_upto": _("档位上限必须大于下限")})
        others = ContractPrice.objects.filter(vendor=self.vendor_id, benefit=self.benefit_id)
        if self.pk:
            others = others.exclude(pk=self.pk)
        if self.effective_until:
            others = others.filter(effective_from__lte=self.effective_until)
        others = others.filter(
            Q(effective_until__isnull=True) | Q(effective_until__gte=self.effective_from)
        )
        if self.tier_upto is not None:
            others = others.filter(Q(tier_over__isnull=True) | Q(tier_over__lt=self.tier_upto))
        if self.tier_over is not None:
            others = others.filter(Q(tier_upto__isnull=True) | Q(tier_upto__gt=self.tier_over))
        clash = others.first()
        if clash is not None:
            raise ValidationError(
                _("与已有价格（%(start)s 起）的期间和档位重叠，同一服务只能有一个价格")
                % {"start": clash.effective_from.isoformat()}
            )


class VendorStatement(models.Model):
    """What an insurer owes one vendor for one month (Asia/Shanghai), line by line."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        CONFIRMED = "confirmed", _("已确认")
        DISPUTED = "disputed", _("有争议")
        SETTLED = "settled", _("已结算")

    insurer = models.ForeignKey(
        "benefits.Insurer", verbose_name=_("保险公司"), on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.ForeignKey(
        "benefits.Vendor", verbose_name=_("服务商"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("结算月份"), help_text=_("该月1日"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    line_count = models.PositiveIntegerField(_("服务数"), default=0)
    unpriced_count = models.PositiveIntegerField(_("未定价服务数"), default=0)
    total = models.DecimalField(_("合计（元）"), max_digits=14, decimal_places=2, default=ZERO)
    priced_at = models.DateTimeField(_("计价时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    # The last reconciliation against the vendor's own statement: when, and every difference.
    reconciliation = models.JSONField(_("对账结果"), default=dict, blank=True)

    insurer_lookup = "insurer"

    class Meta:
        verbose_name = _("服务商月度结算单")
        verbose_name_plural = _("服务商月度结算单")
        ordering = ["-month", "vendor"]
        permissions = [
            ("confirm_vendorstatement", _("确认结算单")),
            ("settle_vendorstatement", _("结算付款")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["insurer", "vendor", "month"], name="one_statement_per_vendor_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id}:{self.month:%Y-%m}"


class StatementLine(models.Model):
    """One completed (or counted-as-used) service at the price in force on its day."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("服务完成")
        COUNTED_AS_USED = "counted_used", _("视为已使用")

    statement = models.ForeignKey(
        VendorStatement, verbose_name=_("结算单"), on_delete=models.CASCADE, related_name="lines"
    )
    # Unique: a service is paid in one statement only, whatever is re-run.
    request = models.OneToOneField(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.PROTECT,
        related_name="statement_line",
    )
    request_ref = models.CharField(_("申请编号"), max_length=20)
    # No index and no database constraint on the benefit and the price: lines are read by
    # statement, and written only by the INSERT … SELECT that joins them from existing rows
    # (so they exist); a month of 100,000 lines would otherwise pay two index updates and two
    # foreign-key checks a line. Deleting a price or benefit is still refused (PROTECT).
    benefit = models.ForeignKey(
        "benefits.Benefit",
        verbose_name=_("权益"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    completed_on = models.DateField(_("完成日期"))
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    price = models.ForeignKey(
        ContractPrice,
        verbose_name=_("适用价格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    basis = models.CharField(_("计价单位"), max_length=10, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2, default=ZERO)
    unit_price = models.DecimalField(_("单价/费率"), max_digits=12, decimal_places=4, null=True)
    fixed_fee = models.DecimalField(_("固定费用"), max_digits=12, decimal_places=2, null=True)
    pass_through_amount = models.DecimalField(
        _("代垫费用"), max_digits=12, decimal_places=2, default=ZERO
    )
    # None: no contract price in force that day (listed, never counted as zero).
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2, null=True)
    disputed = models.BooleanField(_("有争议"), default=False)
    dispute_reason = models.CharField(_("争议说明"), max_length=300, blank=True)

    insurer_lookup = "statement__insurer"

    class Meta:
        verbose_name = _("结算明细")
        verbose_name_plural = _("结算明细")
        ordering = ["completed_on", "request_ref"]

    def __str__(self) -> str:
        return self.request_ref


class ProductPremium(models.Model):
    """A product's net premium (净保险费) for one policy year, from the actuarial report:
    given directly, or as the premium and the loading ratio (附加费用率)."""

    product = models.ForeignKey(
        "benefits.Product", verbose_name=_("产品"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("保单年度"))
    gross_premium = models.DecimalField(
        _("保险费（元）"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    loading_ratio = models.DecimalField(
        _("附加费用率"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    net_premium = models.DecimalField(
        _("净保险费（元）"),
        max_digits=16,
        decimal_places=2,
        blank=True,
        help_text=_("留空则按 保险费 ×（1 − 附加费用率）计算"),
    )
    source = models.CharField(_("来源（精算报告）"), max_length=200, blank=True)

    insurer_lookup = "product__insurer"

    class Meta:
        verbose_name = _("产品净保费")
        verbose_name_plural = _("产品净保费")
        ordering = ["product", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["product", "year"], name="one_premium_per_year"),
            models.CheckConstraint(condition=Q(net_premium__gt=0), name="net_premium_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.year}"

    def clean(self) -> None:
        if self.net_premium is None:
            if self.gross_premium is None or self.loading_ratio is None:
                raise ValidationError(_("请填写净保险费，或同时填写保险费与附加费用率"))
            if not ZERO <= self.loading_ratio < 1:
                raise ValidationError({"loading_ratio": _("附加费用率须在 0 与 1 之间")})
            self.net_premium = (self.gross_premium * (1 - self.loading_ratio)).quantize(
                Decimal("0.01")
            )
