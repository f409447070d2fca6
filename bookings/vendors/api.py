"""The vendor API, mounted at /api/vendor/v1/ (its own docs at /api/vendor/v1/docs).

A vendor authenticates with ``Authorization: Bearer <token>`` (issued in admin, one per
integration), sees only the requests assigned to it, reports progress with events, uploads
deliverables and records what it consumed. Every POST carries an ``Idempotency-Key``: a
retry with the same key and body gets the first answer and changes nothing. Each token may
make ``VENDOR_RATE`` calls; beyond that the answer is 429 ``rate_limited`` with
``Retry-After``. Errors are ``{code, message}`` with a Chinese message."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router, UploadedFile
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from benefits.models import Vendor
from bookings.documents.services import document_open
from bookings.idempotency import (
    KeyOwner,
    StoredResponse,
    idempotent_call,
    request_fingerprint,
    upload_sha256,
)
from bookings.models import VendorToken
from bookings.vendors import schemas
from bookings.vendors.schemas import (
    ConsumptionIn,
    ConsumptionOut,
    DocumentOut,
    ErrorOut,
    EventIn,
    RequestDetailOut,
    RequestFilters,
    RequestPageOut,
    RequestStateOut,
)
from bookings.vendors.selectors import (
    vendor_document,
    vendor_request,
    vendor_request_detail,
    vendor_request_page,
)
from bookings.vendors.services import (
    consumption_record,
    deliverable_add,
    vendor_actor,
    vendor_event,
    vendor_token_authenticate,
)
from portal.kernel.errors import DomainError

# Per token. A vendor syncing a few hundred requests a day needs far less; a loop gone
# wrong is stopped within a minute. The counts live in Django's cache: with several web
# processes the cache must be shared (Redis) for the limit to hold across them.
VENDOR_RATE = "120/min"

IdempotencyKey = Header(
    ...,
    alias="Idempotency-Key",
    min_length=1,
    max_length=100,
    description="每个写操作唯一的键（如 UUID）。重试时使用同一个键，不会重复执行",
)
# Every endpoint may answer these; listed so the docs show the shape of each.
AUTH_ERRORS = {401: ErrorOut, 429: ErrorOut}
# 400: a body that is not JSON (or not multipart) at all.
WRITE_ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


class VendorTokenAuth(HttpBearer):
    """``Authorization: Bearer hbv_…``, a token issued to the vendor in admin."""

    def __call__(self, request: HttpRequest) -> Any:
        scheme, _sep, raw = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not raw.strip():
            raise _unauthenticated()
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> VendorToken:
        vendor_token = vendor_token_authenticate(token)
        if vendor_token is None:
            raise _unauthenticated()
        return vendor_token


def _unauthenticated() -> DomainError:
    return DomainError(
        "not_authenticated",
        _(
            "请在 Authorization 请求头中提供有效的服务商令牌（Bearer）；"
            "令牌已吊销时请联系保险公司重新签发"
        ),
        status=401,
    )


class VendorRateThrottle(AuthRateThrottle):
    """Counts per token (not per vendor): one misbehaving integration does not stop the
    vendor's others."""

    scope = "vendor"

    def get_cache_key(self, request: HttpRequest) -> str:
        token: VendorToken = request.auth  # type: ignore[attr-defined]
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


vendor_throttle = VendorRateThrottle(VENDOR_RATE)
router = Router(auth=VendorTokenAuth(), throttle=vendor_throttle, tags=["vendor"])


def _vendor(request: HttpRequest) -> Vendor:
    return request.auth.vendor  # type: ignore[attr-defined]


def _answer(stored: StoredResponse) -> HttpResponse:
    response = JsonResponse(
        stored.body, status=stored.status, json_dumps_params={"ensure_ascii": False}
    )
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/requests",
    response={200: RequestPageOut, 422: ErrorOut, **AUTH_ERRORS},
    summary="服务申请列表（派给本服务商的）",
    description=(
        "返回派给本服务商的服务申请，按更新时间（updated_at）和 id 升序。"
        "用 state 按状态筛选（新派单为 assigned），用 updated_since 只取某时间之后有变化的申请；"
        "每页 limit 条，下一页把返回的 next_cursor 作为 cursor 传入，next_cursor 为 null 时结束。"
        "时间均为北京时间（+08:00）。"
    ),
)
def list_requests(request: HttpRequest, filters: Query[RequestFilters]) -> dict:
    rows, next_cursor = vendor_request_page(
        _vendor(request),
        state=filters.state,
        updated_since=filters.updated_since,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [schemas.summary(row) for row in rows], "next_cursor": next_cursor}


@router.get(
    "/requests/{ref}",
    response={200: RequestDetailOut, 404: ErrorOut, **AUTH_ERRORS},
    summary="服务申请详情",
    description=(
        "服务所需的信息：服务对象姓名（recipient.name）、出生年份（birth_year）、"
        "手机号（phone：派单后至服务结束前完整显示，便于联系客户，其他状态打码）、医院、"
        "服务城市、期望/预约时间、资料列表（documents，用 id 下载）、时效节点（milestones）、"
        "处理记录（timeline），以及当前可报告的事件（next_events）。不提供证件号码。"
        "不是派给本服务商的申请一律返回 404 not_found。"
    ),
)
def get_request(request: HttpRequest, ref: str) -> dict:
    return schemas.detail(vendor_request_detail(_vendor(request), ref))


@router.get(
    "/requests/{ref}/documents/{document_id}",
    response={200: None, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
    summary="下载资料",
    description=(
        "下载申请的一份资料（客户上传的病历或服务商上传的报告），以附件形式返回原文件。"
        "每次下载都会记录访问日志（个人信息保护）。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "文件内容",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_document(request: HttpRequest, ref: str, document_id: int) -> FileResponse:
    vendor = _vendor(request)
    document = vendor_document(vendor, ref, document_id)
    handle = document_open(
        document,
        actor=vendor_actor(vendor),
        purpose="download",
        ip=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.display_name,
        content_type=document.content_type,
    )
    # Never rendered by the browser as something else, never kept in a shared cache.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/requests/{ref}/events",
    response={200: RequestStateOut, **WRITE_ERRORS},
    summary="报告服务进度",
    description=(
        "报告一个服务事件，返回申请的新状态。顺序通常为：contacted（已联系客户）→ "
        "plan_confirmed（方案已确认，可选）→ scheduled（已预约，必填 at，可填 place；可再次"
        "报告以改约）→ in_service（服务开始）→ completed（服务完成：如有 /consumption "
        "记录，额度按实际消耗扣减，其余返还）。无法提供服务时报告 failed 并填写 reason，"
        "cause 填 vendor_failure（服务商原因，默认）或 force_majeure（不可抗力：医院停诊、"
        "自然灾害等），权益按该原因的服务规则返还或视为已使用；其他 cause 返回 422 "
        "invalid_cause / cause_not_allowed。"
        "当前状态不允许该事件时返回 409 transition_not_allowed。"
        "必须带 Idempotency-Key：同一个键重试返回第一次的结果（响应头 "
        "Idempotent-Replayed: true），不会重复执行；同一个键用于不同内容返回 422 "
        "idempotency_key_reused。"
    ),
)
def post_event(
    request: HttpRequest,
    ref: str,
    payload: EventIn,
    idempotency_key: str = IdempotencyKey,
) -> HttpResponse:
    vendor = _vendor(request)

    def apply() -> tuple[int, dict[str, Any]]:
        service_request = vendor_request(vendor, ref)
        updated = vendor_event(
            service_request,
            vendor=vendor,
            event=payload.event,
            at=payload.at,
            place=payload.place,
            reason=payload.reason,
            cause=payload.cause or "",
        )
        return 200, schemas.state(updated)

    fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    return _answer(
        idempotent_call(
            owner=KeyOwner(vendor=vendor), key=idempotency_key, fingerprint=fingerprint, apply=apply
        )
    )


@router.post(
    "/requests/{ref}/deliverables",
    response={201: DocumentOut, 413: ErrorOut, 415: ErrorOut, **WRITE_ERRORS},
    summary="上传服务成果资料",
    description=(
        "以 multipart/form-data 上传服务成果（如二诊报告、康护指导书）：file 为文件"
        "（PDF、JPEG、PNG 或 HEIC，按内容识别），requirement 为资料类型名称。"
        "在已派单、已预约、服务中和已完成状态下可上传。必须带 Idempotency-Key。"
    ),
)
def post_deliverable(
    request: HttpRequest,
    ref: str,
    file: File[UploadedFile],
    requirement: Form[str] = "",
    idempotency_key: str = IdempotencyKey,
) -> HttpResponse:
    vendor = _vendor(request)
    name = file.name or ""

    def apply() -> tuple[int, dict[str, Any]]:
        service_request = vendor_request(vendor, ref)
        added = deliverable_add(
            service_request, vendor=vendor, name=name, data=file, requirement=requirement
        )
        return 201, DocumentOut.model_validate(schemas.document(added)).model_dump(mode="json")

    fingerprint = request_fingerprint(
        "POST",
        request.path,
        {"name": name, "requirement": requirement, "sha256": upload_sha256(file)},
    )
    return _answer(
        idempotent_call(
            owner=KeyOwner(vendor=vendor), key=idempotency_key, fingerprint=fingerprint, apply=apply
        )
    )


@router.post(
    "/requests/{ref}/consumption",
    response={201: ConsumptionOut, **WRITE_ERRORS},
    summary="记录实际消耗",
    description=(
        "记录实际提供的服务量：measure 为 days（天，如护工天数）、cny（元，实际支付金额）"
        "或 times（次），amount 为数量。报告 completed 时，额度按同一计量的消耗合计扣减，"
        "未用完的部分返还客户。在已派单、已预约、服务中状态下可记录。必须带 Idempotency-Key。"
    ),
)
def post_consumption(
    request: HttpRequest,
    ref: str,
    payload: ConsumptionIn,
    idempotency_key: str = IdempotencyKey,
) -> HttpResponse:
    vendor = _vendor(request)

    def apply() -> tuple[int, dict[str, Any]]:
        service_request = vendor_request(vendor, ref)
        row = consumption_record(
            service_request, measure=payload.measure, amount=payload.amount, note=payload.note
        )
        body = {
            "id": row.pk,
            "measure": row.measure,
            "amount": row.amount,
            "note": row.note,
            "recorded_at": row.recorded_at,
        }
        return 201, ConsumptionOut.model_validate(body).model_dump(mode="json")

    fingerprint = request_fingerprint("POST", request.path, payload.model_dump(mode="json"))
    return _answer(
        idempotent_call(
            owner=KeyOwner(vendor=vendor), key=idempotency_key, fingerprint=fingerprint, apply=apply
        )
    )
