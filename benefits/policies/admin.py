"""Admin of people, policies and their members, stays and diagnoses; the policy import
from the insurer's core system."""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin
from import_export.formats import base_formats
from import_export.results import Result

from benefits.models import (
    ConsentRecord,
    Diagnosis,
    Hospitalisation,
    Person,
    PhoneChange,
    Policy,
    PolicyMember,
)
from benefits.policies.resources import PolicyResource
from benefits.policies.services import check_person_change_allowed, looks_like_formula, person_save
from portal.kernel.actor import staff_actor
from portal.kernel.errors import DomainError
from portal.kernel.identity import (
    PhoneNumberError,
    id_number_digest,
    mask_phone,
    name_with_phone,
    normalise_phone,
)
from portal.kernel.tenancy import (
    InsurerScopedAdmin,
    InsurerScopedInline,
    insurer_ids,
    request_user,
)


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
        super().clean()  # a ModelForm's returns ``self.cleaned_data``
        if self.instance.pk is not None and {"name", "phone"} & set(self.changed_data):
            try:
                check_person_change_allowed(
                    self.instance, allowed_insurer_ids=self.allowed_insurer_ids
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from None
        return self.cleaned_data


class PersonContactColumn:
    """The ``person_contact`` column of lists whose rows belong to a person."""

    @admin.display(description=_("姓名/手机号"), ordering="person__name")
    def person_contact(self, obj: Any) -> str:
        return name_with_phone(obj.person.name, obj.person.phone)


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

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = list(PersonForm.Meta.fields)
        if obj is not None:
            fields[fields.index("id_number")] = "id_masked"
        return tuple(fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("id_type", "id_masked") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        # ``self.form`` is PersonForm: the admin's form class is made from it.
        form = cast(type[PersonForm], super().get_form(request, obj, change=change, **kwargs))
        form.allowed_insurer_ids = insurer_ids(request.user)  # a class made for this request
        return form

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        # Through the service the API and the import use: a phone change is recorded, the
        # old phone's portal bindings end and both numbers are told.
        user = request_user(request)
        person_save(
            person=obj,
            actor=staff_actor(user),
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
class PhoneChangeAdmin(PersonContactColumn, InsurerScopedAdmin):
    """The record of phone changes: read only, numbers masked."""

    list_display = ("at", "person_contact", "old_masked", "new_masked", "channel", "actor_label")
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


@admin.register(ConsentRecord)
class ConsentRecordAdmin(InsurerScopedAdmin):
    """Consents to process health information, as given and withdrawn: read only (the person
    gives and withdraws them; a hotline grant goes through ``consent_grant``)."""

    list_display = ("granted_at", "person", "kind", "version", "channel", "withdrawn_at")
    list_filter = ("kind", "channel", "version")
    list_select_related = ("person",)
    date_hierarchy = "granted_at"
    fields = (
        "person",
        "kind",
        "version",
        "purpose",
        "recipients",
        "channel",
        "granted_at",
        "withdrawn_at",
        "recorded_by",
    )
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
    list_display = (
        "number",
        "product",
        "status",
        "effective_on",
        "expires_on",
        "holder_contact",
        "family",
    )
    list_filter = ("status", "product__insurer", "product", "family", "group", "transferred")
    list_select_related = ("product", "holder")
    search_fields = ("number",)
    autocomplete_fields = ("product", "holder", "renewal_of")
    date_hierarchy = "effective_on"
    inlines = [PolicyMemberInline]
    # The insurer's core-system export: previewed (masked), then written all or nothing.
    resource_classes = [PolicyResource]
    import_formats = [base_formats.CSV, base_formats.XLSX]

    @admin.display(description=_("投保人"), ordering="holder__name")
    def holder_contact(self, obj: Policy) -> str:
        return name_with_phone(obj.holder.name, obj.holder.phone)

    def generate_log_entries(self, result: Result, request: HttpRequest) -> None:
        report = getattr(result, "policy_report", None)
        if report is None:
            return
        for policies, flag, verb in (
            (report.created, ADDITION, "新建"),
            (report.updated, CHANGE, "更新"),
        ):
            if policies:
                # The stubs overload ``single_object`` on Literal[True] / Literal[False] only.
                LogEntry.objects.log_actions(  # type: ignore[call-overload]
                    user_id=request_user(request).pk,
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
class HospitalisationAdmin(PersonContactColumn, InsurerScopedAdmin):
    list_display = (
        "person_contact",
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
class DiagnosisAdmin(PersonContactColumn, InsurerScopedAdmin):
    list_display = ("person_contact", "__str__", "confirmed", "diagnosed_on", "first_diagnosed_on")
    list_filter = ("confirmed",)
    list_select_related = ("person", "disease")
    search_fields = ("disease_text", "disease__name")
    autocomplete_fields = ("person",)
    raw_id_fields = ("disease",)
