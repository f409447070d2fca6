"""Contract prices in and out of Excel (django-import-export), vendors and benefits by code.
A sheet is one change: any row that fails (a clash with an existing price, a benefit of
another insurer, a bad number) cancels all of them, and every row's error is reported."""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from benefits.models import Benefit, Vendor
from bookings.models import ContractPrice
from portal.kernel.tenancy import InsurerIds, may_write


def _by_code(column: str, model: type) -> fields.Field:
    return fields.Field(
        column_name=column, attribute=column, widget=widgets.ForeignKeyWidget(model, field="code")
    )


class ContractPriceResource(resources.ModelResource):
    vendor = _by_code("vendor", Vendor)
    benefit = _by_code("benefit", Benefit)

    class Meta:
        model = ContractPrice
        import_id_fields = ("vendor", "benefit", "effective_from", "tier_over")
        fields = (
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
            "contract_ref",
        )
        export_order = fields
        clean_model_instances = True  # ContractPrice.clean refuses overlapping prices
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, insurer_ids: InsurerIds = None, **kwargs: Any) -> None:
        self.insurer_ids = insurer_ids  # the importing user's insurers (None: superuser)
        super().__init__(**kwargs)

    def validate_instance(
        self, instance: Any, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        if instance.benefit_id and not may_write(instance, self.insurer_ids):
            errors = dict(import_validation_errors or {})
            errors.setdefault("benefit", []).append("该权益不属于您所在的保险公司，不能导入价格")
            import_validation_errors = errors
        super().validate_instance(instance, import_validation_errors, validate_unique)

    def import_data(self, dataset: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("use_transactions", True)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return super().import_data(dataset, **kwargs)

    def get_export_queryset(self, request: Any) -> Any:
        return super().get_export_queryset(request).select_related("vendor", "benefit")
