"""A policy and its members as eligibility reads them: one query for the members with their
people and the policy, matched by member ref or ID-number digest (no number is decrypted),
and the policy's insurer from a memo of the (small) product table, for tenancy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from benefits.models import Person, Policy, PolicyMember, Product
from portal.kernel.errors import NotFound
from portal.kernel.identity import id_number_digest
from portal.kernel.memo import Memo
from portal.kernel.prepared import PreparedQuery

_product_insurers: Memo[dict[int, int]] = Memo("product-insurers")


@dataclass(frozen=True)
class MemberRow:
    """A member and what eligibility needs of their person (no model instance per member:
    a family of eight costs eight tuples, not eight models)."""

    id: int
    ref: str
    relation: str
    person_id: int
    id_digest: str
    birth_date: date
    mainland_citizen: bool
    home_city_id: int | None
    hukou_city_id: int | None = None

    @classmethod
    def of(cls, member: PolicyMember) -> MemberRow:
        """The row of a member loaded with its person."""
        person = member.person
        return cls(
            member.pk,
            member.ref,
            member.relation,
            person.pk,
            person.id_digest,
            person.birth_date,
            person.mainland_citizen,
            person.home_city_id,
            person.hukou_city_id,
        )

    def person(self) -> Person:
        """The person as a model, for the functions that take one (nothing is saved)."""
        return Person(
            id=self.person_id,
            id_digest=self.id_digest,
            birth_date=self.birth_date,
            mainland_citizen=self.mainland_citizen,
            home_city_id=self.home_city_id,
        )


# The policy's members with what eligibility needs of their people and of the policy (repeated
# on each row; a family has at most a few members). Not the encrypted ID numbers: members are
# matched by digest, so no number is decrypted.
POLICY_FIELDS = (
    "id",
    "product_id",
    "status",
    "signed_on",
    "effective_on",
    "expires_on",
    "transferred",
    "waiting_days",
    "cooling_off_days",
    "sum_insured",
    "standard_sum_insured",
    "plan_level",
    "riders",
)
PERSON_FIELDS = (
    "id",
    "id_digest",
    "birth_date",
    "mainland_citizen",
    "home_city_id",
    "hukou_city_id",
)
_members_of_policy = PreparedQuery(
    lambda number: (
        PolicyMember.objects.filter(policy__number=number)
        # order_by("id"): the default ordering would join the policy table a second time.
        .order_by("id")
        .values_list(
            "id",
            "ref",
            "relation",
            *(f"person__{name}" for name in PERSON_FIELDS),
            *(f"policy__{name}" for name in POLICY_FIELDS),
        )
    )
)


def product_insurer_id(product_id: int) -> int | None:
    """The insurer of a product, from a per-process memo of the (small) product table."""
    insurers = _product_insurers.get(
        "all", lambda: dict(Product.objects.order_by().values_list("id", "insurer_id"))
    )
    return insurers.get(product_id)


def policy_and_members(
    number: str, *, insurer_ids: frozenset[int] | None = None
) -> tuple[Policy, list[MemberRow]]:
    """One query. The policy is a model instance carrying the loaded fields (and its real
    primary key), for the plain functions that take models; nothing here is saved.

    With ``insurer_ids``, another insurer's policy is "保单不存在", like no policy at all."""
    rows = _members_of_policy(number=number)
    if not rows:
        policies = Policy.objects.filter(number=number)
        if insurer_ids is not None:
            policies = policies.filter(product__insurer__in=insurer_ids)
        if policies.exists():
            raise NotFound("member：本保单没有此被保险人")
        raise NotFound("保单不存在")
    policy_at = 3 + len(PERSON_FIELDS)
    policy = Policy(number=number, **dict(zip(POLICY_FIELDS, rows[0][policy_at:], strict=True)))
    if insurer_ids is not None and product_insurer_id(policy.product_id) not in insurer_ids:
        raise NotFound("保单不存在")
    return policy, [MemberRow(*row[:policy_at]) for row in rows]


def find_member(members: list[MemberRow], text: str, field: str) -> MemberRow:
    """The member named by its ref (M1) or ID number, or "本保单没有此被保险人" for ``field``."""
    for member in members:
        if member.ref == text:
            return member
    digests = {id_number_digest(id_type, text) for id_type in Person.IdType.values}
    for member in members:
        if member.id_digest in digests:
            return member
    raise NotFound(f"{field}：本保单没有此被保险人")
