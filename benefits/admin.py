import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin, ImportMixin
from import_export.formats import base_formats
from import_export.results import Result

from benefits.models import (
    Benefit,
    Diagnosis,
    Hospitalisation,
    Insurer,
    Person,
    PhoneChange,
    Policy,
    PolicyMember,
    Product,
    Service,
    Vendor,
)
from benefits.policies.services import check_person_change_allowed, looks_like_formula, person_save
from benefits.quota.ledger import Actor
from benefits.resources import (
    BenefitResource,
    InsurerResource,
    PolicyResource,
    ProductResource,
    ServiceResource,
    VendorResource,
)
from benefits.terms.display import describe_terms, quota
from benefits.terms.schema import TermsError
from portal.kernel.errors import DomainError
from portal.kernel.identity import PhoneNumberError, id_number_digest, mask_phone, normalise_phone
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
    list_display = ("code", "name", "insurer", "active")
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


class PersonForm(forms.ModelForm):
    """The ID number is write-only: entered when adding a person, never shown again. A new
    phone is checked as the portal's login checks it; a changed name or phone of a person
    shared with another insurer is refused for a user who does not serve that insurer
    (``allowed_insurer_ids``, set per request by ``PersonAdmin.get_form``)."""

    allowed_insurer_ids: frozenset[int] | None = None

    class Meta:
        model = Person
        fields = (
            "name",
            "id_type",
            "id_number",
            "birth_date",
            "phone",
            "mainland_citizen",
            "home_city",
            "hukou_city",
        )
        widgets = {"id_number": forms.TextInput(attrs={"autocomplete": "off"})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if looks_like_formula(name):
            raise forms.ValidationError(_("姓名不能以 = + - @ 或制表符开头"))
        return name

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if not phone or phone == self.initial.get("phone"):
            return phone  # blank, or an unchanged (possibly legacy) spelling
        try:
            return normalise_phone(phone)
        except PhoneNumberError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is not None and {"name", "phone"} & set(self.changed_data):
            try:
                check_person_change_allowed(
                    self.instance, allowed_insurer_ids=self.allowed_insurer_ids
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return cleaned


@admin.register(Person)
class PersonAdmin(InsurerScopedAdmin):
    form = PersonForm
    list_display = (
        "name",
        "id_type",
        "id_masked",
        "masked_phone",
        "birth_date",
        "mainland_citizen",
    )
    list_filter = ("id_type", "mainland_citizen")
    search_fields = ("name",)
    autocomplete_fields = ("home_city", "hukou_city")
    list_select_related = ("home_city", "hukou_city")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(PersonForm.Meta.fields)
        if obj is not None:
            fields[fields.index("id_number")] = "id_masked"
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("id_type", "id_masked") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.allowed_insurer_ids = insurer_ids(request.user)  # a class made for this request
        return form

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        # Through the service the API and the import use: a phone change is recorded, the
        # old phone's portal bindings end and both numbers are told.
        person_save(
            person=obj,
            actor=Actor(user=request.user, label=f"staff:{request.user.get_username()}"),
            channel=PhoneChange.Channel.ADMIN,
            allowed_insurer_ids=insurer_ids(request.user),
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Person], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        # An ID number is found through its digest; the term itself is never stored or logged.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if len(term) >= 15:
            digests = [id_number_digest(id_type, term) for id_type in Person.IdType.values]
            results = results | queryset.filter(id_digest__in=digests)
        elif term.isdigit() and len(term) == 11:
            results = results | queryset.filter(phone=term)
        return results, may_have_duplicates

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: Person) -> str:
        return mask_phone(obj.phone) if obj.phone else "—"


@admin.register(PhoneChange)
class PhoneChangeAdmin(InsurerScopedAdmin):
    """The record of phone changes: read only, numbers masked."""

    list_display = ("at", "person", "old_masked", "new_masked", "channel", "actor_label")
    list_filter = ("channel",)
    list_select_related = ("person",)
    search_fields = ("actor_label",)
    date_hierarchy = "at"
    fields = ("person", "old_masked", "new_masked", "channel", "actor_label", "changed_by", "at")
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PolicyMemberInline(InsurerScopedInline, admin.TabularInline):
    model = PolicyMember
    extra = 0
    autocomplete_fields = ("person",)
    fields = ("ref", "person", "relation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyMember]:
        return super().get_queryset(request).select_related("person")


@admin.register(Policy)
class PolicyAdmin(ImportMixin, InsurerScopedAdmin):
    list_display = ("number", "product", "status", "effective_on", "expires_on", "holder", "family")
    list_filter = ("status", "product__insurer", "product", "family", "group", "transferred")
    list_select_related = ("product", "holder")
    search_fields = ("number",)
    autocomplete_fields = ("product", "holder", "renewal_of")
    date_hierarchy = "effective_on"
    inlines = [PolicyMemberInline]
    # The insurer's core-system export: previewed (masked), then written all or nothing.
    resource_classes = [PolicyResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]

    def generate_log_entries(self, result: Result, request: HttpRequest) -> None:
        report = getattr(result, "policy_report", None)
        if report is None:
            return
        for policies, flag, verb in (
            (report.created, ADDITION, "新建"),
            (report.updated, CHANGE, "更新"),
        ):
            if policies:
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=policies,
                    action_flag=flag,
                    change_message=f"从核心系统导入（{verb}）",
                    single_object=len(policies) == 1,
                )

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        report = getattr(result, "policy_report", None)
        if report is None or not report.ok:
            messages.error(request, _("导入未完成：文件中有错误，未写入任何数据"))
            return
        messages.success(
            request,
            _("保单导入完成：新建%(new)s张，更新%(updated)s张，无变化%(same)s张")
            % {
                "new": len(report.created),
                "updated": len(report.updated),
                "same": len(report.unchanged),
            },
        )


@admin.register(Hospitalisation)
class HospitalisationAdmin(InsurerScopedAdmin):
    list_display = (
        "person",
        "hospital",
        "region",
        "admitted_on",
        "discharged_on",
        "ward",
        "day_surgery",
    )
    list_filter = ("ward", "day_surgery", "pregnancy_related")
    list_select_related = ("person", "region")
    search_fields = ("hospital",)
    autocomplete_fields = ("person", "region")
    date_hierarchy = "admitted_on"


@admin.register(Diagnosis)
class DiagnosisAdmin(InsurerScopedAdmin):
    list_display = ("person", "__str__", "confirmed", "diagnosed_on", "first_diagnosed_on")
    list_filter = ("confirmed",)
    list_select_related = ("person", "disease")
    search_fields = ("disease_text", "disease__name")
    autocomplete_fields = ("person",)
    raw_id_fields = ("disease",)
