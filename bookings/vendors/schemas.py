"""Shapes of the vendor API: what a vendor sends and what it gets back. Times go out in
Asia/Shanghai (``+08:00``); a time sent without an offset is read as Beijing time."""

# ErrorOut is shared by every API (portal.kernel.api_errors); re-exported for the routers.

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator

from bookings.lifecycle.workflow import DELIVERING_STATUSES, allowed_events
from bookings.models import (
    Document,
    Milestone,
    RequestEvent,
    ServiceRequest,
    Status,
)
from bookings.vendors.services import VENDOR_EVENTS
from portal.kernel.api_errors import ErrorOut as ErrorOut
from portal.kernel.clock import SHANGHAI
from portal.kernel.identity import mask_phone


def _to_shanghai(value: datetime) -> datetime:
    return timezone.localtime(value, SHANGHAI)


def _assume_shanghai(value: datetime) -> datetime:
    """A time without an offset is Beijing time; one with any offset is read in Beijing time
    too (PostgreSQL takes offsets up to ±15:59 only: "-23:13" would be a 500)."""
    if timezone.is_naive(value):
        return timezone.make_aware(value, SHANGHAI)
    try:
        return timezone.localtime(value, SHANGHAI)
    except OverflowError:
        raise ValueError("时间超出可表示的范围") from None


LocalDateTime = Annotated[datetime, AfterValidator(_to_shanghai)]
BeijingDateTimeIn = Annotated[datetime, AfterValidator(_assume_shanghai)]

VendorEventCode = Literal[
    "contacted", "plan_confirmed", "scheduled", "in_service", "completed", "failed"
]


# --- input --------------------------------------------------------------------------------


class RequestFilters(Schema):
    state: Status | None = Field(
        None, description="按状态筛选，例如 assigned、scheduled、in_service"
    )
    updated_since: BeijingDateTimeIn | None = Field(
        None, description="只返回此时间（含）之后有变化的申请，ISO 8601；不带时区按北京时间"
    )
    cursor: str | None = Field(None, description="上一页返回的 next_cursor")
    limit: int = Field(50, ge=1, le=100, description="每页条数，1–100")


class EventIn(Schema):
    event: VendorEventCode = Field(
        description=(
            "contacted 已联系客户；plan_confirmed 服务方案已确认；scheduled 已预约（需 at）；"
            "in_service 服务开始；completed 服务完成；failed 未能提供服务（需 reason）"
        )
    )
    at: BeijingDateTimeIn | None = Field(
        None, description="预约时间（scheduled 必填），ISO 8601；不带时区按北京时间"
    )
    place: str = Field("", max_length=200, description="服务地点（scheduled 可填）")
    reason: str = Field("", max_length=300, description="说明；failed 必填，写明未能提供的原因")
    cause: str | None = Field(
        None,
        max_length=30,
        description=(
            "failed 的原因类别：vendor_failure 服务商原因（默认）；force_majeure 不可抗力"
            "（医院停诊、自然灾害、恶劣天气等）"
        ),
    )


class ConsumptionIn(Schema):
    measure: Literal["days", "cny", "times", "km"] = Field(
        description=(
            "计量：days 天（护工天数）；cny 元（实际支付金额）；times 次；"
            "km 公里（实际行驶里程，按里程计价的交通服务）"
        )
    )
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2, description="实际消耗数量")
    note: str = Field("", max_length=200, description="说明，例如护工起止日期")


# --- output -------------------------------------------------------------------------------


class BenefitOut(Schema):
    code: str
    name: str


class RequestSummaryOut(Schema):
    ref: str = Field(description="申请编号")
    state: str = Field(description="状态代码")
    state_label: str = Field(description="状态名称")
    benefit: BenefitOut
    region: str | None = Field(description="服务城市")
    hospital: str
    planned_at: LocalDateTime | None = Field(description="客户期望的服务时间")
    scheduled_at: LocalDateTime | None = Field(description="已预约的服务时间")
    created_at: LocalDateTime
    updated_at: LocalDateTime


class RequestPageOut(Schema):
    items: list[RequestSummaryOut]
    next_cursor: str | None = Field(description="下一页的 cursor；为 null 表示已到最后一页")


class RecipientOut(Schema):
    name: str = Field(description="服务对象姓名")
    phone: str = Field(description="手机号；仅在已派单、已预约、服务中时完整显示，否则打码")
    phone_masked: bool
    birth_year: int = Field(description="出生年份（不提供出生日期和证件号码）")


class DocumentOut(Schema):
    id: int
    name: str = Field(description="文件名")
    type: str = Field(description="文件类型（MIME）")
    size: int = Field(description="大小（字节）")
    requirement: str = Field(description="资料类型")
    from_vendor: bool = Field(description="是否为服务商上传")
    flags: list[str] = Field(description="风险标记，例如 pdf_javascript：请谨慎打开")
    uploaded_at: LocalDateTime


class MilestoneOut(Schema):
    code: str
    label: str = Field(description="时效节点名称")
    state: str = Field(description="waiting / pending / met / breached / cancelled")
    due_at: LocalDateTime | None = Field(description="截止时间")
    provisional: bool = Field(description="节假日未确认，按工作日暂定")
    met_at: LocalDateTime | None


class TimelineEventOut(Schema):
    event: str
    label: str
    state: str = Field(description="事件后的状态")
    at: LocalDateTime
    reason: str
    cause: str | None = Field(description="原因类别（取消、未能提供时）")
    cause_label: str | None = Field(description="原因类别的中文名称")


class RequestDetailOut(RequestSummaryOut):
    recipient: RecipientOut
    option: str = Field(description="所选项目（如 3选1）")
    amount: Decimal | None = Field(description="申请的天数或金额")
    note: str = Field(description="客户备注")
    place: str = Field(description="服务地点")
    hospitalisation: dict[str, Any] | None = Field(description="住院信息：入院、出院日期等")
    documents: list[DocumentOut]
    milestones: list[MilestoneOut] = Field(description="本申请的服务时效节点")
    timeline: list[TimelineEventOut] = Field(description="处理记录")
    next_events: list[str] = Field(description="当前状态下服务商可报告的事件")


class RequestStateOut(Schema):
    ref: str
    state: str
    state_label: str
    quota: str = Field(description="额度：held 占用中；used 已使用；released 已返还")
    scheduled_at: LocalDateTime | None
    updated_at: LocalDateTime
    next_events: list[str]


class ConsumptionOut(Schema):
    id: int
    measure: str
    amount: Decimal
    note: str
    recorded_at: LocalDateTime


# --- shaping ------------------------------------------------------------------------------


def vendor_next_events(request: ServiceRequest) -> list[str]:
    allowed = set(allowed_events(request.status))
    return [event for event in VENDOR_EVENTS if event in allowed]


def summary(request: ServiceRequest) -> dict[str, Any]:
    return {
        "ref": request.ref,
        "state": request.status,
        "state_label": str(Status(request.status).label),
        "benefit": {"code": request.benefit.code, "name": request.benefit.name},
        "region": request.region.name if request.region else None,
        "hospital": request.hospital,
        "planned_at": request.planned_at,
        "scheduled_at": request.scheduled_at,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


def recipient(request: ServiceRequest) -> dict[str, Any]:
    """The person served, with only what the vendor needs. The full phone number is given
    while the vendor must call the client (assigned, scheduled, in service); before and
    after that it is masked. Never the ID number, never the full birth date."""
    person = request.recipient.person
    masked = bool(person.phone) and request.status not in DELIVERING_STATUSES
    return {
        "name": person.name,
        "phone": mask_phone(person.phone) if masked else person.phone,
        "phone_masked": masked,
        "birth_year": person.birth_date.year,
    }


def document(doc: Document) -> dict[str, Any]:
    return {
        "id": doc.pk,
        "name": doc.display_name,
        "type": doc.content_type,
        "size": doc.size,
        "requirement": doc.requirement,
        "from_vendor": doc.from_vendor,
        "flags": list(doc.flags),
        "uploaded_at": doc.uploaded_at,
    }


def milestone(item: Milestone) -> dict[str, Any]:
    return {
        "code": item.code,
        "label": item.label,
        "state": item.state,
        "due_at": item.due_at,
        "provisional": item.provisional,
        "met_at": item.met_at,
    }


def timeline_event(event: RequestEvent) -> dict[str, Any]:
    return {
        "event": event.event,
        "label": str(event.label),
        "state": event.to_status,
        "at": event.at,
        "reason": event.reason,
        "cause": event.data.get("cause"),
        "cause_label": event.cause_label or None,
    }


def detail(request: ServiceRequest) -> dict[str, Any]:
    stay = request.context.get("hospitalisation")
    return {
        **summary(request),
        "recipient": recipient(request),
        "option": request.option,
        "amount": request.amount,
        "note": request.note,
        "place": request.place,
        "hospitalisation": stay,
        "documents": [document(d) for d in request.documents.all()],
        "milestones": [milestone(m) for m in request.milestones.all()],
        # The policyholder's rating is the insurer's to share with its vendor, not the API's.
        "timeline": [timeline_event(e) for e in request.events.all() if e.event != "rated"],
        "next_events": vendor_next_events(request),
    }


def state(request: ServiceRequest) -> dict[str, Any]:
    """The answer to a posted event, as JSON (stored for idempotent replay)."""
    body = {
        "ref": request.ref,
        "state": request.status,
        "state_label": str(Status(request.status).label),
        "quota": request.quota_outcome,
        "scheduled_at": request.scheduled_at,
        "updated_at": request.updated_at,
        "next_events": vendor_next_events(request),
    }
    return RequestStateOut.model_validate(body).model_dump(mode="json")
