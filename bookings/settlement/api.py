"""Staff API reads of settlement, mounted at /api/staff/v1/ (tag "settlement"): a vendor's
monthly statements and a product's cost ratio against the 20 % cap. Same tenancy as admin:
a vendor that serves none of the caller's insurers, or another insurer's product, is 404;
a statement shows only the caller's insurers. Reading a month whose statement is still a
draft prices it again (idempotent); a confirmed one is shown as it was confirmed; a month
that has not begun is 422 ``invalid_month`` and creates nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from benefits.models import Insurer, Product, Vendor
from bookings.settlement.cost_cap import cost_ratio
from bookings.settlement.selectors import billed_insurers, statement_data
from bookings.settlement.statements import parse_month, require_started, statement_price
from bookings.vendors.schemas import ErrorOut
from portal.kernel.errors import DomainError, ErrorCode, NotFound
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import request_user, scope

router = Router(tags=["settlement"])

VIEW_STATEMENTS = "bookings.view_vendorstatement"
VIEW_COST = "bookings.view_productpremium"
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class LineOut(Schema):
    ref: str = Field(description="申请编号")
    benefit: str = Field(description="权益代码")
    completed_on: str = Field(description="完成日期（北京时间）")
    outcome: str = Field(description="completed 服务完成；counted_used 视为已使用")
    basis: str = Field(description="计价单位 times/days/cny/km；空：当日无适用价格")
    quantity: str
    amount: str | None = Field(description="金额（元），未定价为 null")
    disputed: bool


class StatementOut(Schema):
    insurer: str
    vendor: str
    vendor_name: str
    month: str
    state: str = Field(description="draft 草稿；confirmed 已确认；disputed 有争议；settled 已结算")
    state_label: str
    line_count: int
    unpriced_count: int
    total: str = Field(description="已定价明细金额之和（元）")
    reconciliation: dict[str, Any] | None
    lines: list[LineOut]


class CostRatioOut(Schema):
    product: str
    product_name: str
    year: int
    services: int
    unpriced: int
    cost: str
    policies: int
    cost_per_policy: str | None
    net_premium: str | None = Field(description="净保险费（元）；null：尚未录入")
    ratio: str | None = Field(description="成本 ÷ 净保费，如 0.1234")
    cap: str
    over_cap: bool
    elapsed_days: int
    year_days: int
    projection_method: str = Field(description="linear_by_elapsed_days：按已过天数线性外推")
    projected_cost: str
    projected_ratio: str | None
    projected_over_cap: bool


@router.get(
    "/vendor-statements/{vendor}/{month}",
    auth=staff_auth(VIEW_STATEMENTS),
    response={200: list[StatementOut], **ERRORS},
    summary="服务商月度结算单（每家保险公司一张）",
    description="草稿按当前合同价格重新计价；尚未开始的月份答 422 invalid_month，不生成结算单。",
)
def get_vendor_statements(request: HttpRequest, vendor: str, month: str) -> list[dict[str, Any]]:
    user = request_user(request)
    first = parse_month(month)
    require_started(first)
    found = scope(Vendor.objects.filter(code=vendor), user).first()
    if found is None:
        raise NotFound("服务商不存在")
    insurers = billed_insurers(found, scope(Insurer.objects.all(), user))
    return [
        statement_data(statement_price(insurer=insurer, vendor=found, month=first))
        for insurer in insurers
    ]


@router.get(
    "/cost-ratio/{product}/{year}",
    auth=staff_auth(VIEW_COST),
    response={200: CostRatioOut, **ERRORS},
    summary="产品健康管理服务成本占净保费比例（上限20%）",
)
def get_cost_ratio(request: HttpRequest, product: str, year: int) -> dict[str, Any]:
    found = scope(Product.objects.filter(code=product), request_user(request)).first()
    if found is None:
        raise NotFound("产品不存在")
    if not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "年度应为四位数年份", status=422)
    return cost_ratio(found, year, today=timezone.localdate()).as_json()
