"""The staff API: only staff get in (session or token), errors are JSON with a stable code
and a Chinese message, and the catalogue endpoint costs a fixed number of queries."""

import pytest

from portal.kernel.staff_auth import staff_token_issue, staff_token_revoke
from tests.factories import UserFactory

URL = "/api/staff/v1/catalogue"


@pytest.mark.django_db
def test_anonymous_callers_are_refused_with_a_stable_code(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "登录" in response.json()["message"]


@pytest.mark.django_db
def test_logged_in_non_staff_users_are_refused(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "此接口仅限保险公司员工使用"}


@pytest.mark.django_db
def test_a_token_of_a_user_who_is_no_longer_staff_is_refused(client):
    user = UserFactory(is_staff=True)
    _, raw = staff_token_issue(user=user, name="core")
    user.is_staff = False
    user.save()
    response = client.get(URL, headers={"authorization": f"Bearer {raw}"})
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer hbs_not-a-real-token", "Bearer ", "Basic abc", "hbs_x"])
def test_bad_tokens_are_refused(client, header):
    response = client.get(URL, headers={"authorization": header})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_revoked_token_stops_working(client, staff_user):
    token, raw = staff_token_issue(user=staff_user, name="core")
    assert client.get(URL, headers={"authorization": f"Bearer {raw}"}).status_code == 200
    staff_token_revoke(token=token)
    assert client.get(URL, headers={"authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.django_db
def test_staff_session_reads_the_catalogue(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL)
    assert response.status_code == 200
    products = {p["code"]: p for p in response.json()["products"]}
    assert set(products) == {
        "xiaokang.rsyj",
        "manulife.dmm",
        "axa.zysh",
        "pingan.health",
        "manulife.hywj",
        "kangning.anxin",  # the synthetic sixth handbook
    }
    escort = next(
        b for b in products["pingan.health"]["benefits"] if b["code"] == "pingan.health.escort"
    )
    assert escort["vendor"]["code"]
    assert escort["terms"]["quota"]["sharing"] == "family_pool"
    assert "lead_time" in escort["reason_codes"]
    assert any(line.startswith("次数：") for line in escort["summary"])
    assert escort["source"]["file"] == "003_0cd53a263ec9ebf5.txt"
    assert escort["source"]["text"] is None


@pytest.mark.django_db
def test_catalogue_filters_by_insurer_and_can_include_the_clauses(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="core")
    response = client.get(
        URL,
        {"insurer": "manulife", "include_clauses": "true"},
        headers={"authorization": f"Bearer {raw}"},
    )
    products = response.json()["products"]
    assert {p["code"] for p in products} == {"manulife.dmm", "manulife.hywj"}
    kids = next(
        b for p in products for b in p["benefits"] if b["code"] == "manulife.hywj.kids_dental"
    )
    assert "儿童齿科" in kids["source"]["text"]


@pytest.mark.django_db
def test_invalid_query_parameters_get_a_structured_422(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL, {"include_clauses": "maybe"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["fields"][0]["field"].endswith("include_clauses")


@pytest.mark.django_db
def test_catalogue_query_count_does_not_grow_with_the_catalogue(
    client, staff_user, django_assert_num_queries
):
    _, raw = staff_token_issue(user=staff_user, name="core")
    headers = {"authorization": f"Bearer {raw}"}
    client.get(URL, headers=headers)  # the token's last_used_at is written once a minute
    # 1 token+user, 2 products+insurers, 3 benefits+service/vendor/parent, 4 list links
    with django_assert_num_queries(4):
        one = client.get(URL, {"product": "axa.zysh"}, headers=headers)
    with django_assert_num_queries(4):
        everything = client.get(URL, headers=headers)
    assert len(one.json()["products"]) == 1
    assert len(everything.json()["products"]) == 6


@pytest.mark.django_db
def test_openapi_docs_are_served_to_staff(client, staff_user):
    assert client.get("/api/docs").status_code == 302  # to the admin login
    client.force_login(staff_user)
    response = client.get("/api/docs")
    assert response.status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/api/staff/v1/catalogue" in schema["paths"]


@pytest.mark.django_db
def test_me_tells_an_integrator_whose_token_it_is(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="core")
    assert client.get("/api/staff/v1/me").status_code == 401
    response = client.get("/api/staff/v1/me", headers={"authorization": f"Bearer {raw}"})
    assert response.json() == {"username": staff_user.username, "via": "token"}
