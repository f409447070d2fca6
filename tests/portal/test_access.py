"""Who may act for whom: the holder for everyone insured on their policies, an insured adult
for themself, the holder or the spouse for a minor child; nobody else. Each check is one
query."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from benefits.demo import resident_id
from benefits.models import Person, Policy, PolicyMember, Product
from portal.models import PolicyholderAccount
from portal.pages.access import actable_members, can_act_for, policyholder_required, portal_person
from tests.factories import StaffFactory, UserFactory

ON = date(2026, 11, 21)


def make_person(name: str, birth: date, serial: int) -> Person:
    person = Person(
        name=name,
        id_number=resident_id(f"110105{birth:%Y%m%d}{serial:03d}"),
        birth_date=birth,
    )
    person.save()
    return person


@pytest.fixture
def family():
    """平安 family policy: holder 父亲 (self), 母亲 (spouse), a 16-year-old child, a
    20-year-old child, and 祖母 (parent), an unrelated adult on the same policy."""
    people = {
        "father": make_person("父亲", date(1980, 3, 1), 1),
        "mother": make_person("母亲", date(1982, 5, 2), 2),
        "teen": make_person("小明", date(2010, 6, 1), 3),
        "student": make_person("大明", date(2006, 1, 9), 4),
        "grandma": make_person("祖母", date(1950, 8, 8), 5),
    }
    policy = Policy.objects.create(
        number="P-ACCESS-1",
        product=Product.objects.get(code="pingan.health"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=people["father"],
        family=True,
    )
    relations = {
        "father": "self",
        "mother": "spouse",
        "teen": "child",
        "student": "child",
        "grandma": "parent",
    }
    members = {
        key: PolicyMember.objects.create(
            policy=policy, person=people[key], ref=f"M{index}", relation=relations[key]
        )
        for index, key in enumerate(people, start=1)
    }
    return people, members


def refs(person, on=ON):
    return sorted(member.ref for member in actable_members(person, on))


@pytest.mark.django_db
def test_the_holder_acts_for_every_insured_member_adults_included(family):
    people, _ = family
    assert refs(people["father"]) == ["M1", "M2", "M3", "M4", "M5"]


@pytest.mark.django_db
def test_an_insured_16_year_old_cannot_act_even_for_themself(family):
    people, members = family
    assert refs(people["teen"]) == []
    assert not can_act_for(people["teen"], members["teen"], on=ON)


@pytest.mark.django_db
def test_the_parent_holder_acts_for_the_16_year_old(family):
    people, members = family
    assert can_act_for(people["father"], members["teen"], on=ON)


@pytest.mark.django_db
def test_the_spouse_acts_for_themself_and_the_minor_child_only(family):
    people, members = family
    assert refs(people["mother"]) == ["M2", "M3"]
    assert not can_act_for(people["mother"], members["student"], on=ON)
    assert not can_act_for(people["mother"], members["father"], on=ON)


@pytest.mark.django_db
def test_an_adult_member_cannot_act_for_another_adult_member(family):
    people, members = family
    assert refs(people["grandma"]) == ["M5"]
    assert not can_act_for(people["grandma"], members["mother"], on=ON)
    assert not can_act_for(people["student"], members["grandma"], on=ON)
    assert can_act_for(people["student"], members["student"], on=ON)


@pytest.mark.django_db
def test_a_child_acts_for_themself_from_the_18th_birthday_and_the_spouse_no_longer(family):
    people, members = family
    day_before, birthday = date(2028, 5, 31), date(2028, 6, 1)
    assert not can_act_for(people["teen"], members["teen"], on=day_before)
    assert can_act_for(people["mother"], members["teen"], on=day_before)
    assert can_act_for(people["teen"], members["teen"], on=birthday)
    assert not can_act_for(people["mother"], members["teen"], on=birthday)


@pytest.mark.django_db
def test_a_29_february_child_comes_of_age_on_1_march(family):
    _, members = family
    leap_child = make_person("闰年", date(2008, 2, 29), 6)
    member = PolicyMember.objects.create(
        policy=members["father"].policy, person=leap_child, ref="M6", relation="child"
    )
    assert not can_act_for(leap_child, member, on=date(2026, 2, 28))
    assert can_act_for(leap_child, member, on=date(2026, 3, 1))


@pytest.mark.django_db
def test_someone_on_no_policy_acts_for_nobody(family):
    _, members = family
    stranger = make_person("路人", date(1975, 1, 1), 7)
    assert refs(stranger) == []
    assert not can_act_for(stranger, members["father"], on=ON)


@pytest.mark.django_db
def test_the_spouse_of_one_policy_cannot_act_for_a_child_on_another(family):
    people, _ = family
    other = Policy.objects.create(
        number="P-ACCESS-2",
        product=Product.objects.get(code="pingan.health"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=make_person("邻居", date(1979, 4, 4), 8),
    )
    neighbour_child = PolicyMember.objects.create(
        policy=other,
        person=make_person("邻居孩子", date(2015, 4, 4), 9),
        ref="N1",
        relation="child",
    )
    assert not can_act_for(people["mother"], neighbour_child, on=ON)


@pytest.mark.django_db
def test_actable_members_is_one_query_with_policy_product_and_person(
    family, django_assert_num_queries
):
    people, _ = family
    # One SELECT joining member, policy, product and person (the spouse rule is a subquery).
    with django_assert_num_queries(1):
        rows = [
            (m.policy.number, m.policy.product.code, m.person.name)
            for m in actable_members(people["father"], ON)
        ]
    assert len(rows) == 5


@pytest.mark.django_db
def test_can_act_for_is_one_query(family, django_assert_num_queries):
    people, members = family
    # One SELECT … EXISTS.
    with django_assert_num_queries(1):
        assert can_act_for(people["mother"], members["teen"], on=ON)


def view(request):
    return HttpResponse(portal_person(request).name)


protected = policyholder_required(view)


@pytest.fixture
def rf():
    return RequestFactory()


@pytest.mark.django_db
def test_a_protected_view_sends_anonymous_visitors_to_the_sms_login(rf):
    request = rf.get("/requests/")
    request.user = AnonymousUser()
    response = protected(request)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/requests/"


@pytest.mark.django_db
def test_a_protected_view_sends_an_unbound_policyholder_to_the_bind_page(rf):
    user = UserFactory()
    PolicyholderAccount.objects.create(user=user, phone="13900139000")
    request = rf.get("/requests/")
    request.user = user
    response = protected(request)
    assert response.status_code == 302
    assert response["Location"] == "/login/bind/"


@pytest.mark.django_db
def test_a_staff_user_without_an_account_gets_404_from_portal_views(rf):
    request = rf.get("/requests/")
    request.user = StaffFactory()
    with pytest.raises(Http404):
        protected(request)


@pytest.mark.django_db
def test_a_bound_policyholder_reaches_the_view_as_their_person_in_one_query(
    rf, family, django_assert_num_queries
):
    people, _ = family
    user = UserFactory()
    people["mother"].phone = "13900139000"  # bound with her phone, as account_bind requires
    people["mother"].save(update_fields=["phone"])
    PolicyholderAccount.objects.create(user=user, phone="13900139000", person=people["mother"])
    request = rf.get("/requests/")
    request.user = user
    # One SELECT of the account joined with its person; the view's second lookup is cached.
    with django_assert_num_queries(1):
        response = protected(request)
        assert user.policyholder_account.masked_phone == "139****9000"
    assert response.content.decode() == "母亲"
