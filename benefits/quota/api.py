"""Staff API: what is left of each benefit of a policy, and the ledger behind it."""

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from benefits.models import Policy
from benefits.quota.selectors import policy_entitlements
from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import scope

router = Router()


class EntryOut(Schema):
    kind: str
    amount: Decimal
    actor: str
    reason: str
    request: str
    at: datetime


class PoolOut(Schema):
    pool: str
    period: str
    period_start: date
    period_end: date | None
    granted: Decimal
    held: Decimal
    used: Decimal
    remaining: Decimal
    ledger: list[EntryOut]


class BenefitEntitlementOut(Schema):
    benefit: str
    name: str
    unlimited: bool
    pools: list[PoolOut]


class MemberEntitlementsOut(Schema):
    ref: str
    name: str
    benefits: list[BenefitEntitlementOut]


class EntitlementsOut(Schema):
    policy: str
    on: date
    members: list[MemberEntitlementsOut]


@router.get(
    "/policies/{number}/entitlements",
    response={200: EntitlementsOut, **error_responses(*STAFF_AUTH_ERRORS, 404, 422)},
    summary="保单各被保险人各项权益的额度、使用与流水",
    auth=staff_auth("benefits.view_policy", "benefits.view_quotabalance"),
)
def entitlements(request: HttpRequest, number: str, on: date | None = None) -> dict:
    return policy_entitlements(
        number=number, on=on, policies=scope(Policy.objects.all(), request.user)
    )
