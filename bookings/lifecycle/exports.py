"""Requests to a spreadsheet: the admin queue with its filters applied and a customer's
requests (``portal.site.customer_admin``), through django-import-export's resource and the
project's formula-safe formats (``portal.kernel.spreadsheet_formats``).

PIPL: ID numbers and phones are written masked (110105********1234, 138****8000) unless the
user holds ``bookings.see_identity_servicerequest``; an unmasked export writes one 查看
entry per exported request into the change history (auditlog), with who and when, and the
insurers of the request so the insurer's auditors see it. Masked exports never decrypt an ID
number: the column is not even read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from bookings.models import ServiceRequest
from portal.kernel.identity import mask_phone
from portal.kernel.spreadsheet_formats import FormulaSafeCSV, FormulaSafeXLSX
from portal.kernel.tenancy import has_permission

IDENTITY_PERMISSION = "bookings.see_identity_servicerequest"
# More rows than anyone reads in a sheet; narrow the filters instead (the file says so).
EXPORT_LIMIT = 10_000
FORMATS = {"xlsx": FormulaSafeXLSX, "csv": FormulaSafeCSV}


def _local(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


class RequestExportResource(resources.ModelResource):
    """One row per request, in Chinese, with names instead of codes."""

    ref = fields.Field(attribute="ref", column_name=_("申请编号"))
    benefit = fields.Field(attribute="benefit__name", column_name=_("权益"))
    product = fields.Field(attribute="policy__product__name", column_name=_("产品"))
    policy = fields.Field(attribute="policy__number", column_name=_("保单号"))
    member = fields.Field(attribute="member__person__name", column_name=_("被保险人"))
    id_number = fields.Field(column_name=_("证件号码"))
    phone = fields.Field(column_name=_("手机号"))
    recipient = fields.Field(attribute="recipient__person__name", column_name=_("服务对象"))
    status = fields.Field(column_name=_("状态"))
    vendor = fields.Field(attribute="vendor__name", column_name=_("服务商"))
    assignee = fields.Field(attribute="assignee__username", column_name=_("负责人"))
    scheduled = fields.Field(column_name=_("预约时间"))
    created = fields.Field(column_name=_("提交时间"))

    class Meta:
        model = ServiceRequest
        fields = (
            "ref",
            "benefit",
            "product",
            "policy",
            "member",
            "id_number",
            "phone",
            "recipient",
            "status",
            "vendor",
            "assignee",
            "scheduled",
            "created",
        )
        export_order = fields

    def __init__(self, *, unmasked: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unmasked = unmasked

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        return [str(header) for header in super().get_export_headers(selected_fields)]

    def dehydrate_id_number(self, obj: ServiceRequest) -> str:
        person = obj.member.person
        return person.id_number if self.unmasked else person.id_masked

    def dehydrate_phone(self, obj: ServiceRequest) -> str:
        phone = obj.member.person.phone
        return phone if self.unmasked or not phone else mask_phone(phone)

    def dehydrate_status(self, obj: ServiceRequest) -> str:
        return str(obj.get_status_display())

    def dehydrate_scheduled(self, obj: ServiceRequest) -> str:
        return _local(obj.scheduled_at)

    def dehydrate_created(self, obj: ServiceRequest) -> str:
        return _local(obj.created_at)


def export_queryset(queryset: QuerySet[ServiceRequest], *, unmasked: bool) -> QuerySet:
    """The rows to export with what they show loaded; a masked export does not read (and
    so never decrypts) the ID number."""
    rows = (
        queryset.select_related(
            "benefit",
            "policy__product",
            "member__person",
            "recipient__person",
            "vendor",
            "assignee",
        )
        .prefetch_related(None)
        .order_by("-created_at", "-id")[:EXPORT_LIMIT]
    )
    return rows if unmasked else rows.defer("member__person__id_number")


def log_unmasked_export(user: Any, requests: Iterable[ServiceRequest]) -> None:
    """A 查看 entry in the change history per request whose ID number and phone ``user``
    exported unmasked (one insert for all of them)."""
    content_type = ContentType.objects.get_for_model(ServiceRequest)
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(request.pk),
                object_id=request.pk,
                object_repr=request.ref,
                action=LogEntry.Action.ACCESS,
                changes={"导出": ["", "完整证件号码与手机号"]},
                actor=user,
                additional_data={
                    "purpose": "export_unmasked",
                    "insurers": {str(request.policy.product.insurer_id): True},
                },
            )
            for request in requests
        ]
    )


def requests_export(
    queryset: QuerySet[ServiceRequest], *, user: Any, file_format: str
) -> tuple[bytes | str, str]:
    """The file of ``queryset`` (already scoped to the user's insurers) in ``file_format``
    ("xlsx" or "csv") and its content type; unmasked when the user may see identities."""
    unmasked = has_permission(user, IDENTITY_PERMISSION)
    rows = list(export_queryset(queryset, unmasked=unmasked))
    dataset = RequestExportResource(unmasked=unmasked).export(queryset=rows)
    if unmasked:
        log_unmasked_export(user, rows)
    spreadsheet: Any = FORMATS[file_format]()  # an import-export format (mixin typed loosely)
    return spreadsheet.export_data(dataset), spreadsheet.get_content_type()
