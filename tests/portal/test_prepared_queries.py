"""PreparedQuery: compiled once, run with new values, answers exactly what the ORM answers."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits.demo import family_policy
from benefits.models import PolicyMember, QuotaBalance
from portal.kernel.prepared import PreparedQuery

members = PreparedQuery(
    lambda number: (
        PolicyMember.objects.filter(policy__number=number)
        .order_by("id")
        .values_list(
            "ref", "person__birth_date", "person__mainland_citizen", "policy__effective_on"
        )
    )
)


@pytest.mark.django_db
def test_it_answers_what_the_orm_answers_with_the_backend_types():
    family_policy(number="P-A", size=3, birth_year=1970)
    family_policy(number="P-B", size=1, birth_year=1971)

    for number in ("P-A", "P-B", "P-A", "NONE"):
        orm = list(
            PolicyMember.objects.filter(policy__number=number)
            .order_by("id")
            .values_list(
                "ref", "person__birth_date", "person__mainland_citizen", "policy__effective_on"
            )
        )
        assert members(number=number) == orm
    ref, born, mainland, effective = members(number="P-B")[0]
    assert (ref, born, mainland, effective) == ("M1", date(1971, 1, 1), True, date(2026, 1, 2))


@pytest.mark.django_db
def test_each_call_is_one_query():
    family_policy(number="P-A", size=2, birth_year=1970)
    members(number="P-A")
    with CaptureQueriesContext(connection) as queries:
        members(number="P-A")
    assert len(queries) == 1


balances = PreparedQuery(
    lambda policy_id, benefit_ids: (
        QuotaBalance.objects.filter(policy_id=policy_id, benefit_id__in=benefit_ids)
        .order_by("benefit_id")
        .values_list("benefit_id", "granted")
    )
)


@pytest.mark.django_db
def test_lists_of_any_length_and_decimals():
    from benefits.models import Benefit
    from benefits.quota.entitlements import pools_for
    from benefits.quota.ledger import balance_open

    policy = family_policy(number="P-A", size=1, birth_year=1970)
    opened = []
    for code in ("pingan.health.escort", "pingan.health.second_opinion"):
        benefit = Benefit.objects.get(code=code)
        (spec,) = pools_for(
            benefit=benefit, policy=policy, person=policy.holder, on=date(2026, 6, 1)
        )
        opened.append(balance_open(key=spec.key, amount=spec.amount, reason="年度开始").benefit_id)

    assert balances(policy_id=policy.pk, benefit_ids=opened[:1]) == [(opened[0], Decimal(1))]
    assert balances(policy_id=policy.pk, benefit_ids=sorted(opened)) == [
        (benefit_id, Decimal(1)) for benefit_id in sorted(opened)
    ]
    assert balances(policy_id=policy.pk + 1, benefit_ids=opened) == []


@pytest.mark.django_db
def test_a_lookup_that_transforms_its_value_is_run_through_the_orm():
    family_policy(number="P-A", size=2, birth_year=1970)
    contains = PreparedQuery(
        lambda part: (
            PolicyMember.objects.filter(policy__number__contains=part)
            .order_by("id")
            .values_list("ref", flat=False)
        )
    )
    assert contains(part="-A") == [("M1",), ("M2",)]
    assert contains(part="-Z") == []
