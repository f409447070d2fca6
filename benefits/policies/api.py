"""Staff API: create or update a policy by number."""

from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from benefits.models import Policy, Product
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from portal.kernel.actor import staff_actor
from portal.kernel.api_errors import STAFF_AUTH_ERRORS, error_responses
from portal.kernel.errors import DomainError, NotFound
from portal.kernel.staff_auth import staff_auth
from portal.kernel.tenancy import insurer_ids, request_user, scope

router = Router()


class PersonIn(Schema):
    name: str
    id_number: str
    id_type: str = "resident_id"
    birth_date: date | None = None
    phone: str = ""


class MemberIn(PersonIn):
    ref: str
    relation: str
    home_city: str | None = None
    hukou_city: str | None = None
    mainland_citizen: bool = True


class PolicyIn(Schema):
    number: str
    product: str
    status: str = "in_force"
    signed_on: date
    effective_on: date
    expires_on: date
    transferred: bool = False
    family: bool = False
    group: bool = False
    waiting_days: int | None = None
    # Sum insured now, the standard the plan sets for its services, plan level, riders
    # (codes): what rules such as "降低保额无法达到相应标准" and "如投保附加险" read. Omitted:
    # kept as stored.
    sum_insured: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    standard_sum_insured: Decimal | None = Field(
        default=None, ge=0, max_digits=14, decimal_places=2
    )
    plan_level: str | None = Field(default=None, max_length=40)
    riders: list[str] | None = None
    holder: PersonIn
    members: list[MemberIn]


class MemberOut(Schema):
    ref: str
    name: str
    relation: str
    id_masked: str


class PolicyOut(Schema):
    number: str
    created: bool
    product: str
    status: str
    sum_insured: Decimal | None
    standard_sum_insured: Decimal | None
    plan_level: str
    riders: list[str]
    members: list[MemberOut]


def _person(data: PersonIn, **extra: object) -> PersonInput:
    return PersonInput(
        name=data.name,
        id_number=data.id_number,
        id_type=data.id_type,
        birth_date=data.birth_date,
        phone=data.phone,
        **extra,  # type: ignore[arg-type]
    )


@router.post(
    "/policies",
    response={200: PolicyOut, 201: PolicyOut, **error_responses(400, *STAFF_AUTH_ERRORS, 404, 422)},
    summary="按保单号新建或更新保单",
    auth=staff_auth("benefits.add_policy", "benefits.change_policy", "benefits.change_person"),
)
def policies_upsert(request: HttpRequest, payload: PolicyIn) -> Status:
    # Another insurer's product or policy number is answered like one that does not exist.
    if not scope(Product.objects.filter(code=payload.product), request.user).exists():
        raise DomainError("unknown_product", f"产品代码“{payload.product}”不存在", field="product")
    if (
        Policy.objects.filter(number=payload.number).exists()
        and not scope(Policy.objects.filter(number=payload.number), request.user).exists()
    ):
        raise NotFound("保单不存在")
    user = request_user(request)  # staff_auth has authenticated the caller
    policy, created = policy_upsert(
        PolicyInput(
            number=payload.number,
            product=payload.product,
            status=payload.status,
            signed_on=payload.signed_on,
            effective_on=payload.effective_on,
            expires_on=payload.expires_on,
            transferred=payload.transferred,
            family=payload.family,
            group=payload.group,
            waiting_days=payload.waiting_days,
            sum_insured=payload.sum_insured,
            standard_sum_insured=payload.standard_sum_insured,
            plan_level=payload.plan_level,
            riders=tuple(payload.riders) if payload.riders is not None else None,
            holder=_person(payload.holder),
            members=[
                MemberInput(
                    ref=m.ref,
                    relation=m.relation,
                    person=_person(
                        m,
                        home_city=m.home_city,
                        hukou_city=m.hukou_city,
                        mainland_citizen=m.mainland_citizen,
                    ),
                )
                for m in payload.members
            ],
        ),
        actor=staff_actor(user),
        allowed_insurer_ids=insurer_ids(user),
    )
    members = policy.members.select_related("person").order_by("id")
    return Status(
        201 if created else 200,
        {
            "number": policy.number,
            "created": created,
            "product": payload.product,
            "status": policy.status,
            "sum_insured": policy.sum_insured,
            "standard_sum_insured": policy.standard_sum_insured,
            "plan_level": policy.plan_level,
            "riders": list(policy.riders or []),
            "members": [
                {
                    "ref": m.ref,
                    "name": m.person.name,
                    "relation": m.relation,
                    "id_masked": m.person.id_masked,
                }
                for m in members
            ],
        },
    )
