"""Admin for the vendor integration: API tokens (shown once on issue, revocable), workbench
accounts (login and password set here), webhook endpoints (secret generated here and shown
once) and the webhook delivery log."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.catalogue.vendors import insurers_served
from benefits.models import Vendor
from bookings.models import VendorAccount, VendorToken, VendorWebhook, WebhookDelivery
from portal.kernel.identity import PhoneNumberError, mask_phone, normalise_phone
from portal.kernel.tenancy import InsurerScopedAdmin, insurer_ids
from portal.kernel.tokens import ApiTokenAdmin

WEBHOOK_SECRET_BYTES = 32


class VendorCredentialsAdmin(admin.ModelAdmin):
    """An API token, a webhook or a workbench login sees every request assigned to its
    vendor, whichever insurer's. So only a user of every insurer the vendor serves (for a
    vendor shared by insurers: the platform's superuser) may create, change or delete one;
    the others may read their vendors' rows."""

    def _own_vendor(self, request: HttpRequest, vendor: Vendor) -> bool:
        ids = insurer_ids(request.user)
        return ids is None or insurers_served(vendor) <= set(ids)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._own_vendor(request, obj.vendor))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._own_vendor(request, obj.vendor))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        own_vendor = self._own_vendor

        class OwnVendorOnly(form):  # type: ignore[valid-type, misc]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                vendor = data.get("vendor")
                if vendor is not None and not own_vendor(request, vendor):
                    raise forms.ValidationError(
                        _(
                            "该服务商同时为其他保险公司提供服务，其令牌、回调与工作台账号只能由平台管理员设置"
                        )
                    )
                return data

        return OwnVendorOnly


@admin.register(VendorToken)
class VendorTokenAdmin(VendorCredentialsAdmin, ApiTokenAdmin):
    owner_field = "vendor"
    issued_message = _("新令牌（只显示这一次，请立即复制并安全地交给服务商）：%(raw)s")
    list_filter = ("revoked_at", "vendor")
    list_select_related = ("vendor",)
    search_fields = ("name", "hint", "vendor__name", "vendor__code")
    autocomplete_fields = ("vendor",)


class VendorAccountForm(forms.ModelForm):
    """Creates the login with the account: a username and a password (Django's password
    rules), never a staff user. On change, a new password may be set."""

    username = forms.CharField(label=_("登录名"), max_length=150, required=False)
    password = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("修改账号时留空表示不修改密码"),
    )

    phone = forms.CharField(label=_("手机号（接收登录验证码）"), max_length=20)

    class Meta:
        model = VendorAccount
        fields = ("vendor", "phone", "active")

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except PhoneNumberError:
            raise forms.ValidationError(_("请输入正确的11位中国大陆手机号码")) from None

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if self.instance.pk is None:
            if not username:
                raise forms.ValidationError(_("请填写登录名"))
            if get_user_model().objects.filter(username=username).exists():
                raise forms.ValidationError(_("该登录名已被使用"))
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.instance.pk is None and not password:
            raise forms.ValidationError(_("请设置密码"))
        if password:
            validate_password(password)
        return password

    def save(self, commit: bool = True) -> VendorAccount:
        account = super().save(commit=False)
        password = self.cleaned_data.get("password")
        if account.pk is None:
            account.user = get_user_model().objects.create_user(
                username=self.cleaned_data["username"], password=password, is_staff=False
            )
        elif password:
            account.user.set_password(password)
            account.user.save(update_fields=["password"])
        if commit:
            account.save()
        return account


@admin.register(VendorAccount)
class VendorAccountAdmin(VendorCredentialsAdmin, InsurerScopedAdmin):
    """Workbench logins of vendor staff (password + SMS code at /vendor/)."""

    form = VendorAccountForm
    list_display = ("__str__", "vendor", "masked_phone", "active", "created_at")
    list_filter = ("active", "vendor")
    list_select_related = ("vendor", "user")
    search_fields = ("user__username", "vendor__name", "vendor__code")
    autocomplete_fields = ("vendor",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        login = ["password"] if obj is not None else ["username", "password"]
        return [*login, "vendor", "phone", "active"]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: VendorAccount) -> str:
        return mask_phone(obj.phone)


@admin.register(VendorWebhook)
class VendorWebhookAdmin(VendorCredentialsAdmin, InsurerScopedAdmin):
    """The signing secret is generated here and shown once (on creation and on rotation);
    afterwards only its first characters are displayed."""

    list_display = ("vendor", "url", "active", "secret_hint")
    list_filter = ("active",)
    list_select_related = ("vendor",)
    search_fields = ("vendor__name", "vendor__code", "url")
    autocomplete_fields = ("vendor",)
    fields = ("vendor", "url", "active", "secret_hint")
    readonly_fields = ("secret_hint",)
    actions = ("rotate_secret",)

    @admin.display(description=_("签名密钥"))
    def secret_hint(self, obj: VendorWebhook) -> str:
        return f"{obj.secret[:6]}…" if obj.secret else "—"

    def save_model(self, request: HttpRequest, obj: VendorWebhook, form: Any, change: bool) -> None:
        if not change:
            obj.secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
            self._show_secret(request, obj)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("重新生成签名密钥"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[VendorWebhook]) -> None:
        for webhook in queryset.select_related("vendor"):
            webhook.secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
            webhook.save(update_fields=["secret"])
            self._show_secret(request, webhook)

    def _show_secret(self, request: HttpRequest, webhook: VendorWebhook) -> None:
        messages.warning(
            request,
            _("%(vendor)s 的签名密钥（只显示这一次，请交给服务商用于验证 X-Signature）：%(secret)s")
            % {"vendor": webhook.vendor, "secret": webhook.secret},
        )


class DeliveryStateFilter(admin.SimpleListFilter):
    title = _("投递状态")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("pending", _("待发送")), ("delivered", _("已送达")), ("gave_up", _("已放弃"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(delivered_at__isnull=True, next_attempt_at__isnull=False)
        if self.value() == "delivered":
            return queryset.filter(delivered_at__isnull=False)
        if self.value() == "gave_up":
            return queryset.filter(delivered_at__isnull=True, next_attempt_at__isnull=True)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(InsurerScopedAdmin):
    list_display = (
        "created_at",
        "webhook",
        "event",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    )
    list_filter = (DeliveryStateFilter, "event")
    list_select_related = ("webhook__vendor",)
    search_fields = ("webhook__vendor__name", "payload__ref")
    readonly_fields = (
        "webhook",
        "event",
        "payload",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "created_at",
    )
    fields = readonly_fields
    actions = ("retry_now",)
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("立即重新发送（含已放弃的）"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        # Due now: the periodic task picks them up; attempts restart the backoff.
        changed = queryset.filter(delivered_at__isnull=True).update(
            next_attempt_at=timezone.now(), attempts=0
        )
        self.message_user(
            request, _("已安排重新发送 %(count)d 条。") % {"count": changed}, messages.SUCCESS
        )
