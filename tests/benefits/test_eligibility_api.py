"""POST /api/staff/v1/eligibility through HTTP: every reason with its clause, what is left,
and a query count that does not grow with the family."""

import json
from datetime import date

import pytest

from benefits.demo import family_policy
from benefits.models import Benefit, Policy
from benefits.quota.entitlements import pools_for
from benefits.quota.ledger import balance_open, quota_hold
from portal.kernel.memo import Memo
from portal.kernel.staff_auth import staff_token_issue

URL = "/api/staff/v1/eligibility"


@pytest.fixture(autouse=True)
def fresh_memos():
    # Rolled-back catalogue changes send no signal: each test starts from empty memos.
    Memo.clear_all()
    yield
    Memo.clear_all()


def make_family(size: int, number: str = "PA-FAM-1") -> Policy:
    # a distinct birth year, hence distinct ID numbers, per family
    return family_policy(number=number, size=size, birth_year=1960 + Policy.objects.count())


@pytest.fixture
def post(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="core")
    client.get(
        "/api/staff/v1/catalogue", headers={"authorization": f"Bearer {raw}"}
    )  # token touched

    def send(body: dict):
        return client.post(
            URL,
            json.dumps(body),
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}"},
        )

    return send


@pytest.mark.django_db
def test_an_escort_inside_the_waiting_period_and_too_late_gets_both_reasons(post):
    make_family(2)
    response = post(
        {
            "policy": "PA-FAM-1",
            "member": "M1",
            "benefit": "pingan.health.escort",
            "at": "2026-01-20T10:00:00+08:00",
            "context": {"planned_at": "2026-01-21T09:00:00+08:00", "region": "110000"},
        }
    )
    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is False
    codes = [r["code"] for r in body["reasons"]]
    assert codes == ["waiting_period", "lead_time"]
    assert body["reasons"][0]["message"] == "等待期至2026年1月31日结束，之后方可使用"
    assert body["reasons"][0]["clause"]
    assert body["remaining"][0]["remaining"] == "1"


@pytest.mark.django_db
def test_a_family_member_sees_the_pool_used_by_another(post):
    policy = make_family(2)
    benefit = Benefit.objects.get(code="pingan.health.outpatient_assist")
    (spec,) = pools_for(benefit=benefit, policy=policy, person=policy.holder, on=date(2026, 6, 1))
    balance = balance_open(key=spec.key, amount=spec.amount, reason="年度开始")
    quota_hold(holds=[(balance, spec.amount)], request_ref="R1", reason="户主申请")

    response = post(
        {
            "policy": "PA-FAM-1",
            "member": "M1",
            "benefit": "pingan.health.outpatient_assist",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"recipient": "M2", "region": "110000"},
        }
    )
    body = response.json()
    assert [r["code"] for r in body["reasons"]] == ["quota_exhausted"]
    assert body["remaining"][0]["held"] == "1" and body["remaining"][0]["remaining"] == "0"


@pytest.mark.django_db
def test_money_and_day_pools_read_as_plain_numbers(post):
    make_family(1)
    response = post(
        {
            "policy": "PA-FAM-1",
            "member": "M1",
            "benefit": "pingan.health.inpatient_carer_7d",
            "at": "2026-06-01T10:00:00+08:00",
        }
    )
    granted = {pool["pool"]: pool["granted"] for pool in response.json()["remaining"]}
    assert all("E" not in value and "." not in value for value in granted.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"policy": "NOPE"}, 404, "not_found"),
        ({"member": "M9"}, 404, "not_found"),
        ({"benefit": "manulife.dmm.escort"}, 400, "benefit_not_in_product"),
        ({"at": "2026-06-01T10:00:00"}, 400, "naive_datetime"),
        ({"at": "yesterday"}, 422, "invalid_input"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_stable_code(post, change, status, code):
    make_family(1)
    request = {
        "policy": "PA-FAM-1",
        "member": "M1",
        "benefit": "pingan.health.escort",
        "at": "2026-06-01T10:00:00+08:00",
    }
    response = post({**request, **change})
    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.django_db
def test_the_query_count_is_the_same_for_a_family_of_one_and_of_eight(post):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_family(1, "PA-ONE")
    make_family(8, "PA-EIGHT")
    request = {
        "member": "M1",
        "benefit": "pingan.health.escort",
        "at": "2026-06-01T10:00:00+08:00",
        "context": {"planned_at": "2026-06-04T10:00:00+08:00", "region": "110105"},
    }
    post({**request, "policy": "PA-ONE"})  # the benefit, region and list: once per process
    counts = []
    for number in ("PA-ONE", "PA-EIGHT"):
        with CaptureQueriesContext(connection) as queries:
            assert post({**request, "policy": number}).json()["eligible"] is True
        counts.append(len(queries))
    # token; the members with their people and the policy; the family pool's balances
    assert counts == [3, 3]


@pytest.mark.django_db
def test_a_benefit_edited_in_admin_is_seen_by_the_very_next_answer(post):
    # given an answer that read (and memoised) 陪诊's terms: 48 hours' notice
    make_family(1)
    request = {
        "policy": "PA-FAM-1",
        "member": "M1",
        "benefit": "pingan.health.escort",
        "at": "2026-06-01T10:00:00+08:00",
        "context": {"planned_at": "2026-06-02T12:00:00+08:00", "region": "110105"},
    }
    assert [r["code"] for r in post(request).json()["reasons"]] == ["lead_time"]

    # when an admin shortens the notice to 24 hours
    benefit = Benefit.objects.get(code="pingan.health.escort")
    rules = [
        {**rule, "min_lead": {"amount": "24", "unit": "hours"}}
        if rule["kind"] == "lead_time"
        else rule
        for rule in benefit.terms["rules"]
    ]
    benefit.terms = {**benefit.terms, "rules": rules}
    benefit.save()

    # then the same question is granted
    assert post(request).json()["eligible"] is True


@pytest.mark.django_db
def test_a_list_imported_again_is_seen_by_the_very_next_answer(post):
    from coverage.models import CoverageList
    from coverage.services import annex_import

    make_family(1)
    request = {
        "policy": "PA-FAM-1",
        "member": "M1",
        "benefit": "pingan.health.escort",
        "at": "2026-06-01T10:00:00+08:00",
        "context": {"planned_at": "2026-06-04T10:00:00+08:00", "region": "110105"},
    }
    assert post(request).json()["eligible"] is True

    # when the 陪诊 city list is re-imported without 北京
    annex_import(
        coverage_list=CoverageList.objects.get(code="pingan.health.escort_cities"),
        content="省份,城市,区县,医院数量,备注\n上海市,上海市,,,\n".encode(),
        filename="escort_cities.csv",
    )

    assert [r["code"] for r in post(request).json()["reasons"]] == ["not_in_network"]


@pytest.mark.django_db
def test_an_unknown_region_is_a_400_naming_the_field(post):
    make_family(1)
    response = post(
        {
            "policy": "PA-FAM-1",
            "member": "M1",
            "benefit": "pingan.health.escort",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"region": "火星市"},
        }
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_region"
    assert "context.region" in response.json()["message"]


@pytest.fixture
def get(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="reader")
    client.get("/api/staff/v1/catalogue", headers={"authorization": f"Bearer {raw}"})

    def send(url: str, **params):
        return client.get(url, params, headers={"authorization": f"Bearer {raw}"})

    return send


@pytest.mark.django_db
def test_entitlements_show_each_members_pools_and_the_ledger_behind_them(get):
    # given a family whose pooled 门诊协助 was held once by the holder
    policy = make_family(2)
    benefit = Benefit.objects.get(code="pingan.health.outpatient_assist")
    (spec,) = pools_for(benefit=benefit, policy=policy, person=policy.holder, on=date(2026, 6, 1))
    balance = balance_open(key=spec.key, amount=spec.amount, reason="年度开始")
    quota_hold(holds=[(balance, spec.amount)], request_ref="R1", reason="户主申请")

    # when staff read the entitlements
    body = get("/api/staff/v1/policies/PA-FAM-1/entitlements", on="2026-06-01").json()

    # then both members see the shared pool held, with the grant and the hold in its ledger
    for member in body["members"]:
        row = next(b for b in member["benefits"] if b["benefit"] == benefit.code)
        (pool,) = row["pools"]
        assert (pool["granted"], pool["held"], pool["remaining"]) == ("1", "1", "0")
        assert [e["kind"] for e in pool["ledger"]] == ["grant", "hold"]
        assert pool["period_start"] == "2026-01-02"
    advance = next(
        b
        for b in body["members"][0]["benefits"]
        if b["benefit"] == "pingan.health.inpatient_advance"
    )
    assert advance["unlimited"] is True and advance["pools"] == []


@pytest.mark.django_db
def test_entitlements_cost_the_same_queries_for_one_member_and_eight(get):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_family(1, "PA-E1")
    make_family(8, "PA-E8")
    counts = []
    for number in ("PA-E1", "PA-E8"):
        with CaptureQueriesContext(connection) as queries:
            assert (
                get(f"/api/staff/v1/policies/{number}/entitlements", on="2026-06-01").status_code
                == 200
            )
        counts.append(len(queries))
    # token, policy+product, members+people, benefits, balances, entries
    assert counts == [6, 6]


@pytest.mark.django_db
def test_entitlements_of_an_unknown_policy_or_date_outside_it_are_4xx(get):
    make_family(1)
    assert get("/api/staff/v1/policies/NOPE/entitlements").json()["code"] == "not_found"
    outside = get("/api/staff/v1/policies/PA-FAM-1/entitlements", on="2030-01-01")
    assert (outside.status_code, outside.json()["code"]) == (400, "outside_policy_period")
