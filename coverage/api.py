from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from coverage.models import CoverageList, Region
from coverage.selectors import (
    find_region,
    list_covers_region,
    lists_with_sizes,
    place_resolve,
    region_index_cached,
)
from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.errors import DomainError
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import get_scoped_or_404, scope

router = Router()


class ListOut(Schema):
    code: str
    title: str
    kind: str
    insurer: str
    source: str
    scope: str
    printed: bool
    member_count: int
    entry_count: int
    hospital_total: int | None
    imported_at: datetime | None


class ResolveIn(Schema):
    name: str
    province: str | None = None


class RegionOut(Schema):
    code: str
    name: str


class CandidateOut(RegionOut):
    full_name: str  # with its province and city: typed back, it resolves to this region


class ResolveOut(Schema):
    status: str
    input_name: str
    region_code: str | None
    canonical_name: str | None
    message: str
    candidates: list[CandidateOut]  # the places an ambiguous name could mean


class CoversOut(Schema):
    list: str
    covered: bool
    reason: str
    region: RegionOut
    matched_line: int | None


@router.get(
    "/coverage/lists",
    response={200: list[ListOut], **error_responses(*STAFF_AUTH_ERRORS)},
    summary="覆盖名单及其规模",
    auth=staff_auth("coverage.view_coveragelist"),
)
def coverage_lists(request: HttpRequest) -> list[dict]:
    return [
        {
            "code": cl.code,
            "title": cl.title,
            "kind": cl.kind,
            "insurer": cl.insurer.code,
            "source": cl.source,
            "scope": cl.scope,
            "printed": cl.printed,
            "member_count": cl.member_count,
            "entry_count": cl.entry_count,
            "hospital_total": cl.hospital_total,
            "imported_at": cl.imported_at,
        }
        for cl in scope(lists_with_sizes(), request.user)
    ]


@router.get(
    "/coverage/resolve",
    response={200: ResolveOut, **error_responses(400, *STAFF_AUTH_ERRORS, 404, 422)},
    summary="地名识别（与导入报告相同的规则）",
    auth=staff_auth("coverage.view_region"),
)
def resolve(request: HttpRequest, query: Query[ResolveIn]) -> dict:
    if not query.name.strip():
        raise DomainError("invalid_input", "请提供地名 name")
    result = place_resolve(query.name, query.province)
    index = region_index_cached()
    return {
        "status": result.status,
        "input_name": result.input_name,
        "region_code": result.region_code,
        "canonical_name": result.canonical_name,
        "message": result.message,
        "candidates": [
            {"code": r.code, "name": r.name, "full_name": index.full_name(r)}
            for r in result.candidates
        ],
    }


def _region(text: str) -> Region:
    result = place_resolve(text)
    region = find_region(result.region_code) if result.region_code else None
    if region is None:
        # The resolver says why: unknown, or several divisions share the name.
        raise DomainError("region_not_found", result.message, status=404)
    return region


@router.get(
    "/coverage/lists/{code}/covers",
    response={200: CoversOut, **error_responses(400, *STAFF_AUTH_ERRORS, 404, 422)},
    summary="某地区是否在名单覆盖范围内",
    auth=staff_auth("coverage.view_coveragelist"),
)
def covers(request: HttpRequest, code: str, region: str) -> dict:
    coverage_list = get_scoped_or_404(CoverageList.objects.all(), request.user, code=code)
    if coverage_list.kind != CoverageList.Kind.CITY:
        raise DomainError("not_a_city_list", f"“{coverage_list.title}”不是城市名单")
    found = _region(region)
    answer = list_covers_region(coverage_list, found)
    return {
        "list": coverage_list.code,
        "covered": answer.covered,
        "reason": answer.reason,
        "region": {"code": found.code, "name": found.name},
        "matched_line": answer.matched_line,
    }
