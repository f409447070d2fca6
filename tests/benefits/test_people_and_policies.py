"""ID numbers are validated (GB 11643), encrypted at rest, masked in admin, matched by digest
and never shown back in full."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from benefits.models import Person, Policy, PolicyMember, Product
from portal.kernel.identity import IdNumberError, mask_id_number, validate_id_number

VALID_ID = "11010519491231002X"


def make_person(**overrides) -> Person:
    values = {
        "name": "王小明",
        "id_type": Person.IdType.RESIDENT_ID,
        "id_number": VALID_ID,
        "birth_date": date(1949, 12, 31),
        "phone": "13800138000",
    }
    values.update(overrides)
    person = Person(**values)
    person.full_clean()
    person.save()
    return person


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105194912310021", "校验位不正确"),
        ("11010519491231002", "应为18位"),
        ("110105194902300020", "出生日期或地区码无效"),  # 30 February
        ("", "不能为空"),
    ],
)
def test_invalid_resident_id_numbers_are_refused_in_chinese(number, message):
    with pytest.raises(IdNumberError, match=message):
        validate_id_number("resident_id", number)


def test_a_lowercase_check_digit_and_spaces_are_accepted():
    assert validate_id_number("resident_id", "110105 19491231 002x") == VALID_ID


def test_masking_keeps_region_and_last_four():
    assert mask_id_number(VALID_ID) == "110105********002X"


@pytest.mark.django_db
def test_the_number_is_encrypted_at_rest_and_found_by_digest():
    person = make_person()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM benefits_person WHERE id = %s", [person.pk])
        stored = cursor.fetchone()[0]
    assert VALID_ID not in stored
    assert Person.objects.get(pk=person.pk).id_number == VALID_ID
    assert person.id_masked == "110105********002X"


@pytest.mark.django_db
def test_a_person_with_a_bad_check_digit_is_rejected_by_the_model():
    with pytest.raises(ValidationError) as caught:
        make_person(id_number="110105194912310021")
    assert "校验位不正确" in str(caught.value)


@pytest.mark.django_db
def test_admin_lists_masked_numbers_finds_by_full_number_and_never_shows_it(client, superuser):
    person = make_person()
    client.force_login(superuser)

    listing = client.get(reverse("admin:benefits_person_changelist")).content.decode()
    found = client.get(
        reverse("admin:benefits_person_changelist"), {"q": VALID_ID}
    ).content.decode()
    change = client.get(reverse("admin:benefits_person_change", args=[person.pk])).content.decode()

    assert "110105********002X" in listing and VALID_ID not in listing
    assert "王小明" in found
    assert VALID_ID not in change
    assert "138****8000" in listing and "13800138000" not in listing


@pytest.mark.django_db
def test_a_policy_expiring_before_it_starts_is_refused_by_the_database():
    from django.db import IntegrityError

    holder = make_person()
    with pytest.raises(IntegrityError):
        Policy.objects.create(
            number="P1",
            product=Product.objects.get(code="pingan.health"),
            signed_on=date(2026, 1, 1),
            effective_on=date(2026, 1, 2),
            expires_on=date(2026, 1, 1),
            holder=holder,
        )


@pytest.mark.django_db
def test_policy_admin_pages_render_with_members(client, superuser):
    holder = make_person()
    policy = Policy.objects.create(
        number="P-2026-0001",
        product=Product.objects.get(code="pingan.health"),
        signed_on=date(2026, 1, 1),
        effective_on=date(2026, 1, 2),
        expires_on=date(2027, 1, 1),
        holder=holder,
        family=True,
    )
    PolicyMember.objects.create(policy=policy, person=holder, ref="M1", relation="self")
    client.force_login(superuser)
    assert client.get(reverse("admin:benefits_policy_changelist")).status_code == 200
    page = client.get(reverse("admin:benefits_policy_change", args=[policy.pk])).content.decode()
    assert "P-2026-0001" in page and VALID_ID not in page
