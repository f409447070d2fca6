"""Synthetic policies for benchmarks and tests: valid, distinct resident ID numbers and a
family policy on 平安健康 in force from 2026-01-02."""

from __future__ import annotations

import zlib
from datetime import date

from dateutil.relativedelta import relativedelta
from stdnum.cn import ric

from benefits.models import Person, Policy, PolicyMember, Product
from coverage.models import Region


def resident_id(prefix17: str) -> str:
    """A valid 身份证 number: the 17 given digits and their GB 11643 check digit."""
    return prefix17 + ric.calc_check_digit(prefix17 + "0")


def family_policy(*, number: str, size: int, birth_year: int, name: str = "成员") -> Policy:
    """A family policy with ``size`` members (M1 the holder, M2 the spouse, then children);
    ``birth_year`` keeps ID numbers distinct across policies."""
    people = []
    for index in range(size):
        person = Person(
            name=f"{name}{index}",
            id_number=resident_id(f"110105{birth_year}01{index + 1:02d}001"),
            birth_date=date(birth_year, 1, index + 1),
        )
        person.save()
        people.append(person)
    policy = Policy.objects.create(
        number=number,
        product=Product.objects.get(code="pingan.health"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=people[0],
        family=True,
        waiting_days=30,
    )
    for index, person in enumerate(people):
        relation = "self" if index == 0 else ("spouse" if index == 1 else "child")
        PolicyMember.objects.create(
            policy=policy, person=person, ref=f"M{index + 1}", relation=relation
        )
    return policy


def policy_with_members(
    *,
    number: str,
    product: str,
    members: list[tuple[str, date, str]],
    effective_on: date,
    signed_on: date | None = None,
    expires_on: date | None = None,
    waiting_days: int | None = 30,
    phones: dict[int, str] | None = None,
    home_city: Region | None = None,
) -> Policy:
    """A policy on any product; ``members`` are (name, birth date, relation to the holder)
    and the first is the holder. ID numbers are derived from the policy number, so distinct
    policies never collide."""
    phones = phones or {}
    people = []
    for index, (name, birth, _relation) in enumerate(members):
        serial = zlib.crc32(f"{number}/{index}".encode()) % 1000
        person = Person(
            name=name,
            id_number=resident_id(f"110105{birth:%Y%m%d}{serial:03d}"),
            birth_date=birth,
            phone=phones.get(index, ""),
            home_city=home_city,
        )
        person.save()
        people.append(person)
    policy = Policy.objects.create(
        number=number,
        product=Product.objects.get(code=product),
        signed_on=signed_on or effective_on,
        effective_on=effective_on,
        expires_on=expires_on or effective_on + relativedelta(years=1),
        holder=people[0],
        family=len(members) > 1,
        waiting_days=waiting_days,
    )
    for index, (person, (_name, _birth, relation)) in enumerate(zip(people, members, strict=True)):
        PolicyMember.objects.create(
            policy=policy, person=person, ref=f"M{index + 1}", relation=relation
        )
    return policy
