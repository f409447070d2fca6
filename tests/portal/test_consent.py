"""Consent to process health information (PIPL art. 29, 30): asked separately right after
the first binding, with the purpose and the vendors who receive the information; its
version, time and channel stored; a page to read and withdraw it; a withdrawal blocks new
requests for services that need records, with the reason in Chinese on the form and as a
structured error in the staff API, and leaves services without records alone."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import ConsentRecord
from benefits.policies.consent import HEALTH_CONSENT_VERSION, consent_grant
from bookings.models import ServiceRequest
from portal.kernel.staff_auth import staff_token_issue
from tests.factories import policyholder_login, staff_member

pytestmark = pytest.mark.django_db

SECOND_OPINION = "pingan.health.second_opinion"  # asks for 诊断资料 and 门诊病历
OUTPATIENT = "pingan.health.outpatient_assist"  # asks for no records
CONSENT = "/privacy/consent/"


@pytest.fixture
def policy():
    return policy_with_members(
        number="CONSENT-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self"), ("李二", date(1986, 2, 2), "spouse")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000081"},
    )


@pytest.fixture
def holder_client(client, policy):
    policyholder_login(client, policy.holder)
    return client


def test_the_page_names_the_purpose_the_vendors_and_the_version(holder_client):
    page = holder_client.get(CONSENT)
    assert page.status_code == 200
    text = page.text
    assert "病历、诊断证明" in text and "敏感个人信息" in text
    assert "上海镁信健康科技有限公司" in text  # a vendor of this 平安 product
    assert HEALTH_CONSENT_VERSION in text
    assert "同意处理我的健康信息" in text


def test_agreeing_stores_kind_version_time_channel_and_what_was_shown(holder_client, policy):
    response = holder_client.post(CONSENT, {"action": "grant", "next": "/requests/"})
    assert response.status_code == 302 and response["Location"] == "/requests/"
    record = ConsentRecord.objects.get(person=policy.holder)
    assert (record.kind, record.version, record.channel) == (
        "health_information",
        HEALTH_CONSENT_VERSION,
        "portal",
    )
    assert record.granted_at is not None and record.withdrawn_at is None
    assert "上海镁信健康科技有限公司" in record.recipients
    assert "病历" in record.purpose
    page = holder_client.get(CONSENT)
    assert "您已于" in page.text and "撤回同意" in page.text


def test_an_offsite_next_is_ignored(holder_client):
    response = holder_client.post(CONSENT, {"action": "grant", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_withdrawing_records_the_time_and_the_page_says_so(holder_client, policy):
    consent_grant(policy.holder, channel="portal")
    response = holder_client.post(CONSENT, {"action": "withdraw"})
    assert response["Location"] == CONSENT
    record = ConsentRecord.objects.get(person=policy.holder)
    assert record.withdrawn_at is not None
    page = holder_client.get(CONSENT)
    assert "撤回同意" in page.text and "暂不能申请" in page.text
    assert "同意处理我的健康信息" in page.text  # they can agree again


def test_agreeing_again_after_a_withdrawal_is_a_new_record(holder_client, policy):
    consent_grant(policy.holder, channel="portal")
    holder_client.post(CONSENT, {"action": "withdraw"})
    holder_client.post(CONSENT, {"action": "grant"})
    records = list(ConsentRecord.objects.filter(person=policy.holder).order_by("id"))
    assert [r.withdrawn_at is None for r in records] == [False, True]


def form_url(policy, benefit: str) -> str:
    return reverse("portal:request_new", args=[policy.members.get(ref="M1").pk, benefit])


def second_opinion_post(holder_client, policy, button: str = "submit"):
    diagnosed = (timezone.localdate() - timedelta(days=3)).isoformat()
    return holder_client.post(
        form_url(policy, SECOND_OPINION),
        {
            "submission_key": "c1",
            "disease": "肺癌",
            "confirmed": "1",
            "diagnosed_on": diagnosed,
            button: "1",
        },
    )


def test_after_a_withdrawal_a_service_needing_records_is_refused_on_the_form(holder_client, policy):
    consent_grant(policy.holder, channel="portal")
    holder_client.post(CONSENT, {"action": "withdraw"})
    page = holder_client.get(form_url(policy, SECOND_OPINION))
    assert "王一已撤回处理健康信息的同意" in page.text  # said before anything is typed
    page = second_opinion_post(holder_client, policy)
    assert page.status_code == 200
    assert "王一已撤回处理健康信息的同意" in page.text
    assert not ServiceRequest.objects.exists()
    # checking does not say "符合申请条件" when submitting would be refused
    checked = second_opinion_post(holder_client, policy, button="check")
    assert "王一已撤回处理健康信息的同意" in str(checked.context["form"].non_field_errors())
    assert "符合申请条件" not in checked.text


def test_with_consent_the_same_request_is_submitted(holder_client, policy):
    consent_grant(policy.holder, channel="portal")
    response = second_opinion_post(holder_client, policy)
    assert response.status_code == 302
    assert ServiceRequest.objects.count() == 1


def test_a_withdrawal_leaves_services_without_records_alone(holder_client, policy):
    consent_grant(policy.holder, channel="portal")
    holder_client.post(CONSENT, {"action": "withdraw"})
    page = holder_client.get(form_url(policy, OUTPATIENT))
    assert "撤回处理健康信息" not in page.text
    response = holder_client.post(
        form_url(policy, OUTPATIENT), {"submission_key": "o1", "region": "上海市", "submit": "1"}
    )
    assert response.status_code == 302


def test_a_family_members_own_withdrawal_blocks_requests_for_them(holder_client, policy):
    spouse = policy.members.get(ref="M2")
    record = consent_grant(spouse.person, channel="portal")
    ConsentRecord.objects.filter(pk=record.pk).update(withdrawn_at=timezone.now())
    url = reverse("portal:request_new", args=[spouse.pk, SECOND_OPINION])
    diagnosed = (timezone.localdate() - timedelta(days=3)).isoformat()
    page = holder_client.post(
        url,
        {
            "submission_key": "s1",
            "disease": "乳腺癌",
            "confirmed": "1",
            "diagnosed_on": diagnosed,
            "submit": "1",
        },
    )
    assert page.status_code == 200
    assert "李二已撤回处理健康信息的同意" in page.text
    assert not ServiceRequest.objects.exists()


def test_the_staff_api_answers_a_structured_consent_withdrawn(client, policy):
    consent_grant(policy.holder, channel="portal")
    ConsentRecord.objects.update(withdrawn_at=timezone.now())
    user = staff_member("operator", ["pingan"])
    _, token = staff_token_issue(user=user, name="热线系统")
    diagnosed = (timezone.localdate() - timedelta(days=3)).isoformat()
    body = {
        "policy": policy.number,
        "member": "M2",  # the spouse: the holder's withdrawal covers the policy they hold
        "benefit": SECOND_OPINION,
        "context": {
            "diagnosis": {"confirmed": True, "diagnosed_on": diagnosed, "disease": "恶性肿瘤"}
        },
        "channel": "hotline",
    }
    response = client.post(
        "/api/staff/v1/requests",
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}", "Idempotency-Key": "consent-1"},
    )
    assert response.status_code == 409
    answer = response.json()
    assert answer["code"] == "consent_withdrawn"
    assert "王一已撤回处理健康信息的同意" in answer["message"]
    assert not ServiceRequest.objects.exists()


def test_the_consent_page_costs_a_fixed_number_of_queries(
    holder_client, policy, django_assert_max_num_queries
):
    consent_grant(policy.holder, channel="portal")
    # session, user, account, the consent, the vendors of the person's products, the
    # records consents of the person's requests (withdrawn per request)
    with django_assert_max_num_queries(6):
        assert holder_client.get(CONSENT).status_code == 200


def test_visitors_are_sent_to_log_in(client):
    response = client.get(CONSENT)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
