"""The staff complaint API for the hotline, mounted at /api/staff/v1/ (tag "complaints"):
an agent records a complaint a caller made by phone and reads one back. Same tenancy and
permissions as admin: another insurer's policy, request or complaint is 404; recording
needs ``bookings.add_complaint``, reading ``bookings.view_complaint``. Every POST carries an
``Idempotency-Key`` (a retried call records one complaint)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from benefits.models import Policy, Vendor
from bookings.complaints.selectors import staff_complaint
from bookings.complaints.services import DESCRIPTION_MAX_CHARS, complaint_file
from bookings.idempotency import KeyOwner, idempotent_call, request_fingerprint
from bookings.models import Complaint, ServiceRequest
from bookings.vendors.api import IdempotencyKey
from portal.kernel.actor import staff_actor
from portal.kernel.api_errors import ErrorOut
from portal.kernel.clock import SHANGHAI
from portal.kernel.errors import DomainError, ErrorCode, NotFound
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import request_user, scope

router = Router(tags=["complaints"])

ADD = "bookings.add_complaint"
VIEW = "bookings.view_complaint"
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}

Category = Literal["service_quality", "delay", "conduct", "quota_or_fees", "privacy", "other"]


class ComplaintIn(Schema):
    policy: str = Field(min_length=1, max_length=40, description="保单号")
    member: str | None = Field(
        default=None, max_length=20, description="投诉人为被保险人时填其编号；留空为投保人"
    )
    request: str | None = Field(default=None, max_length=20, description="相关服务申请编号")
    vendor: str | None = Field(default=None, max_length=60, description="被投诉的服务商代码")
    category: Category = Field(
        description="service_quality 服务质量；delay 服务不及时；conduct 服务态度；"
        "quota_or_fees 额度与费用；privacy 个人信息保护；other 其他"
    )
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX_CHARS)


class ReplyOut(Schema):
    at: str
    body: str


class ComplaintOut(Schema):
    ref: str = Field(description="投诉编号")
    status: str = Field(description="open 处理中；closed 已办结")
    status_label: str
    category: str
    channel: str = Field(description="portal 网上服务平台；hotline 客服热线")
    policy: str
    request: str | None
    benefit: str | None
    vendor: str | None
    received_at: str = Field(description="受理时间（北京时间）")
    time_limit_days: int = Field(description="处理时限（自然日）：15、30 或 60")
    due_on: str = Field(description="处理期限（含当日，北京时间）；受理次日为第1日")
    assignee: str | None
    outcome: str | None = Field(description="upheld 成立；partly 部分成立；not_upheld 不成立")
    outcome_text: str
    replies: list[ReplyOut]


def complaint_data(complaint: Complaint) -> dict[str, Any]:
    local = timezone.localtime(complaint.received_at, SHANGHAI)
    return {
        "ref": complaint.ref,
        "status": complaint.status,
        "status_label": str(complaint.get_status_display()),
        "category": complaint.category,
        "channel": complaint.channel,
        "policy": complaint.policy.number,
        "request": complaint.request.ref if complaint.request else None,
        "benefit": complaint.benefit.code if complaint.benefit else None,
        "vendor": complaint.vendor.code if complaint.vendor else None,
        "received_at": local.isoformat(),
        "time_limit_days": complaint.time_limit_days,
        "due_on": complaint.due_on.isoformat(),
        "assignee": complaint.assignee.get_username() if complaint.assignee else None,
        "outcome": complaint.outcome or None,
        "outcome_text": complaint.outcome_text,
        "replies": [
            {"at": timezone.localtime(r.created_at, SHANGHAI).isoformat(), "body": r.body}
            for r in complaint.replies.all()
        ],
    }


def _filed(user: Any, payload: ComplaintIn) -> Complaint:
    policy = (
        scope(Policy.objects.select_related("holder", "product"), user)
        .filter(number=payload.policy)
        .first()
    )
    if policy is None:
        raise NotFound("保单不存在")
    person = policy.holder
    if payload.member:
        member = policy.members.select_related("person").filter(ref=payload.member).first()
        if member is None:
            raise NotFound("member：本保单没有此被保险人")
        person = member.person
    request = None
    if payload.request:
        request = (
            ServiceRequest.objects.select_related("vendor")
            .filter(ref=payload.request, policy=policy)
            .first()
        )
        if request is None:
            raise NotFound("request：本保单没有此服务申请")
    vendor = None
    if payload.vendor:
        vendor = scope(Vendor.objects.all(), user).filter(code=payload.vendor).first()
        if vendor is None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"服务商“{payload.vendor}”不存在",
                status=422,
                field="vendor",
            )
    return complaint_file(
        policy=policy,
        person=person,
        request=request,
        vendor=vendor,
        category=payload.category,
        description=payload.description,
        channel=Complaint.Channel.HOTLINE,
        actor=staff_actor(user),
    )


@router.post(
    "/complaints",
    auth=staff_auth(ADD),
    response={201: ComplaintOut, **WRITE_ERRORS},
    summary="热线登记客户投诉",
    description=(
        "坐席登记来电客户的投诉：policy 保单号，member 投诉人（被保险人编号，留空为投保人），"
        "request 相关服务申请编号（可选），vendor 被投诉的服务商代码（可选），category 类别，"
        "description 投诉内容。成功返回 201 与投诉编号和处理期限：按自然日计算，受理次日为第1日，"
        "15日内办结（《银行业保险业消费投诉处理管理办法》）。其他保险公司的保单或申请返回 404；"
        "投诉内容为空返回 422 invalid_input。必须带 Idempotency-Key：同一个键重试返回第一次的结果。"
    ),
)
def file_complaint(
    request: HttpRequest, payload: ComplaintIn, idempotency_key: str = IdempotencyKey
) -> HttpResponse:
    user = request_user(request)

    def apply() -> tuple[int, dict[str, Any]]:
        created = _filed(user, payload)
        return 201, complaint_data(staff_complaint(user, created.ref))

    stored = idempotent_call(
        owner=KeyOwner(staff_user=user),
        key=idempotency_key,
        fingerprint=request_fingerprint("POST", request.path, payload.model_dump(mode="json")),
        apply=apply,
    )
    response = JsonResponse(
        stored.body, status=stored.status, json_dumps_params={"ensure_ascii": False}
    )
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/complaints/{ref}",
    auth=staff_auth(VIEW),
    response={200: ComplaintOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="客户投诉详情（处理期限、处理人、回复、处理结果）",
    description="其他保险公司的投诉返回 404。",
)
def get_complaint(request: HttpRequest, ref: str) -> dict[str, Any]:
    return complaint_data(staff_complaint(request_user(request), ref))
