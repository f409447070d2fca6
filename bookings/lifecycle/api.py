"""The staff request API for the hotline, mounted at /api/staff/v1/ (docs at /api/docs, tag
"requests"): an agent submits a request for a caller, moves it through the lifecycle and
reads it back. Same tenancy and permissions as admin: another insurer's policy or request
is 404; every POST needs ``bookings.change_servicerequest``, assigning also
``bookings.assign_servicerequest`` and rejecting ``bookings.reject_servicerequest`` (主管).
Every POST carries an ``Idempotency-Key``, kept per staff user (``bookings.idempotency``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Router

from benefits.eligibility.api import use_inputs
from benefits.models import Benefit, Policy, PolicyMember, Vendor
from bookings.idempotency import KeyOwner, StoredResponse, idempotent_call, request_fingerprint
from bookings.lifecycle.schemas import (
    StaffEventIn,
    StaffRequestIn,
    StaffRequestOut,
    StaffReviewIn,
    detail,
)
from bookings.lifecycle.selectors import request_ledger, staff_request
from bookings.lifecycle.staff import EVENT_PERMISSIONS, Consumed, review_record, staff_event
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.vendors.api import IdempotencyKey
from bookings.vendors.schemas import ErrorOut
from portal.kernel.actor import staff_actor
from portal.kernel.errors import DomainError, NotFound
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import request_user, require, scope

router = Router(tags=["requests"])

CHANGE = "bookings.change_servicerequest"
VIEW = "bookings.view_servicerequest"
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}
# 400: a body that is not JSON at all.
WRITE_ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


def _answer(stored: StoredResponse) -> HttpResponse:
    response = JsonResponse(
        stored.body, status=stored.status, json_dumps_params={"ensure_ascii": False}
    )
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _shown(user: Any, ref: str) -> dict[str, Any]:
    service_request = staff_request(user, ref)
    return detail(service_request, request_ledger(service_request))


# --- submit -------------------------------------------------------------------------------


def _member(policy: Policy, ref: str, field: str) -> PolicyMember:
    member = policy.members.select_related("person").filter(ref=ref).first()
    if member is None:
        raise NotFound(f"{field}：本保单没有此被保险人")
    return member


def _benefit(policy: Policy, code: str) -> Benefit:
    benefit = Benefit.objects.filter(code=code, product_id=policy.product_id).first()
    if benefit is not None:
        return benefit
    if Benefit.objects.filter(code=code).exists():
        raise DomainError("benefit_not_in_product", "该权益不属于本保单的产品", status=422)
    raise NotFound("benefit：权益不存在")


def _request_input(user: Any, payload: StaffRequestIn) -> RequestInput:
    """The lifecycle's input from the hotline's body; the context reads as the eligibility
    API's does."""
    policy = scope(Policy.objects.select_related("product"), user).filter(number=payload.policy)
    found = policy.first()
    if found is None:
        raise NotFound("保单不存在")
    context = payload.context
    recipient_ref = payload.recipient or context.recipient
    return RequestInput(
        policy=found,
        member=_member(found, payload.member, "member"),
        benefit=_benefit(found, payload.benefit),
        at=timezone.now(),
        recipient=_member(found, recipient_ref, "recipient") if recipient_ref else None,
        option=payload.option,
        note=payload.note,
        **use_inputs(context),
        channel=payload.channel,
        records_consent_given=payload.records_consent_read_out,
        records_consent_read_out=payload.records_consent_read_out is not None,
    )


@router.post(
    "/requests",
    auth=staff_auth(CHANGE),
    response={201: StaffRequestOut, **WRITE_ERRORS},
    summary="热线代客提交服务申请",
    description=(
        "坐席为来电客户提交服务申请：policy 保单号，member 被保险人编号，recipient 服务对象"
        "（可选），benefit 权益代码，context 与资格判断接口相同，channel 固定为 hotline。"
        "成功返回 201 与申请编号、状态、额度（提交即占用）和时效节点；不符合条件返回 422 "
        "not_eligible，reasons 列出全部原因（中文，注明手册条款）。其他保险公司的保单返回 404。"
        "必须带 Idempotency-Key：同一个键重试返回第一次的结果（响应头 Idempotent-Replayed: "
        "true），同一个键用于不同内容返回 422 idempotency_key_reused。"
    ),
)
def submit_request(
    request: HttpRequest, payload: StaffRequestIn, idempotency_key: str = IdempotencyKey
) -> HttpResponse:
    user = request_user(request)

    def apply() -> tuple[int, dict[str, Any]]:
        created, _new = request_submit(_request_input(user, payload), actor=staff_actor(user))
        return 201, _shown(user, created.ref)

    fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    return _answer(
        idempotent_call(
            owner=KeyOwner(staff_user=user),
            key=idempotency_key,
            fingerprint=fingerprint,
            apply=apply,
        )
    )


# --- events -------------------------------------------------------------------------------


def _vendor(user: Any, code: str | None) -> Vendor | None:
    if code is None:
        return None
    vendor = scope(Vendor.objects.all(), user).filter(code=code).first()
    if vendor is None:
        raise DomainError("invalid_input", f"服务商“{code}”不存在", status=422, field="vendor")
    return vendor


@router.post(
    "/requests/{ref}/events",
    auth=staff_auth(CHANGE),
    response={200: StaffRequestOut, **WRITE_ERRORS},
    summary="处理服务申请（审核、派单、预约、完成、取消 …）",
    description=(
        "提交一个处理事件，返回申请的新状态：approve、reject（主管，需 reason）、assign（主管，"
        "需 vendor，只能派给提供该权益的服务商，否则 422 vendor_not_serving）、schedule / "
        "reschedule（需 at）、start、complete（可填 consumption，额度按实际消耗扣减，其余返还）、"
        "cancel（需 reason 与 cause：member 客户本人、discharge_changed 出院日期变更、"
        "vendor_failure 服务商原因、force_majeure 不可抗力、insurer 保险公司原因；按权益对该原因的"
        "规定返还或视为已使用）、no_show、fail（需 reason，cause 可填 vendor_failure（默认）或 "
        "force_majeure）。未知的 cause 返回 422 invalid_cause，该事件不能使用的 cause 返回 422 "
        "cause_not_allowed；超出改约次数且服务规则不允许再改约时返回 409 change_not_allowed。"
        "当前状态不允许该事件时返回 409 transition_not_allowed；缺少权限返回 403 "
        "permission_denied。必须带 Idempotency-Key。"
    ),
)
def post_event(
    request: HttpRequest, ref: str, payload: StaffEventIn, idempotency_key: str = IdempotencyKey
) -> HttpResponse:
    user = request_user(request)
    extra = EVENT_PERMISSIONS.get(payload.event)
    if extra is not None:
        require(request, extra)

    def apply() -> tuple[int, dict[str, Any]]:
        service_request = staff_request(user, ref)
        staff_event(
            service_request,
            actor=staff_actor(user),
            event=payload.event,
            channel=payload.channel,
            vendor=_vendor(user, payload.vendor),
            at=payload.at,
            place=payload.place,
            reason=payload.reason,
            cause=payload.cause or "",
            consumption=[Consumed(c.measure, c.amount, c.note) for c in payload.consumption],
        )
        return 200, _shown(user, ref)

    fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    return _answer(
        idempotent_call(
            owner=KeyOwner(staff_user=user),
            key=idempotency_key,
            fingerprint=fingerprint,
            apply=apply,
        )
    )


@router.post(
    "/requests/{ref}/reviews",
    auth=staff_auth(CHANGE),
    response={200: StaffRequestOut, **WRITE_ERRORS},
    summary="记录审核节点结论（医院/医生/保险公司评估）",
    description=(
        "记录权益条款 reviews 中一个审核节点的结论（如博鳌乐城医院评估、主治医师再次评估），"
        "连同依据 reason 与操作人写入处理记录（事件 reviewed）。未通过时申请随之结束（审核中为"
        "未通过，已通过后为保险公司原因取消），额度返还。审核节点未全部通过前，被其阻挡的步骤"
        "返回 409 review_pending。不认识的节点返回 422 invalid_input；申请已越过该节点或已结束"
        "返回 409 review_closed。必须带 Idempotency-Key。"
    ),
)
def post_review(
    request: HttpRequest, ref: str, payload: StaffReviewIn, idempotency_key: str = IdempotencyKey
) -> HttpResponse:
    user = request_user(request)

    def apply() -> tuple[int, dict[str, Any]]:
        review_record(
            staff_request(user, ref),
            actor=staff_actor(user),
            gate=payload.gate,
            passed=payload.passed,
            reason=payload.reason,
            channel=payload.channel,
        )
        return 200, _shown(user, ref)

    fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    return _answer(
        idempotent_call(
            owner=KeyOwner(staff_user=user),
            key=idempotency_key,
            fingerprint=fingerprint,
            apply=apply,
        )
    )


# --- read ---------------------------------------------------------------------------------


@router.get(
    "/requests/{ref}",
    auth=staff_auth(VIEW),
    response={200: StaffRequestOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="服务申请详情（状态、额度、处理记录、时效节点）",
    description=(
        "状态、额度占用与流水（quota）、处理记录（timeline：事件、中文名称、操作方、说明、渠道）"
        "和时效节点（milestones：截止时间、状态）。不提供证件号码，手机号打码。"
        "其他保险公司的申请返回 404。"
    ),
)
def get_request(request: HttpRequest, ref: str) -> dict[str, Any]:
    return _shown(request_user(request), ref)
