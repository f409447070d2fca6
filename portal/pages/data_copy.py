"""A policyholder's copy of their personal information (PIPL art. 45): the policies they
hold or are insured on, the members they act for, the requests of those members, the
documents of those requests (names and dates, never the files), their messages and every
consent they answered; as JSON or a readable, formula-safe xlsx. Each download is written
to the access log (auditlog, 查看). Set-based: the same number of queries however much
there is."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from tablib import Databook, Dataset

from benefits.models import Person, Policy
from benefits.policies.consents import ConsentRecord
from bookings.models import Document, Notification, RecordsConsent, ServiceRequest
from portal.kernel.spreadsheet_formats import escape_formula
from portal.pages.access import actable_members

Section = list[dict[str, Any]]


def _at(moment: datetime | None) -> str | None:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else None


def personal_data_copy(person: Person) -> dict[str, Section]:
    """The sections of the copy, each a list of rows in Chinese headings (eight queries)."""
    members = list(actable_members(person))
    policies = (
        Policy.objects.filter(Q(holder=person) | Q(members__person=person))
        .select_related("product")
        .distinct()
        .order_by("effective_on", "number")
    )
    requests = list(
        ServiceRequest.objects.filter(member__in=[m.pk for m in members])
        .select_related("benefit", "recipient__person", "vendor")
        .order_by("created_at", "id")
    )
    documents = Document.objects.filter(request__in=[r.pk for r in requests]).select_related(
        "request"
    )
    messages = Notification.objects.filter(person=person).select_related("request")
    consents = ConsentRecord.objects.filter(person=person).order_by("granted_at", "id")
    records_consents = RecordsConsent.objects.filter(
        Q(person=person) | Q(request__in=[r.pk for r in requests])
    ).select_related("request", "person")
    return {
        "保单": [
            {
                "保单号": p.number,
                "产品": p.product.name,
                "状态": p.get_status_display(),
                "生效日期": p.effective_on,
                "满期日期": p.expires_on,
                "投保人是本人": p.holder_id == person.pk,
            }
            for p in policies
        ],
        "可代办的被保险人": [
            {
                "保单号": m.policy.number,
                "姓名": m.person.name,
                "证件号码": m.person.id_masked,
                "与投保人关系": m.get_relation_display(),
            }
            for m in members
        ],
        "服务申请": [_request_row(r) for r in requests],
        "资料": [
            {
                "申请编号": d.request.ref,
                "文件名": d.display_name,
                "资料类型": d.requirement,
                "上传时间": _at(d.uploaded_at),
                "服务商上传": d.from_vendor,
                "已按保存期限删除": _at(d.purged_at),
            }
            for d in documents
        ],
        "消息": [
            {
                "时间": _at(n.created_at),
                "申请编号": n.request.ref if n.request else None,
                "标题": n.title,
                "内容": n.body,
                "已读时间": _at(n.read_at),
            }
            for n in messages
        ],
        "同意记录": [
            {
                "类型": c.get_kind_display(),
                "申请编号": None,
                "文本版本": c.version,
                "目的": c.purpose,
                "接收方": "、".join(c.recipients),
                "渠道": c.get_channel_display(),
                "同意": True,
                "时间": _at(c.granted_at),
                "撤回时间": _at(c.withdrawn_at),
            }
            for c in consents
        ]
        + [
            {
                "类型": "向服务商提供申请资料",
                "申请编号": c.request.ref,
                "文本版本": c.version,
                "目的": c.purpose,
                "接收方": "、".join(c.recipients),
                "渠道": c.channel,
                "同意": c.given,
                "时间": _at(c.answered_at),
                "撤回时间": _at(c.withdrawn_at),
            }
            for c in records_consents
        ],
    }


def _request_row(request: ServiceRequest) -> dict[str, Any]:
    return {
        "申请编号": request.ref,
        "权益": request.benefit.name,
        "服务对象": request.recipient.person.name,
        "状态": request.get_status_display(),
        "提交时间": _at(request.created_at),
        "预约时间": _at(request.scheduled_at),
        "医院": request.hospital,
        "服务商": request.vendor.name if request.vendor else None,
        "金额": request.amount,
        "备注": request.note,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def data_copy_json(copy: dict[str, Section]) -> bytes:
    return json.dumps(copy, ensure_ascii=False, indent=2, default=_plain).encode()


def data_copy_xlsx(copy: dict[str, Section]) -> bytes:
    """One sheet per section; every cell formula-escaped (a note typed as "=HYPERLINK(…)"
    stays text)."""
    book = Databook()
    for title, rows in copy.items():
        headers = list(rows[0]) if rows else []
        sheet = Dataset(headers=headers, title=title)
        for row in rows:
            sheet.append([escape_formula(_cell(row[h])) for h in headers])
        book.add_sheet(sheet)
    return book.export("xlsx")


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    return _plain(value)


def data_copy_logged(person: Person, *, user: User, file_format: str) -> None:
    """One 查看 entry in the access log: who downloaded whose copy, in which format."""
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_pk=str(person.pk),
        object_id=person.pk,
        object_repr=f"Person {person.pk}",
        action=LogEntry.Action.ACCESS,
        changes={"下载": ["", "个人信息副本"]},
        actor=user,
        additional_data={"purpose": "data_copy", "format": file_format},
    )
