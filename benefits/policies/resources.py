"""The policy import from the insurer's core system (django-import-export), matched by policy
number, through ``benefits.policies.imports.policies_import``."""

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.results import Result, RowResult

from benefits.policies.import_rows import COLUMNS, HEADER
from benefits.policies.imports import (
    ImportFileError,
    header_keys,
    import_actor,
    policies_import,
)
from portal.kernel.tenancy import insurer_ids

ACTION_LABELS = {"new": "新增", "update": "更新", "skip": "无变化"}


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
