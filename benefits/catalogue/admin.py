"""Admin of the catalogue: insurers, vendors, services, products and benefits with their
terms; import and export by code."""

import hashlib
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
from benefits.catalogue.terms_form import (
    HIDDEN_FIELDS,
    TermsWidget,
    check_terms,
    editor_data,
    form_schema,
    submitted_terms,
    terms_diff,
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


class BenefitForm(forms.ModelForm):
    """Terms edited through a form generated from their schema (``terms_form``); a change
    of terms is saved only once the operator has seen its diff (the confirmation carries the
    digest of the terms they saw, so terms edited after the diff need a new look)."""

    terms = forms.JSONField(
        label=_("条款"),
        widget=TermsWidget(schema=form_schema),
        help_text=_("保存前逐项校验；修改条款时会先列出与现行条款的差异，确认后才保存。"),
    )
    terms_confirmed = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Benefit
        # coverage_lists is derived from the terms on save, so it is not a form field.
        fields = (*IDENTITY_FIELDS, "backup_vendors", "terms", "source_file", "source_section")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored_terms = self.instance.terms if self.instance.pk else None
        self.initial["terms"] = editor_data(self.stored_terms or {})
        self.terms_diff: list[tuple[str, str, str]] = []

    def clean_terms(self) -> dict[str, Any]:
        raw = submitted_terms(self.cleaned_data["terms"], self.stored_terms)
        canonical, error_map, messages = check_terms(raw)
        if canonical is None:
            self.fields["terms"].widget.add_error(error_map)
            raise forms.ValidationError(messages)
        return canonical

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        terms = cleaned.get("terms")
        if self.stored_terms is None or terms is None:
            return cleaned
        stored, _errors, _messages = check_terms(self.stored_terms)
        stored = stored or self.stored_terms
        if terms == stored:
            return cleaned
        digest = hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).hexdigest()
        if cleaned.get("terms_confirmed") != digest:
            self.terms_diff = terms_diff(stored, terms)
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict
            data[self.add_prefix("terms_confirmed")] = digest
            self.data = data
            raise forms.ValidationError(
                _("条款有修改：请核对下方差异，确认无误后再次点击保存。"), code="confirm_terms"
            )
        return cleaned


@admin.register(Benefit)
class BenefitAdmin(CatalogueAdmin):
    resource_classes = [BenefitResource]
    form = BenefitForm
    change_form_template = "admin/benefits/benefit/change_form.html"
    list_display = ("code", "name", "product", "vendor", "quota_summary", "active")
    list_filter = ("product__insurer", "product", "service__category", "vendor", "active")
    list_select_related = ("product", "vendor")
    search_fields = ("code", "name", "clause_text")
    autocomplete_fields = ("product", "service", "vendor", "backup_vendors", "parent")
    readonly_fields = ("terms_summary", "clause", "linked_lists")
    fieldsets = (
        (None, {"fields": (*IDENTITY_FIELDS, "backup_vendors")}),
        (_("条款"), {"fields": ("terms_summary", "linked_lists", "terms", "terms_confirmed")}),
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
            # Engineering notes are for the people who write the data, not for operators.
            parsed = obj.parsed_terms
            sections = describe_terms(
                parsed.model_copy(update={name: [] for name in HIDDEN_FIELDS})
            )
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
