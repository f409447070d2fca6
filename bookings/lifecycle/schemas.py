"""Shapes of the staff request API (``bookings.lifecycle.api``). The submission's context is
the eligibility API's (``benefits.eligibility.api.EligibilityContext``): what the agent
checks and what the agent submits are the same fields. Times go out in Asia/Shanghai. No ID
number anywhere; the phone is always masked (the agent calls through the hotline system)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema

from benefits.eligibility.api import EligibilityContext
from benefits.models import QuotaLedgerEntry
from bookings.lifecycle.staff import STAFF_EVENTS
from bookings.lifecycle.workflow import TRANSITIONS
from bookings.models import (
    Milestone,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    Status,
)
from bookings.vendors.schemas import (
    BeijingDateTimeIn,
    BenefitOut,
    ConsumptionIn,
    LocalDateTime,
    MilestoneOut,
)
from bookings.vendors.schemas import milestone as milestone_out
from portal.kernel.identity import mask_phone

Channel = Literal["hotline"]
StaffEventCode = Literal[
    "approve",
    "investigate",
    "reject",
    "assign",
    "schedule",
    "reschedule",
    "start",
    "complete",
    "cancel",
    "no_show",
    "fail",
]

# --- input --------------------------------------------------------------------------------


class StaffRequestIn(Schema):
    policy: str = Field(description="保单号")
    member: str = Field(description="被保险人编号（如 M1）或证件号码")
    recipient: str | None = Field(
        None, description="服务对象（家庭成员共享的权益）：被保险人编号；默认为被保险人本人"
    )
    benefit: str = Field(description="权益代码，例如 pingan.health.outpatient_assist")
    context: EligibilityContext = Field(
        default_factory=EligibilityContext,
        description="与资格判断接口（/eligibility）相同：住院、诊断、期望时间、城市、医院等",
    )
    channel: Channel = Field(description="受理渠道：hotline 客服热线")
    records_consent_read_out: bool | None = Field(
        None,
        description=(
            "资料提供同意（个人信息保护法第二十三条）：坐席已向客户宣读与门户相同的同意文本"
            "（列明该权益的服务商），客户同意为 true，不同意为 false；"
            "未询问不填。不同意或撤回后服务商不能查看本次申请的资料"
        ),
    )
    option: str = Field("", max_length=60, description="所选项目（3选1 等）")
    note: str = Field("", max_length=2000, description="坐席备注")


class StaffReviewIn(Schema):
    gate: str = Field(max_length=60, description="审核节点代码（权益条款 reviews 中的 code）")
    passed: bool = Field(description="审核结论：true 通过；false 不通过（申请随之结束，额度返还）")
    reason: str = Field(min_length=1, max_length=300, description="结论依据（谁评估、结论如何）")
    channel: Channel = Field("hotline", description="受理渠道：hotline 客服热线")


class StaffEventIn(Schema):
    event: StaffEventCode = Field(
        description=(
            "approve 审核通过；investigate 开始调查（条款约定“调查时效不计入”的时效暂停计时，"
            "至下一事件恢复）；reject 审核不通过（需 reason，主管）；assign 派单（需 vendor，"
            "主管）；schedule 预约（需 at，可填 place）；reschedule 改约（需 at）；start 服务开始；"
            "complete 服务完成（可填 consumption：额度按实际消耗扣减）；cancel 取消（需 reason）；"
            "no_show 客户爽约；fail 未能提供服务（需 reason）"
        )
    )
    vendor: str | None = Field(None, description="服务商代码（assign 必填）")
    at: BeijingDateTimeIn | None = Field(
        None, description="预约时间（schedule、reschedule 必填），ISO 8601；不带时区按北京时间"
    )
    place: str = Field("", max_length=200, description="服务地点")
    reason: str = Field("", max_length=300, description="说明（将告知客户）")
    cause: str | None = Field(
        None,
        max_length=30,
        description=(
            "原因类别（cancel 必填，fail 可填）：member 客户本人取消；discharge_changed 出院日期"
            "变更；vendor_failure 服务商原因未能提供；force_majeure 不可抗力；insurer 保险公司"
            "原因（如重复或误录）。决定取消后权益返还还是视为已使用"
        ),
    )
    consumption: list[ConsumptionIn] = Field(
        default_factory=list, description="complete 时的实际消耗（如护工 7 天）"
    )
    channel: Channel = Field("hotline", description="受理渠道：hotline 客服热线")


# --- output -------------------------------------------------------------------------------


class PersonOut(Schema):
    member: str = Field(description="被保险人编号")
    name: str
    phone: str = Field(description="手机号（打码）")


class VendorOut(Schema):
    code: str
    name: str


class LedgerEntryOut(Schema):
    kind: str = Field(description="hold 占用；use 使用；release 返还")
    label: str
    amount: Decimal
    measure: str = Field(description="times 次；days 天；cny 元；requests 申请次数")
    at: LocalDateTime
    actor: str
    reason: str


class QuotaOut(Schema):
    outcome: str = Field(description="none 不占额度；held 占用中；used 已使用；released 已返还")
    label: str
    entries: list[LedgerEntryOut] = Field(description="本申请的额度流水")


class TimelineOut(Schema):
    event: str
    label: str = Field(description="事件名称")
    status: str = Field(description="事件后的状态")
    status_label: str
    at: LocalDateTime
    actor: str = Field(description="操作方：staff:<用户名>、vendor:<代码>、policyholder …")
    reason: str
    cause: str | None = Field(description="原因类别（取消、未能提供时）")
    cause_label: str | None = Field(description="原因类别的中文名称")
    consequence: str | None = Field(description="对权益额度的影响（返还或视为已使用）")
    channel: str | None = Field(description="受理渠道（如 hotline）")


class StaffRequestOut(Schema):
    ref: str = Field(description="申请编号")
    status: str
    status_label: str
    quota_outcome: str
    quota: QuotaOut
    benefit: BenefitOut
    policy: str
    member: PersonOut
    recipient: PersonOut
    vendor: VendorOut | None
    planned_at: LocalDateTime | None
    scheduled_at: LocalDateTime | None
    place: str
    hospital: str
    region: str | None
    channel: str | None = Field(description="受理渠道（hotline；门户提交为 null）")
    outcome_reason: str
    milestones: list[MilestoneOut] = Field(description="时效节点：截止时间与状态")
    timeline: list[TimelineOut] = Field(description="处理记录")
    next_events: list[str] = Field(description="当前状态下可提交的事件")
    created_at: LocalDateTime
    updated_at: LocalDateTime


# --- shaping ------------------------------------------------------------------------------


def staff_next_events(request: ServiceRequest) -> list[str]:
    events = []
    for event, lifecycle_event in STAFF_EVENTS.items():
        if request.status not in TRANSITIONS[lifecycle_event].sources:
            continue
        if event == "reschedule" and request.status != Status.SCHEDULED:
            continue
        events.append(event)
    return events


def _person(member: Any) -> dict[str, Any]:
    phone = member.person.phone
    return {
        "member": member.ref,
        "name": member.person.name,
        "phone": mask_phone(phone) if phone else "",
    }


def _ledger_entry(entry: QuotaLedgerEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "label": str(QuotaLedgerEntry.Kind(entry.kind).label),
        "amount": entry.amount,
        "measure": entry.balance.measure,
        "at": entry.created_at,
        "actor": entry.actor_label,
        "reason": entry.reason,
    }


def _timeline_event(event: RequestEvent) -> dict[str, Any]:
    return {
        "event": event.event,
        "label": str(event.label),
        "status": event.to_status,
        "status_label": str(Status(event.to_status).label),
        "at": event.at,
        "actor": event.actor_label,
        "reason": event.reason,
        "cause": event.data.get("cause"),
        "cause_label": event.cause_label or None,
        "consequence": event.data.get("consequence"),
        "channel": event.data.get("channel"),
    }


def detail(request: ServiceRequest, ledger: list[QuotaLedgerEntry]) -> dict[str, Any]:
    """The request as the staff API shows it, as JSON (stored for idempotent replay).
    ``request`` comes from ``selectors.staff_request`` (related rows loaded)."""
    milestones: list[Milestone] = list(request.milestones.all())
    body = {
        "ref": request.ref,
        "status": request.status,
        "status_label": str(Status(request.status).label),
        "quota_outcome": request.quota_outcome,
        "quota": {
            "outcome": request.quota_outcome,
            "label": str(QuotaOutcome(request.quota_outcome).label),
            "entries": [_ledger_entry(entry) for entry in ledger],
        },
        "benefit": {"code": request.benefit.code, "name": request.benefit.name},
        "policy": request.policy.number,
        "member": _person(request.member),
        "recipient": _person(request.recipient),
        "vendor": {"code": request.vendor.code, "name": request.vendor.name}
        if request.vendor
        else None,
        "planned_at": request.planned_at,
        "scheduled_at": request.scheduled_at,
        "place": request.place,
        "hospital": request.hospital,
        "region": request.region.name if request.region else None,
        "channel": request.context.get("channel"),
        "outcome_reason": request.outcome_reason,
        "milestones": [milestone_out(m) for m in milestones],
        "timeline": [_timeline_event(e) for e in request.events.all()],
        "next_events": staff_next_events(request),
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }
    return StaffRequestOut.model_validate(body).model_dump(mode="json")
