"""Admin of settlement: contract prices (entered or imported from Excel), monthly vendor
statements (price, confirm, settle, export to Excel), their lines (dispute, resolve) and
the products' net premiums. Scoped by tenancy like every admin page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from bookings.models import ContractPrice, ProductPremium, StatementLine, VendorStatement
from bookings.settlement.resources import ContractPriceResource
from bookings.settlement.statements import (
    line_dispute,
    line_resolve,
    line_step_check,
    statement_confirm,
    statement_dataset,
    statement_price,
    statement_settle,
)
from portal.kernel.errors import DomainError
from portal.kernel.spreadsheet_formats import FormulaSafeXLSX
from portal.kernel.tenancy import InsurerScopedAdmin, has_permission, insurer_ids


@admin.register(ContractPrice)
class ContractPriceAdmin(InsurerScopedAdmin, ImportExportModelAdmin):
    resource_classes = [ContractPriceResource]
    list_display = (
        "vendor",
        "benefit",
        "basis",
        "unit_price",
        "fixed_fee",
        "pass_through",
        "tier_over",
        "tier_upto",
        "effective_from",
        "effective_until",
    )
    list_filter = ("basis", "vendor")
    list_select_related = ("vendor", "benefit")
    search_fields = ("=vendor__code", "=benefit__code", "benefit__name", "contract_ref")
    autocomplete_fields = ("vendor", "benefit")
    date_hierarchy = "effective_from"

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "insurer_ids": insurer_ids(request.user),
        }


@admin.register(ProductPremium)
class ProductPremiumAdmin(InsurerScopedAdmin):
    list_display = ("product", "year", "gross_premium", "loading_ratio", "net_premium", "source")
    list_filter = ("year",)
    list_select_related = ("product",)
    autocomplete_fields = ("product",)


@admin.register(VendorStatement)
class VendorStatementAdmin(InsurerScopedAdmin):
    list_display = (
        "vendor",
        "insurer",
        "month",
        "state",
        "line_count",
        "unpriced_count",
        "total",
        "lines_link",
    )
    list_filter = ("state", "insurer", "vendor")
    list_select_related = ("vendor", "insurer")
    readonly_fields = [f.name for f in VendorStatement._meta.fields] + ["lines_link"]
    actions = ["reprice", "confirm", "settle", "export_xlsx"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # statements come from pricing a month (manage.py vendor_statement)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return has_permission(request.user, "bookings.confirm_vendorstatement")

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return has_permission(request.user, "bookings.settle_vendorstatement")

    @admin.display(description=_("明细"))
    def lines_link(self, obj: VendorStatement) -> str:
        if obj.state == VendorStatement.State.DRAFT:
            return str(_("确认后生成"))  # a draft's lines are priced when shown (export)
        return format_html(
            '<a href="../../statementline/?statement__id__exact={}">{}</a>', obj.pk, _("查看明细")
        )

    def _each(self, request: HttpRequest, queryset: Any, step: Any) -> None:
        done = 0
        for statement in queryset.select_related("insurer", "vendor"):
            try:
                step(statement)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{statement.vendor}：{exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("已处理 %(n)d 张结算单") % {"n": done})

    @admin.action(description=_("重新计价（仅草稿）"), permissions=["change"])
    def reprice(self, request: HttpRequest, queryset: Any) -> None:
        self._each(
            request,
            queryset,
            lambda s: statement_price(insurer=s.insurer, vendor=s.vendor, month=s.month),
        )

    @admin.action(description=_("确认结算单"), permissions=["confirm"])
    def confirm(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, lambda s: statement_confirm(s, user=request.user))

    @admin.action(description=_("标记为已结算"), permissions=["settle"])
    def settle(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, statement_settle)

    @admin.action(description=_("导出 Excel"), permissions=["view"])
    def export_xlsx(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        statement = queryset.select_related("vendor").first()
        if statement is None or queryset.count() != 1:
            self.message_user(request, _("请只选择一张结算单导出"), messages.WARNING)
            return None
        content = FormulaSafeXLSX().export_data(statement_dataset(statement))
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"statement-{statement.vendor.code}-{statement.month:%Y-%m}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _line_step(disputed: bool, changed: list[str]) -> bool | None:
    """Which service an edit of a line calls: True dispute, False resolve, None neither."""
    if disputed:
        return True
    return False if "disputed" in changed else None


class StatementLineForm(forms.ModelForm):
    """Refuses a dispute step the statement's state does not allow as a form error, so the
    page shows only the reason (and nothing is saved or logged as changed)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        step = _line_step(bool(cleaned.get("disputed")), self.changed_data)
        if step is not None:
            try:
                line_step_check(self.instance.statement, dispute=step)
            except DomainError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned


@admin.register(StatementLine)
class StatementLineAdmin(InsurerScopedAdmin):
    form = StatementLineForm
    list_display = (
        "request_ref",
        "benefit",
        "completed_on",
        "outcome",
        "basis",
        "quantity",
        "amount",
        "disputed",
        "dispute_reason",
    )
    list_filter = ("disputed", "outcome")
    list_select_related = ("benefit",)
    search_fields = ("=request_ref",)
    raw_id_fields = ("statement", "request", "benefit", "price")
    show_full_result_count = False
    list_per_page = 100
    fields = ("statement", "request_ref", "amount", "disputed", "dispute_reason")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("statement", "request_ref", "amount")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: StatementLine, form: Any, change: bool) -> None:
        # Through the services: a dispute needs a confirmed statement and moves it to 有争议.
        # The form has checked the step; a state changed since (by someone else) still
        # surfaces here.
        step = _line_step(obj.disputed, form.changed_data)
        try:
            if step:
                line_dispute(obj, reason=obj.dispute_reason or str(_("未注明")))
            elif step is False:
                line_resolve(obj)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
