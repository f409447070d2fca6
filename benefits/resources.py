"""Excel/CSV round trips of the catalogue (django-import-export), matched by code, never by
primary key: a sheet exported from one database imports into another; and the policy import
from the insurer's core system, matched by policy number."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.results import Result, RowResult

from benefits.models import Benefit, Insurer, Product, Service, Vendor
from benefits.policies.imports import (
    COLUMNS,
    HEADER,
    ImportFileError,
    header_keys,
    import_actor,
    policies_import,
)
from coverage.models import CoverageList
from portal.kernel.tenancy import InsurerIds, insurer_ids, may_write

ACTION_LABELS = {"new": "新增", "update": "更新", "skip": "无变化"}


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
        fields = ("code", "name", "insurer", "active")


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


class PolicyResource(resources.Resource):
    """The insurer's core-system export, one row per insured member, imported through
    ``benefits.policies.imports.policies_import`` (which writes through ``policy_upsert``).
    The preview shows every row with ID and phone numbers masked; a file with any bad row
    writes nothing."""

    SHOWN = (
        "number",
        "product",
        "holder_name",
        "holder_id_number",
        "member_ref",
        "member_name",
        "member_id_number",
        "relation",
        "home_city",
        "hukou_city",
    )
    ACTIONS = {
        "new": RowResult.IMPORT_TYPE_NEW,
        "update": RowResult.IMPORT_TYPE_UPDATE,
        "skip": RowResult.IMPORT_TYPE_SKIP,
    }

    @classmethod
    def get_display_name(cls) -> str:
        return "保单（核心系统导出，每位被保险人一行）"

    def get_user_visible_fields(self) -> list[fields.Field]:
        return [fields.Field(column_name=header) for _key, header in COLUMNS]

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Result:
        result = Result()
        shown = [HEADER[key] for key in self.SHOWN]
        result.diff_headers = ["行号", *shown, "结果"]
        try:
            keys = header_keys(list(dataset.headers or []))
        except ImportFileError as exc:
            result.append_invalid_row(1, {"行号": 1}, ValidationError(str(exc)))
            return result
        rows = [{key: cell for key, cell in zip(keys, row, strict=True) if key} for row in dataset]
        user = kwargs.get("user")
        report = policies_import(
            rows=rows,
            dry_run=dry_run,
            actor=import_actor(user),
            allowed_insurer_ids=insurer_ids(user) if user is not None else None,
        )
        for row in report.rows:
            values = {"行号": row.line, **row.shown()}
            if row.errors:
                result.append_invalid_row(row.line, values, ValidationError(row.errors))
                continue
            if report.ok:
                row_result = RowResult()
                row_result.import_type = self.ACTIONS[row.action]
                row_result.diff = [row.line, *(values[h] for h in shown), ACTION_LABELS[row.action]]
                result.append_row_result(row_result)
                result.increment_row_result_total(row_result)
        result.policy_report = report
        return result
