"""Policy import, rows together: grouped by policy number and checked against each other,
against the importer's insurers, and against what is stored (which rows need writing)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _

from benefits.models import Person, Policy, PolicyMember, Product
from benefits.policies.import_rows import HEADER, POLICY_FIELDS, POLICY_KEYS, RowOutcome
from benefits.policies.services import MemberInput, PersonInput, PolicyInput
from portal.kernel.errors import DomainError
from portal.kernel.identity import id_number_digest


def _digest(id_type: str, number: str) -> str:
    return id_number_digest(id_type, number)


def _person_input(values: dict[str, Any], who: str) -> PersonInput:
    extra = {}
    if who == "member":
        extra = {
            "home_city": values["home_city"],
            "hukou_city": values["hukou_city"],
            "mainland_citizen": values["mainland_citizen"],
        }
    return PersonInput(
        name=values[f"{who}_name"],
        id_type=values[f"{who}_id_type"],
        id_number=values[f"{who}_id_number"],
        birth_date=values[f"{who}_birth_date"],
        phone=values[f"{who}_phone"],
        **extra,
    )


def group_by_policy(rows: list[RowOutcome]) -> dict[str, list[RowOutcome]]:
    """Rows by policy number; a row whose policy columns disagree with the policy's first
    row, or that repeats a member, is an error."""
    groups: dict[str, list[RowOutcome]] = defaultdict(list)
    for row in rows:
        groups[row.values["number"]].append(row)
    for group in groups.values():
        first = group[0]
        refs: dict[str, int] = {}
        people: dict[str, int] = {}
        for row in group:
            for key in POLICY_KEYS:
                if row is not first and row.values.get(key) != first.values.get(key):
                    row.error(key, _("与同一保单第%(line)s行不一致") % {"line": first.line})
            ref = row.values["member_ref"]
            if ref in refs:
                row.error("member_ref", _("与第%(line)s行重复") % {"line": refs[ref]})
            refs.setdefault(ref, row.line)
            if row.values["member_id_number"]:
                digest = _digest(row.values["member_id_type"], row.values["member_id_number"])
                if digest in people:
                    row.error(
                        "member_id_number",
                        _("与第%(line)s行是同一人") % {"line": people[digest]},
                    )
                people.setdefault(digest, row.line)
    return groups


def _stored(number: str) -> tuple[Policy | None, dict[str, PolicyMember]]:
    policy = (
        Policy.objects.select_related("product", "holder", "holder__home_city")
        .filter(number=number)
        .first()
    )
    if policy is None:
        return None, {}
    members = policy.members.select_related("person__home_city", "person__hukou_city")
    return policy, {m.ref: m for m in members.order_by("id")}


def _person_differs(person: Person, given: PersonInput) -> bool:
    """Would ``person_upsert`` change this person? (Blank phone and cities keep theirs.)"""
    if person.id_digest != _digest(given.id_type, given.id_number):
        return True
    if person.name != given.name or (given.birth_date and person.birth_date != given.birth_date):
        return True
    if given.phone and person.phone != given.phone:
        return True
    if person.mainland_citizen != given.mainland_citizen:
        return True
    for key in ("home_city", "hukou_city"):
        code = getattr(given, key)
        region = getattr(person, key)
        if code and (region is None or region.code != code):
            return True
    return False


def policy_input(group: list[RowOutcome]) -> PolicyInput:
    first = group[0].values
    return PolicyInput(
        number=first["number"],
        product=first["product"],
        status=first["status"],
        signed_on=first["signed_on"],
        effective_on=first["effective_on"],
        expires_on=first["expires_on"],
        transferred=first["transferred"],
        family=first["family"],
        sum_insured=first.get("sum_insured"),
        standard_sum_insured=first.get("standard_sum_insured"),
        plan_level=first.get("plan_level") or None,
        riders=first.get("riders"),
        holder=PersonInput(
            name=first["holder_name"],
            id_type=first["holder_id_type"],
            id_number=first["holder_id_number"],
            birth_date=first["holder_birth_date"],
            phone=first["holder_phone"],
        ),
        members=[
            MemberInput(
                ref=row.values["member_ref"],
                relation=row.values["relation"],
                person=_person_input(row.values, "member"),
            )
            for row in group
        ],
    )


def _attributes_differ(policy: Policy, data: PolicyInput) -> bool:
    """Would the optional policy columns (保额, 计划, 附加险) change the policy? Blank keeps."""
    for key in ("sum_insured", "standard_sum_insured", "plan_level"):
        given = getattr(data, key)
        if given is not None and getattr(policy, key) != given:
            return True
    return data.riders is not None and sorted(set(data.riders)) != list(policy.riders or [])


def mark_actions(group: list[RowOutcome], data: PolicyInput) -> bool:
    """Set each row's action (new, update, skip) against what is stored; True if the policy
    needs writing at all."""
    policy, stored = _stored(data.number)
    if policy is None:
        for row in group:
            row.action = "new"
        return True
    holder = replace(data.holder, mainland_citizen=policy.holder.mainland_citizen)
    policy_changed = (
        policy.product.code != data.product
        or any(getattr(policy, key) != getattr(data, key) for key in POLICY_FIELDS)
        or _attributes_differ(policy, data)
        or _person_differs(policy.holder, holder)
    )
    for index, (row, member) in enumerate(zip(group, data.members, strict=True)):
        existing = stored.get(member.ref)
        if existing is None:
            row.action = "new"
        elif existing.relation != member.relation or _person_differs(
            existing.person, member.person
        ):
            row.action = "update"
        else:
            row.action = "update" if policy_changed and index == 0 else "skip"
    return any(row.action != "skip" for row in group)


def blame_row(group: list[RowOutcome], exc: DomainError) -> None:
    """Put a service error on the row it is about (``members[2]`` → the third row)."""
    where = str(exc.details.get("field", ""))
    row = group[0]
    if where.startswith("members[") and "]" in where:
        index = int(where[len("members[") : where.index("]")])
        if 0 <= index < len(group):
            row = group[index]
    key = "holder_id_number" if where == "holder" else "member_ref"
    # The row and column already say where: drop the service's "members[2]：" prefix.
    message = exc.message.removeprefix(f"{where}：") if where else exc.message
    row.error(key, message)


def refuse_other_insurers(rows: list[RowOutcome], allowed: frozenset[int]) -> None:
    """A row may only name a product, and a policy number, of the importer's insurers."""
    own = set(Product.objects.filter(insurer__in=allowed).values_list("code", flat=True))
    numbers = {row.values.get("number") for row in rows} - {None, ""}
    foreign = set(
        Policy.objects.filter(number__in=numbers)
        .exclude(product__insurer__in=allowed)
        .values_list("number", flat=True)
    )
    for row in rows:
        product = row.values.get("product")
        if product and product not in own and HEADER["product"] not in row.errors:
            row.error(
                "product", _("产品“%(code)s”不属于您所在的保险公司，不能导入") % {"code": product}
            )
        if row.values.get("number") in foreign:
            row.error("number", _("保单号不属于您所在的保险公司，不能导入或修改"))
