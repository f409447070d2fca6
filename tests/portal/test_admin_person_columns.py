"""Every admin list whose rows belong to a person shows the person's name and masked phone
(an agent tells two 王伟 apart without seeing the number), in a bounded number of queries."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from benefits.models import Diagnosis, Hospitalisation, Person
from tests.clock import at
from tests.factories import outpatient_request, staff_member

pytestmark = pytest.mark.django_db
PHONE = "13912345678"
SHOWN = "林一 139****5678"
# session, user, memberships/permissions, count, page rows with their people, filters' choices
LIST_BUDGET = 13


@pytest.fixture
def person_with_records(client):
    request = outpatient_request(
        number="COLS-1", at=at(2026, 3, 2, 10), name="林一", phone=PHONE, born=date(1980, 5, 5)
    )
    person = Person.objects.get(pk=request.member.person_id)
    Hospitalisation.objects.create(person=person, hospital="瑞金医院", admitted_on=date(2026, 3, 1))
    Diagnosis.objects.create(person=person, disease_text="肺炎", diagnosed_on=date(2026, 3, 1))
    client.force_login(staff_member("operator", ["pingan"]))
    return request


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:benefits_policy_changelist",
        "admin:benefits_hospitalisation_changelist",
        "admin:benefits_diagnosis_changelist",
        "admin:bookings_servicerequest_changelist",
        "admin:benefits_person_changelist",
    ],
)
def test_the_list_shows_the_name_and_masked_phone(
    client, person_with_records, url_name, django_assert_max_num_queries
):
    with django_assert_max_num_queries(LIST_BUDGET):
        page = client.get(reverse(url_name)).content.decode()
    assert SHOWN in page or ("林一" in page and "139****5678" in page)
    assert PHONE not in page


def test_the_phone_change_record_shows_the_name_and_the_new_masked_phone(
    client, person_with_records
):
    from benefits.policies.services import person_save
    from portal.kernel.actor import Actor

    person = Person.objects.get(name="林一")
    person.phone = "13700001111"
    person_save(person=person, actor=Actor(label="test"), channel="admin")
    page = client.get(reverse("admin:benefits_phonechange_changelist")).content.decode()
    assert "林一 137****1111" in page
    assert "13700001111" not in page and PHONE not in page


@pytest.mark.parametrize(
    "url_name", ["admin:benefits_policy_changelist", "admin:bookings_servicerequest_changelist"]
)
def test_more_rows_cost_no_more_queries(client, person_with_records, url_name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse(url_name))  # the first page of a session also reads the memberships
    with CaptureQueriesContext(connection) as one_row:
        client.get(reverse(url_name))
    for serial in range(3):
        outpatient_request(
            number=f"COLS-{serial + 2}",
            at=at(2026, 3, 2, 11),
            name=f"林{serial}",
            phone=f"1391234000{serial}",
            born=date(1981, 1, 1 + serial),
        )
    with CaptureQueriesContext(connection) as four_rows:
        page = client.get(reverse(url_name)).content.decode()
    assert "林0 139****0000" in page
    assert len(four_rows) == len(one_row)


def test_another_insurers_staff_see_neither_the_person_nor_their_policy(
    client, person_with_records
):
    client.force_login(staff_member("operator", ["axa"]))
    page = client.get(reverse("admin:benefits_policy_changelist")).content.decode()
    assert "林一" not in page
    url = reverse("admin:benefits_policy_change", args=[person_with_records.policy_id])
    assert client.get(url).status_code == 404
