"""Admin of the catalogue: insurers, vendors, services, products and benefits with their
terms; import and export by code."""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from benefits.catalogue.resources import (
    BenefitResource,
    InsurerResource,
    ProductResource,
    ServiceResource,
    VendorResource,
)
from benefits.models import (
    Benefit,
    Insurer,
    Product,
    Service,
    Vendor,
)
from benefits.terms.benefit_terms import TermsError
from benefits.terms.display import describe_terms, quota
from portal.kernel.tenancy import InsurerScopedAdmin, InsurerScopedInline, insurer_ids


class CatalogueAdmin(InsurerScopedAdmin, ImportExportModelAdmin):
    """Codes are identities shared with the files, the API and exports: set once."""

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "insurer_ids": insurer_ids(request.user),
        }

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "code") if obj is not None else readonly


@admin.register(Insurer)
class InsurerAdmin(CatalogueAdmin):
    resource_classes = [InsurerResource]
    list_display = ("code", "short_name", "name", "hotline")
    search_fields = ("code", "name", "short_name")


@admin.register(Vendor)
class VendorAdmin(CatalogueAdmin):
    resource_classes = [VendorResource]
    list_display = ("code", "name", "insurer", "hotline", "active")
    list_filter = ("active", "insurer")
    list_select_related = ("insurer",)
    search_fields = ("code", "name")
    autocomplete_fields = ("insurer",)


@admin.register(Service)
class ServiceAdmin(CatalogueAdmin):
    resource_classes = [ServiceResource]
    list_display = ("code", "name", "category")
    list_filter = ("category",)
    search_fields = ("code", "name")


class BenefitInline(InsurerScopedInline, admin.TabularInline):
    model = Benefit
    fields = ("code", "name", "vendor", "active")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Benefit]:
        return super().get_queryset(request).select_related("vendor")


@admin.register(Product)
class ProductAdmin(CatalogueAdmin):
    resource_classes = [ProductResource]
    list_display = ("code", "name", "insurer", "active", "benefit_count")
    list_filter = ("insurer", "active")
    list_select_related = ("insurer",)
    search_fields = ("code", "name")
    autocomplete_fields = ("insurer",)
    inlines = [BenefitInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_benefits=Count("benefits"))

    @admin.display(description=_("权益数"), ordering="n_benefits")
    def benefit_count(self, obj: Product) -> int:
        return obj.n_benefits  # type: ignore[attr-defined]


IDENTITY_FIELDS = ("code", "name", "product", "service", "parent", "position", "vendor", "active")


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return super().prepare_value(value)


class BenefitForm(forms.ModelForm):
    terms = PrettyJSONField(
        label=_("条款（JSON）"),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family: monospace"}),
        help_text=_("字段说明见 benefits/terms.py；保存前逐项校验，错误会以中文列出。"),
    )

    class Meta:
        model = Benefit
        # coverage_lists is derived from the terms on save, so it is not a form field.
        fields = (*IDENTITY_FIELDS, "backup_vendors", "terms", "source_file", "source_section")


@admin.register(Benefit)
class BenefitAdmin(CatalogueAdmin):
    resource_classes = [BenefitResource]
    form = BenefitForm
    list_display = ("code", "name", "product", "vendor", "quota_summary", "active")
    list_filter = ("product__insurer", "product", "service__category", "vendor", "active")
    list_select_related = ("product", "vendor")
    search_fields = ("code", "name", "clause_text")
    autocomplete_fields = ("product", "service", "vendor", "backup_vendors", "parent")
    readonly_fields = ("terms_summary", "clause", "linked_lists")
    fieldsets = (
        (None, {"fields": (*IDENTITY_FIELDS, "backup_vendors")}),
        (_("条款"), {"fields": ("terms_summary", "linked_lists", "terms")}),
        (_("手册出处"), {"fields": ("source_file", "source_section", "clause")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Benefit]:
        return super().get_queryset(request).prefetch_related("coverage_lists")

    @admin.display(description=_("次数"))
    def quota_summary(self, obj: Benefit) -> str:
        try:
            return quota(obj.parsed_terms.quota)
        except TermsError:
            return "—"

    @admin.display(description=_("条款摘要"))
    def terms_summary(self, obj: Benefit) -> str:
        try:
            sections = describe_terms(obj.parsed_terms)
        except TermsError as exc:
            return format_html('<span style="color:#ba2121">{}</span>', str(exc))
        return format_html(
            '<dl class="terms-summary">{}</dl>',
            format_html_join(
                "",
                "<dt><strong>{}</strong></dt><dd><ul>{}</ul></dd>",
                (
                    (title, format_html_join("", "<li>{}</li>", ((line,) for line in lines)))
                    for title, lines in sections
                ),
            ),
        )

    @admin.display(description=_("手册原文"))
    def clause(self, obj: Benefit) -> str:
        return format_html(
            '<div style="white-space: pre-wrap; max-width: 60em">{}</div>', obj.clause_text
        )

    @admin.display(description=_("覆盖名单"))
    def linked_lists(self, obj: Benefit) -> str:
        return "、".join(str(cl) for cl in obj.coverage_lists.all()) or "—"
