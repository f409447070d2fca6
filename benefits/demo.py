"""Synthetic policies for benchmarks and tests: valid, distinct resident ID numbers and a
family policy on 平安健康 in force from 2026-01-02."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

from benefits.models import Person, Policy, PolicyMember, Product


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
