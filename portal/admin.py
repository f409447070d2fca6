from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal.kernel.identity import mask_phone
from portal.kernel.tenancy import InsurerScopedAdmin
from portal.kernel.tokens import ApiTokenAdmin
from portal.models import PolicyholderAccount, SmsMessage, StaffMembership, StaffToken
from portal.site import (
    admin_audit,  # noqa: F401 - the change history's admin (auditlog)
    customer_admin,
)


@admin.register(StaffToken)
class StaffTokenAdmin(ApiTokenAdmin):
    owner_field = "user"
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "hint")
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffToken]:
        # A token acts with its user's roles and insurers: only a superuser may see or issue
        # tokens of other users; everyone else manages their own.
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None and not request.user.is_superuser:
            return ("name",)
        return super().get_fields(request, obj)

    def issue_owner(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {"user": obj.user if request.user.is_superuser else request.user}


@admin.register(SmsMessage)
class SmsMessageAdmin(InsurerScopedAdmin):
    """The development outbox, read-only. The list masks phones; the detail page shows the
    full number and the text, for the developer reading a login code."""

    list_display = ("created_at", "masked_phone", "template")
    list_filter = ("template",)
    # Exact phone only: a developer looks up their own number, nobody browses by fragment.
    search_fields = ("=phone",)
    fields = ("created_at", "phone", "template", "body")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The outbox holds login codes: whoever reads it can log in as the policyholder.
        return request.user.is_superuser

    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: SmsMessage) -> str:
        return mask_phone(obj.phone)


@admin.register(PolicyholderAccount)
class PolicyholderAccountAdmin(InsurerScopedAdmin):
    """Accounts are created by logging in and bound by the policyholder; admin only looks.
    Phones are masked and ID numbers appear only in their masked form."""

    list_display = ("masked_phone", "person_name", "person_id_masked", "bound_at", "created_at")
    list_filter = (("bound_at", admin.EmptyFieldListFilter),)
    list_select_related = ("person",)
    search_fields = ("=phone",)
    fields = (
        "masked_phone",
        "person_name",
        "person_id_masked",
        "bound_at",
        "bind_failures",
        "bind_failures_on",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyholderAccount]:
        return super().get_queryset(request).select_related("person")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting here would orphan the user; unbinding is an operation of its own.
        return False

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: PolicyholderAccount) -> str:
        return obj.masked_phone

    @admin.display(description=_("绑定人员"))
    def person_name(self, obj: PolicyholderAccount) -> str:
        return obj.person.name if obj.person else "—"

    @admin.display(description=_("证件号码"))
    def person_id_masked(self, obj: PolicyholderAccount) -> str:
        return obj.person.id_masked if obj.person else "—"


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 1
    verbose_name = _("所属保险公司")
    verbose_name_plural = _("所属保险公司（员工只能看到这些保险公司的数据；超级用户可见全部）")


class StaffUserAdmin(UserAdmin):
    """Users with their insurers. Managing staff is for superusers: the roles grant no
    permission on users, so nobody can raise their own access."""

    inlines = [*UserAdmin.inlines, StaffMembershipInline]
    list_filter = (*UserAdmin.list_filter, "staff_memberships__insurer")

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        # UserAdmin's columns, then the insurers. Through the method: UserAdmin is generic in
        # its user model, and mypy cannot type ``UserAdmin.list_display`` read off the class.
        return (*super().get_list_display(request), "insurer_names")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("staff_memberships__insurer")

    @admin.display(description=_("所属保险公司"))
    def insurer_names(self, obj: Any) -> str:
        return "、".join(str(m.insurer) for m in obj.staff_memberships.all()) or "—"


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffUserAdmin)


# The staff search box and the customer page (/admin/search/, /admin/customer/<id>/).
customer_admin.install(admin.site)
