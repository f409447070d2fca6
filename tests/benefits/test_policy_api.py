"""POST /api/staff/v1/policies: create or update by number; bad input gets a 4xx with a
stable code and writes nothing; ID numbers never come back in full."""

import json

import pytest

from benefits.demo import resident_id
from benefits.models import Person, Policy
from portal.kernel.staff_auth import staff_token_issue

URL = "/api/staff/v1/policies"
HOLDER_ID = "11010519491231002X"
CHILD_ID = resident_id("11010520150601001")


@pytest.fixture
def post(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="core")

    def send(body: dict):
        return client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}"},
        )

    return send


def body(**overrides) -> dict:
    data = {
        "number": "PA-2026-000123",
        "product": "pingan.health",
        "status": "in_force",
        "signed_on": "2026-01-01",
        "effective_on": "2026-01-02",
        "expires_on": "2027-01-01",
        "family": True,
        "holder": {"name": "王大明", "id_number": HOLDER_ID, "phone": "13800138000"},
        "members": [
            {
                "ref": "M1",
                "name": "王大明",
                "id_number": HOLDER_ID,
                "relation": "self",
                "home_city": "襄樊",
            },
            {
                "ref": "M2",
                "name": "王小宝",
                "id_number": CHILD_ID,
                "relation": "child",
                "hukou_city": "420600",
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_new_policy_is_created_with_members_and_masked_ids(post):
    response = post(body())
    assert response.status_code == 201
    data = response.json()
    assert data["created"] is True
    assert [m["ref"] for m in data["members"]] == ["M1", "M2"]
    assert data["members"][0]["id_masked"] == "110105********002X"
    assert HOLDER_ID not in response.content.decode()
    holder = Person.objects.get(name="王大明")
    assert holder.home_city.code == "420600"  # 襄樊 is today's 襄阳
    assert holder.birth_date.isoformat() == "1949-12-31"  # from the ID number


@pytest.mark.django_db
def test_posting_the_same_number_updates_it(post):
    post(body())
    response = post(body(status="lapsed"))
    assert response.status_code == 200
    assert response.json()["created"] is False
    assert Policy.objects.get(number="PA-2026-000123").status == "lapsed"
    assert Policy.objects.count() == 1 and Person.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"product": "nope.product"}, "unknown_product"),
        ({"status": "asleep"}, "invalid_status"),
        ({"expires_on": "2025-01-01"}, "invalid_dates"),
        ({"holder": {"name": "x", "id_number": "110105194912310021"}}, "invalid_id_number"),
    ],
)
def test_bad_input_gets_a_stable_code_and_writes_nothing(post, change, code):
    response = post(body(**change))
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Policy.objects.exists() and not Person.objects.exists()


@pytest.mark.django_db
def test_a_bad_member_id_rolls_back_the_holder_too(post):
    members = body()["members"]
    wrong_check_digit = "0" if CHILD_ID[-1] != "0" else "1"
    members[1]["id_number"] = CHILD_ID[:17] + wrong_check_digit
    response = post(body(members=members))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_id_number"
    assert "members[1]" in response.json()["message"]
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_duplicate_refs_and_unknown_relations_are_refused(post):
    members = body()["members"]
    assert (
        post(body(members=[members[0], {**members[1], "ref": "M1"}])).json()["code"]
        == "duplicate_member_ref"
    )
    assert (
        post(body(members=[members[0], {**members[1], "relation": "cousin"}])).json()["code"]
        == "invalid_relation"
    )


@pytest.mark.django_db
def test_a_missing_field_is_a_422_with_the_field_named(post):
    data = body()
    del data["effective_on"]
    response = post(data)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert any("effective_on" in f["field"] for f in response.json()["fields"])


@pytest.mark.django_db
def test_anonymous_callers_cannot_write_policies(client):
    response = client.post(URL, json.dumps(body()), content_type="application/json")
    assert response.status_code == 401
