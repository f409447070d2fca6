from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from benefits.terms.benefit_terms import BenefitTerms, TermsError, parse_terms, terms_to_json


class CatalogueRecord(models.Model):
    """A row loaded from the catalogue files in the repo.

    ``loaded_digest`` is the digest of the file data at the last load: when the row's own
    digest differs from it, an admin edited it, and ``load_catalogue`` reports the difference
    instead of overwriting it.
    """

    code = models.CharField(_("代码"), max_length=120, unique=True)
    loaded_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]


class Insurer(CatalogueRecord):
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30)
    hotline = models.CharField(_("客服热线"), max_length=30, blank=True)

    class Meta(CatalogueRecord.Meta):
        verbose_name = _("保险公司")
        verbose_name_plural = _("保险公司")

    def __str__(self) -> str:
        return self.short_name

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        return Q(pk__in=ids)


class Vendor(CatalogueRecord):
    """A third party (or the insurer's own team) that fulfils services."""

    name = models.CharField(_("名称"), max_length=100)
    insurer = models.ForeignKey(
        Insurer,
        verbose_name=_("所属保险公司"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="own_teams",
        help_text=_("手册未指明服务商时，由保险公司自有团队承担"),
    )
    active = models.BooleanField(_("合作中"), default=True)
    # As printed in the handbook: shown to the policyholder while the vendor serves them.
    hotline = models.CharField(_("客服热线"), max_length=30, blank=True)

    class Meta(CatalogueRecord.Meta):
        verbose_name = _("服务商")
        verbose_name_plural = _("服务商")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        # An insurer's own team, or a third party delivering one of its products' benefits.
        serves = Benefit.objects.filter(product__insurer__in=ids)
        return (
            Q(insurer__in=ids)
            | Q(pk__in=serves.values("vendor"))
            | Q(pk__in=serves.values("backup_vendors"))
        )


class Product(CatalogueRecord):
    name = models.CharField(_("名称"), max_length=200)
    insurer = models.ForeignKey(
        Insurer, verbose_name=_("保险公司"), on_delete=models.PROTECT, related_name="products"
    )
    handbook_title = models.CharField(_("服务手册"), max_length=200)
    seed_file = models.CharField(_("手册文件"), max_length=100)
    active = models.BooleanField(_("在售"), default=True)

    insurer_lookup = "insurer"

    class Meta(CatalogueRecord.Meta):
        verbose_name = _("保险产品")
        verbose_name_plural = _("保险产品")

    def __str__(self) -> str:
        return self.name


class Service(CatalogueRecord):
    """What a service is, whatever product offers it (陪诊, 护工 …)."""

    name = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=40)

    class Meta(CatalogueRecord.Meta):
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")

    def __str__(self) -> str:
        return self.name


class Benefit(CatalogueRecord):
    """A service as offered under one product, with its typed terms."""

    product = models.ForeignKey(
        Product, verbose_name=_("产品"), on_delete=models.PROTECT, related_name="benefits"
    )
    service = models.ForeignKey(
        Service, verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="benefits"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("所属套餐"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("名称（手册原文）"), max_length=100)
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("服务商"), on_delete=models.PROTECT, related_name="benefits"
    )
    # Set by the insurer in admin, never by the catalogue files: load_catalogue neither
    # compares nor writes it, so a reload keeps what the admin chose.
    backup_vendors = models.ManyToManyField(
        Vendor,
        verbose_name=_("其他可派单服务商"),
        blank=True,
        related_name="backup_benefits",
        help_text=_("除上面的服务商外，本权益的申请也可派给这些服务商（须为合作中）"),
    )
    terms = models.JSONField(_("条款"))
    source_file = models.CharField(_("手册文件"), max_length=100)
    source_section = models.CharField(_("手册章节"), max_length=200)
    clause_text = models.TextField(_("手册原文"))
    coverage_lists = models.ManyToManyField(
        "coverage.CoverageList",
        verbose_name=_("覆盖名单"),
        blank=True,
        related_name="benefits",
    )
    active = models.BooleanField(_("启用"), default=True)

    insurer_lookup = "product__insurer"

    class Meta(CatalogueRecord.Meta):
        verbose_name = _("权益")
        verbose_name_plural = _("权益")
        ordering = ["product__code", "parent_id", "position", "code"]
        indexes = [models.Index(fields=["product", "position"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        # The list links are derived from terms.coverage_lists. Every write path (load,
        # admin, import) saves through here, so the links never drift from the terms.
        self.__dict__.pop("parsed_terms", None)
        codes = set(self.parsed_terms.coverage_lists)
        if {cl.code for cl in self.coverage_lists.all()} != codes:
            from coverage.models import CoverageList

            self.coverage_lists.set(CoverageList.objects.filter(code__in=codes))

    @cached_property
    def parsed_terms(self) -> BenefitTerms:
        return parse_terms(self.terms)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            self.terms = terms_to_json(parse_terms(self.terms))
            self.__dict__.pop("parsed_terms", None)
        except TermsError as exc:
            errors["terms"] = exc.messages
        parent = self.parent if self.parent_id else None
        if self.product_id and self.code:
            prefix = f"{(parent.code if parent is not None else self.product.code)}."
            if not self.code.startswith(prefix):
                errors.setdefault("code", []).append(f"代码必须以“{prefix}”开头")
        if parent is not None and parent.product_id != self.product_id:
            errors.setdefault("parent", []).append("套餐必须属于同一产品")
        if errors:
            raise ValidationError(errors)
