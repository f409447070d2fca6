"""Writing policies from the insurer's core system: create or update by policy number,
people matched by ID number (through its digest), cities by code or name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from benefits.models import Person, PhoneChange, Policy, PolicyMember, Product
from benefits.signals import person_phone_changed
from benefits.terms.vocabulary import SLUG
from coverage.models import Region
from coverage.selectors import region_cached, region_index_cached
from portal.kernel.actor import SYSTEM, Actor
from portal.kernel.errors import DomainError
from portal.kernel.identity import (
    IdNumberError,
    PhoneNumberError,
    birth_date_from_id,
    id_number_digest,
    mask_phone,
    normalise_phone,
    phone_key,
    validate_id_number,
)
from portal.kernel.spreadsheet_formats import FORMULA_TRIGGERS
from portal.kernel.tenancy import InsurerIds

RELATIONS = {choice for choice, _ in PolicyMember.Relation.choices}
CONFLICT = 409


@dataclass(frozen=True)
class PersonInput:
    name: str
    id_number: str
    id_type: str = "resident_id"
    birth_date: date | None = None
    phone: str = ""
    mainland_citizen: bool = True
    home_city: str | None = None
    hukou_city: str | None = None


@dataclass(frozen=True)
class MemberInput:
    ref: str
    relation: str
    person: PersonInput


@dataclass(frozen=True)
class PolicyInput:
    number: str
    product: str
    status: str
    signed_on: date
    effective_on: date
    expires_on: date
    holder: PersonInput
    members: list[MemberInput]
    transferred: bool = False
    family: bool = False
    group: bool = False
    waiting_days: int | None = None
    # Left None / empty: the stored value is kept (an import without these columns changes
    # nothing of them).
    sum_insured: Decimal | None = None
    standard_sum_insured: Decimal | None = None
    plan_level: str | None = None
    riders: tuple[str, ...] | None = None


def _region(text: str | None, field: str) -> Region | None:
    """A region by code or printed name; both lookups answer from process memos, so a file
    of thousands of people does not reload the divisions for each of them."""
    if not text:
        return None
    region = region_cached(text) if text.isdigit() else None
    if region is None:
        result = region_index_cached().resolve(text, column="city")
        if result.region_code is None:
            raise DomainError("invalid_city", f"{field}：{result.message}", field=field)
        region = region_cached(result.region_code)
        if region is None:
            raise DomainError("invalid_city", f"{field}：区划不存在", field=field)
    return region


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (checked before stripping)."""
    return text.startswith(FORMULA_TRIGGERS) or text.strip().startswith(FORMULA_TRIGGERS)


def check_person_change_allowed(
    person: Person, *, allowed_insurer_ids: InsurerIds, field: str = ""
) -> None:
    """Refuse (409 ``person_shared_across_insurers``) a change of the name or phone of a
    stored person who holds or is insured on a policy of an insurer outside
    ``allowed_insurer_ids``: the phone decides who logs into that person's records with
    every insurer, so only a platform administrator (``None``) may change it. One query."""
    if allowed_insurer_ids is None or person.pk is None:
        return
    elsewhere = (
        Policy.objects.filter(Q(holder=person) | Q(members__person=person))
        .exclude(product__insurer_id__in=allowed_insurer_ids)
        .exists()
    )
    if elsewhere:
        message = "该人员在其他保险公司亦有保单，手机号或姓名须由平台管理员变更"
        raise DomainError(
            "person_shared_across_insurers",
            f"{field}：{message}" if field else message,
            status=CONFLICT,
            **({"field": field} if field else {}),
        )


@transaction.atomic
def person_save(
    *,
    person: Person,
    actor: Actor = SYSTEM,
    channel: str = PhoneChange.Channel.API,
    allowed_insurer_ids: InsurerIds = None,
    field: str = "",
) -> PhoneChange | None:
    """Save ``person`` as given (new, or a stored person with changed fields) — the one
    write path of the staff API, the policy import and the admin's person form.

    For a stored person whose name or phone changes, the caller's insurers must cover every
    policy of the person (``check_person_change_allowed``). A phone change is recorded as a
    ``PhoneChange`` (masked numbers, who, which channel) and announced with
    ``person_phone_changed`` in this transaction; the portal then ends the bindings the old
    phone made and texts both numbers once the transaction commits. Returns the record, or
    None when the phone did not change (the same number in another spelling is no change).
    ``person.phone`` must already be normalised (``portal.kernel.identity.normalise_phone``) or
    empty."""
    stored = None
    if person.pk is not None:
        stored = (
            Person.objects.select_for_update().filter(pk=person.pk).values("name", "phone").first()
        )
    phone_changed = stored is not None and phone_key(stored["phone"]) != phone_key(person.phone)
    if stored is not None and (phone_changed or stored["name"] != person.name):
        check_person_change_allowed(person, allowed_insurer_ids=allowed_insurer_ids, field=field)
    person.save()
    if stored is None or not phone_changed:
        return None
    old_phone = stored["phone"]
    change = PhoneChange.objects.create(
        person=person,
        old_masked=mask_phone(phone_key(old_phone)) if old_phone else "",
        new_masked=mask_phone(person.phone) if person.phone else "",
        changed_by=actor.user,
        actor_label=actor.label[:100],
        channel=channel,
    )
    person_phone_changed.send(
        sender=Person,
        person=person,
        old_phone=old_phone,
        new_phone=person.phone,
        actor=actor,
        change=change,
    )
    return change


def person_upsert(
    data: PersonInput,
    *,
    field: str,
    actor: Actor = SYSTEM,
    channel: str = PhoneChange.Channel.API,
    allowed_insurer_ids: InsurerIds = None,
) -> Person:
    """The person with this ID number, created or updated (name, phone, cities) through
    ``person_save``; ``allowed_insurer_ids`` as there (None: unrestricted)."""
    try:
        number = validate_id_number(data.id_type, data.id_number)
    except IdNumberError as exc:
        raise DomainError("invalid_id_number", f"{field}：{exc}", field=field) from None
    if looks_like_formula(data.name or ""):
        raise DomainError("invalid_name", f"{field}：姓名不能以 = + - @ 或制表符开头", field=field)
    phone = ""
    if data.phone:
        try:
            phone = normalise_phone(data.phone)
        except PhoneNumberError:
            raise DomainError(
                "invalid_phone",
                f"{field}：手机号码格式不正确，请填写11位中国大陆手机号码",
                field=field,
            ) from None
    birth = data.birth_date or birth_date_from_id(data.id_type, number)
    if birth is None:
        raise DomainError("missing_birth_date", f"{field}：请提供出生日期", field=field)
    if (
        data.id_type == "resident_id"
        and data.birth_date
        and data.birth_date != birth_date_from_id(data.id_type, number)
    ):
        raise DomainError(
            "birth_date_mismatch", f"{field}：出生日期与身份证号码不一致", field=field
        )
    person = Person.objects.filter(
        id_digest=id_number_digest(data.id_type, number)
    ).first() or Person(id_type=data.id_type, id_number=number)
    person.name = data.name
    person.birth_date = birth
    person.phone = phone or person.phone
    person.mainland_citizen = data.mainland_citizen
    person.home_city = _region(data.home_city, f"{field}.home_city") or person.home_city
    person.hukou_city = _region(data.hukou_city, f"{field}.hukou_city") or person.hukou_city
    person_save(
        person=person,
        actor=actor,
        channel=channel,
        allowed_insurer_ids=allowed_insurer_ids,
        field=field,
    )
    return person


@transaction.atomic
def policy_upsert(
    data: PolicyInput,
    *,
    actor: Actor = SYSTEM,
    channel: str = PhoneChange.Channel.API,
    allowed_insurer_ids: InsurerIds = None,
) -> tuple[Policy, bool]:
    """Create or update the policy ``data.number``; returns (policy, created). Members not in
    the input are kept (a member leaving a group policy is an explicit change, not an
    omission), and every input is checked before anything is written. People are written
    through ``person_upsert`` with ``actor``, ``channel`` and ``allowed_insurer_ids`` (the
    caller's insurers: a person also on another insurer's policy keeps name and phone)."""
    product = _check_policy_input(data)
    holder = person_upsert(
        data.holder,
        field="holder",
        actor=actor,
        channel=channel,
        allowed_insurer_ids=allowed_insurer_ids,
    )
    policy, created = _policy_write(data, product=product, holder=holder)
    for index, member in enumerate(data.members):
        person = person_upsert(
            member.person,
            field=f"members[{index}]",
            actor=actor,
            channel=channel,
            allowed_insurer_ids=allowed_insurer_ids,
        )
        _member_write(policy, member, person=person, index=index)
    return policy, created


def _check_policy_input(data: PolicyInput) -> Product:
    """The policy's product, once everything in ``data`` that needs no person is valid."""
    product = Product.objects.filter(code=data.product).first()
    if product is None:
        raise DomainError("unknown_product", f"产品代码“{data.product}”不存在", field="product")
    if data.status not in Policy.Status.values:
        raise DomainError("invalid_status", f"保单状态“{data.status}”不正确", field="status")
    if data.expires_on <= data.effective_on:
        raise DomainError("invalid_dates", "满期日期须晚于生效日期", field="expires_on")
    for name in ("sum_insured", "standard_sum_insured"):
        value = getattr(data, name)
        if value is not None and value < 0:
            raise DomainError("invalid_amount", f"{name}：保额不能为负数", field=name)
    for rider in data.riders or ():
        if not SLUG.match(rider):
            raise DomainError(
                "invalid_rider",
                f"附加险代码“{rider}”格式不正确（小写字母、数字、下划线）",
                field="riders",
            )
    refs = [m.ref for m in data.members]
    if len(refs) != len(set(refs)):
        raise DomainError("duplicate_member_ref", "被保险人编号重复", field="members")
    for index, member in enumerate(data.members):
        if member.relation not in RELATIONS:
            raise DomainError(
                "invalid_relation", f"members[{index}].relation 不正确", field=f"members[{index}]"
            )
    digests = [
        id_number_digest(m.person.id_type, m.person.id_number.strip().upper()) for m in data.members
    ]
    if len(digests) != len(set(digests)):
        raise DomainError("duplicate_member", "同一证件号码出现在多个被保险人中", field="members")
    return product


def _policy_write(data: PolicyInput, *, product: Product, holder: Person) -> tuple[Policy, bool]:
    """Create or lock-and-update the policy row (inside ``policy_upsert``'s transaction)."""
    policy, created = Policy.objects.select_for_update().get_or_create(
        number=data.number,
        defaults={
            "product": product,
            "signed_on": data.signed_on,
            "effective_on": data.effective_on,
            "expires_on": data.expires_on,
            "holder": holder,
        },
    )
    for name in (
        "status",
        "signed_on",
        "effective_on",
        "expires_on",
        "transferred",
        "family",
        "group",
        "waiting_days",
    ):
        setattr(policy, name, getattr(data, name))
    for name in ("sum_insured", "standard_sum_insured", "plan_level"):
        if getattr(data, name) is not None:
            setattr(policy, name, getattr(data, name))
    if data.riders is not None:
        policy.riders = sorted(set(data.riders))
    policy.product, policy.holder = product, holder
    policy.save()
    return policy, created


def _member_write(policy: Policy, member: MemberInput, *, person: Person, index: int) -> None:
    """Put ``person`` on ``policy`` as ``member.ref``; a person already on it under another
    ref is refused."""
    clash = (
        PolicyMember.objects.filter(policy=policy, person=person).exclude(ref=member.ref).first()
    )
    if clash is not None:
        raise DomainError(
            "duplicate_member",
            f"members[{index}]：此人已是本保单的被保险人（编号{clash.ref}）",
            field=f"members[{index}]",
        )
    PolicyMember.objects.update_or_create(
        policy=policy, ref=member.ref, defaults={"person": person, "relation": member.relation}
    )
