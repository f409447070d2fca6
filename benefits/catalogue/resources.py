"""Excel/CSV round trips of the catalogue (django-import-export), matched by code, never by
primary key: a sheet exported from one database imports into another."""

import json
from typing import Any

from import_export import fields, resources, widgets

from benefits.models import Benefit, Insurer, Product, Service, Vendor
from coverage.models import CoverageList
from portal.kernel.tenancy import InsurerIds, may_write


class TermsWidget(widgets.JSONWidget):
    """Terms as readable, indented JSON in one cell (Chinese kept as characters)."""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""


class CatalogueResource(resources.ModelResource):
    class Meta:
        import_id_fields = ("code",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True
        exclude = ("id", "loaded_digest", "created_at", "updated_at")

    def __init__(self, insurer_ids: InsurerIds = None, **kwargs: Any) -> None:
        # The importing user's insurers (None: a superuser): a row may only create or change
        # a record of those insurers.
        self.insurer_ids = insurer_ids
        super().__init__(**kwargs)

    def validate_instance(
        self, instance: Any, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        if not may_write(instance, self.insurer_ids):
            errors = dict(import_validation_errors or {})
            errors.setdefault("code", []).append(
                f"“{instance.code}”不属于您所在的保险公司，不能导入或修改"
            )
            import_validation_errors = errors
        super().validate_instance(instance, import_validation_errors, validate_unique)

    def import_data(self, dataset: Any, **kwargs: Any) -> Any:
        # A catalogue sheet is one change: a row that fails validation cancels the others,
        # as the admin's confirm step already does.
        kwargs.setdefault("use_transactions", True)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return super().import_data(dataset, **kwargs)


def by_code(column: str, model: type) -> fields.Field:
    return fields.Field(
        column_name=column,
        attribute=column,
        widget=widgets.ForeignKeyWidget(model, field="code"),
    )


class InsurerResource(CatalogueResource):
    class Meta(CatalogueResource.Meta):
        model = Insurer
        fields = ("code", "name", "short_name", "hotline")


class VendorResource(CatalogueResource):
    insurer = by_code("insurer", Insurer)

    class Meta(CatalogueResource.Meta):
        model = Vendor
        fields = ("code", "name", "insurer", "hotline", "active")


class ServiceResource(CatalogueResource):
    class Meta(CatalogueResource.Meta):
        model = Service
        fields = ("code", "name", "category")


class ProductResource(CatalogueResource):
    insurer = by_code("insurer", Insurer)

    class Meta(CatalogueResource.Meta):
        model = Product
        fields = ("code", "name", "insurer", "handbook_title", "seed_file", "active")


class BenefitResource(CatalogueResource):
    product = by_code("product", Product)
    service = by_code("service", Service)
    parent = by_code("parent", Benefit)
    vendor = by_code("vendor", Vendor)
    terms = fields.Field(column_name="terms", attribute="terms", widget=TermsWidget())
    coverage_lists = fields.Field(
        column_name="coverage_lists",
        attribute="coverage_lists",
        widget=widgets.ManyToManyWidget(CoverageList, field="code", separator="|"),
        # Derived from terms.coverage_lists on save; exported for reading only.
        readonly=True,
    )

    class Meta(CatalogueResource.Meta):
        model = Benefit
        fields = (
            "code",
            "product",
            "service",
            "parent",
            "position",
            "name",
            "vendor",
            "active",
            "source_file",
            "source_section",
            "terms",
            "clause_text",
            "coverage_lists",
        )
        export_order = fields

    def get_export_queryset(self, request: Any) -> Any:
        return (
            super()
            .get_export_queryset(request)
            .select_related("product", "service", "parent", "vendor")
            .prefetch_related("coverage_lists")
        )
