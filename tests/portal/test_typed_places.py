"""Places as people type them (上海市浦东新区, 北京市朝阳区, 杭州市上城区, 帝都), over HTTP: the
staff eligibility API reads them as the resolver does or answers ``invalid_region`` naming the
field; the portal form accepts them or shows the reason under the field in Chinese, with
suggestions for a name several places share. Neither ever answers 500."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import family_policy, policy_with_members
from bookings.models import ServiceRequest
from portal.kernel.memo import Memo
from portal.kernel.staff_auth import staff_token_issue
from tests.factories import policyholder_login

pytestmark = pytest.mark.django_db

TYPED = [("上海市浦东新区", "310115"), ("北京市朝阳区", "110105"), ("杭州市上城区", "330102")]
UNKNOWN = "无法识别“帝都”，请输入省市区名称，如：上海市浦东新区"
AMBIGUOUS = "“朝阳区”有多处同名地区，请写明省市，如：北京市朝阳区、吉林省长春市朝阳区"


@pytest.fixture(autouse=True)
def fresh_memos():
    # Rolled-back data changes send no signal: each test starts from empty memos.
    Memo.clear_all()
    yield
    Memo.clear_all()


# --- POST /api/staff/v1/eligibility -----------------------------------------------------------


@pytest.fixture
def eligibility(client, staff_user):
    family_policy(number="PA-PLACE-1", size=1, birth_year=1970)
    _, raw = staff_token_issue(user=staff_user, name="places")

    def ask(region: str):
        body = {
            "policy": "PA-PLACE-1",
            "member": "M1",
            "benefit": "pingan.health.escort",
            "at": "2026-06-01T10:00:00+08:00",
            "context": {"planned_at": "2026-06-04T10:00:00+08:00", "region": region},
        }
        return client.post(
            "/api/staff/v1/eligibility",
            json.dumps(body),
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}"},
        )

    return ask


@pytest.mark.parametrize(("typed", "code"), TYPED)
def test_eligibility_reads_a_district_written_with_its_city_as_its_code(eligibility, typed, code):
    by_name, by_code = eligibility(typed), eligibility(code)
    assert by_name.status_code == 200
    # the same answer as for the division's code, the 陪诊 network check included
    assert by_name.json() == by_code.json()


def test_eligibility_in_beijing_chaoyang_is_granted_as_for_its_code(eligibility):
    assert eligibility("北京市朝阳区").json()["eligible"] is True


@pytest.mark.parametrize(
    ("typed", "problem", "candidates"),
    [
        ("帝都", UNKNOWN, []),
        ("朝阳区", AMBIGUOUS, ["北京市朝阳区", "吉林省长春市朝阳区"]),
    ],
)
def test_eligibility_refuses_an_unreadable_place_with_invalid_region_and_the_field(
    eligibility, typed, problem, candidates
):
    response = eligibility(typed)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_region",
        "message": f"context.region：{problem}",
        "field": "context.region",
        "candidates": candidates,
    }


# --- the portal request form --------------------------------------------------------------------


@pytest.fixture
def form_url(client):
    policy = policy_with_members(
        number="PLACE-PORTAL-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000071"},
    )
    policyholder_login(client, policy.holder)
    member = policy.members.get(ref="M1")
    return reverse("portal:request_new", args=[member.pk, "pingan.health.outpatient_assist"])


@pytest.mark.parametrize(("typed", "code"), TYPED)
def test_the_form_checks_a_district_written_with_its_city(client, form_url, typed, code):
    page = client.post(form_url, {"submission_key": "k1", "region": typed, "check": "1"})
    assert page.status_code == 200
    assert page.context["form"].errors == {}
    assert "符合申请条件" in page.text
    assert f'value="{typed}"' in page.text  # what they typed is kept


@pytest.mark.parametrize(("typed", "code"), TYPED)
def test_the_form_submits_a_district_written_with_its_city_as_that_district(
    client, form_url, typed, code
):
    page = client.post(form_url, {"submission_key": "k1", "region": typed, "submit": "1"})
    request = ServiceRequest.objects.get()
    assert page.status_code == 302
    assert page["Location"] == reverse("portal:request_detail", args=[request.ref])
    assert request.region is not None and request.region.code == code


@pytest.mark.parametrize(
    ("typed", "problem", "suggestions"),
    [("帝都", UNKNOWN, []), ("朝阳区", AMBIGUOUS, ["北京市朝阳区", "吉林省长春市朝阳区"])],
)
@pytest.mark.parametrize("button", ["check", "submit"])
def test_an_unreadable_place_is_the_fields_error_in_the_policyholders_words(
    client, form_url, typed, problem, suggestions, button
):
    page = client.post(form_url, {"submission_key": f"k-{button}", "region": typed, button: "1"})
    assert page.status_code == 200
    assert page.context["form"].errors == {"region": [problem]}
    assert problem in page.text and f'value="{typed}"' in page.text
    assert all(name in page.text for name in suggestions)
    assert "context.region" not in page.text
    assert not ServiceRequest.objects.exists()
