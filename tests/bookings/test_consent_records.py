"""The consent to provide a request's records to its vendor (PIPL art. 23): asked on every
submission with the vendors named, stored with version, purpose, time and channel (portal
tick box; hotline: the agent read it out); the vendor opens the member's records only while
it stands, through the vendor API and the workbench alike, and a withdrawal (per request or
all at once on the privacy page) answers 403 ``records_consent_withdrawn`` at once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Vendor
from benefits.policies.consent import consent_grant
from bookings.documents.services import document_add
from bookings.documents.sharing import RECORDS_CONSENT_VERSION
from bookings.lifecycle.services import request_transition
from bookings.models import DocumentAccess, RecordsConsent, RequestEvent, ServiceRequest
from bookings.vendors.services import vendor_token_issue
from portal.kernel.staff_auth import staff_token_issue
from tests.bookings.test_vendor_api import BASE, OPS, pdf
from tests.clock import at
from tests.factories import outpatient_request, policyholder_login, staff_member
from tests.portal.test_vendor_workbench import log_in, vendor_account

pytestmark = pytest.mark.django_db
OUTPATIENT = "pingan.health.outpatient_assist"
CONSENT = "/privacy/consent/"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def vendor() -> Vendor:
    return Vendor.objects.get(code="pingan_team")  # 平安 门诊协助's vendor


@pytest.fixture
def token(vendor) -> str:
    return vendor_token_issue(vendor=vendor, name="平安服务团队系统")[1]


def consented_request(number: str, vendor: Vendor, *, phone: str = "13800000091"):
    """A 平安 门诊协助 request whose member agreed to provide its records, assigned to
    ``vendor``, with one record uploaded."""
    request = outpatient_request(
        number=number,
        at=at(2026, 3, 2, 10),
        actor=OPS,
        born=date(1985, 6, 15),
        phone=phone,
        planned_at=at(2026, 3, 10, 9),
        records_consent_given=True,
    )
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=vendor)
    request.refresh_from_db()
    document = document_add(request, name="门诊病历.pdf", data=pdf(), actor=OPS)
    return request, document


def api_download(client, token: str, request, document):
    return _read(
        client.get(
            f"{BASE}/requests/{request.ref}/documents/{document.pk}",
            headers={"authorization": f"Bearer {token}"},
        )
    )


def workbench_download(client, request, document):
    return _read(client.get(reverse("vendor:document_file", args=[request.ref, document.pk])))


def _read(response):
    """The response with a file's bytes read to the end, as a server would: the test client
    then closes it (ending the request's context: its request id must not leak into the next
    test's log lines). Closing it by hand would close the test's database connection too."""
    if response.streaming:
        response.body = b"".join(response.streaming_content)
    return response


def withdraw_on_privacy_page(client, request, *, ref: str | None = None):
    policyholder_login(client, request.policy.holder)
    data = {"action": "withdraw_records", "ref": ref or request.ref}
    return client.post(CONSENT, data)


def test_the_portal_form_names_the_benefits_vendor_and_stores_the_ticked_consent(client):
    # given a policyholder on the request form for 门诊协助
    policy = policy_with_members(
        number="RC-FORM",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000092"},
    )
    policyholder_login(client, policy.holder)
    url = reverse("portal:request_new", args=[policy.members.get(ref="M1").pk, OUTPATIENT])
    form = client.get(url).text
    assert Vendor.objects.get(code="pingan_team").name in form
    assert "保险公司为该权益指派的服务商" in form
    box = form[form.index('name="records_consent"') - 120 :][:240]
    assert "checked" not in box  # never ticked in advance
    # when they submit with the box ticked
    planned = (timezone.localtime() + timedelta(days=3)).replace(hour=9, minute=0)
    response = client.post(
        url,
        {
            "submission_key": "rc-1",
            "planned_at": planned.strftime("%Y-%m-%dT%H:%M"),
            "region": "上海市",
            "hospital": "复旦大学附属华山医院",
            "records_consent": "on",
            "submit": "1",
        },
    )
    # then the consent is stored with what was shown, the time and the channel
    assert response.status_code == 302, response.content.decode()[:2000]
    request = ServiceRequest.objects.get()
    consent = RecordsConsent.objects.get(request=request)
    assert (consent.version, consent.channel, consent.given) == (
        RECORDS_CONSENT_VERSION,
        "portal",
        True,
    )
    assert consent.person == request.recipient.person
    assert Vendor.objects.get(code="pingan_team").name in consent.recipients
    assert "门诊协助" in consent.purpose and consent.answered_at is not None
    assert RequestEvent.objects.filter(request=request, event="records_consent_given").exists()


def test_a_hotline_request_records_that_the_agent_read_the_consent_out(client):
    policy = policy_with_members(
        number="RC-HOTLINE",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000093"},
    )
    _, token = staff_token_issue(user=staff_member("operator", ["pingan"]), name="热线系统")
    planned = (timezone.localtime() + timedelta(days=3)).replace(hour=9, minute=0)
    body = {
        "policy": policy.number,
        "member": "M1",
        "benefit": OUTPATIENT,
        "context": {"planned_at": planned.isoformat(), "region": "上海市"},
        "channel": "hotline",
        "records_consent_read_out": True,
    }
    response = client.post(
        "/api/staff/v1/requests",
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}", "Idempotency-Key": "rc-hotline"},
    )
    assert response.status_code == 201, response.content
    consent = RecordsConsent.objects.get(request__ref=response.json()["ref"])
    assert (consent.channel, consent.read_out, consent.given) == ("hotline", True, True)
    assert consent.recorded_by is not None


def test_with_the_consent_standing_the_vendor_opens_the_record(client, vendor, token):
    request, document = consented_request("RC-OK", vendor)

    response = api_download(client, token, request, document)

    assert response.status_code == 200
    assert response.body.startswith(b"%PDF")


def test_after_a_withdrawal_the_vendor_api_answers_403_records_consent_withdrawn(
    client, vendor, token
):
    # given a request the vendor could open, and the member withdraws on the privacy page
    request, document = consented_request("RC-API", vendor)
    assert api_download(client, token, request, document).status_code == 200
    response = withdraw_on_privacy_page(client, request)
    assert response.status_code == 302
    # when the vendor asks for the record again
    client.logout()
    refused = api_download(client, token, request, document)
    # then it is refused at once, with a stable code, and nothing more is logged as opened
    assert refused.status_code == 403
    assert refused.json()["code"] == "records_consent_withdrawn"
    assert "撤回" in refused.json()["message"]
    consent = RecordsConsent.objects.get(request=request)
    assert consent.withdrawn_at is not None
    assert DocumentAccess.objects.filter(document=document).count() == 1
    assert RequestEvent.objects.filter(request=request, event="records_consent_withdrawn").exists()


def test_after_a_withdrawal_the_workbench_answers_403_too(client, vendor):
    request, document = consented_request("RC-BENCH", vendor)
    bench = client.__class__()
    log_in(bench, vendor_account(vendor))
    assert workbench_download(bench, request, document).status_code == 200

    withdraw_on_privacy_page(client, request)
    refused = workbench_download(bench, request, document)

    assert refused.status_code == 403
    assert refused["X-Error-Code"] == "records_consent_withdrawn"
    assert "撤回" in refused.content.decode()


def test_withdrawing_health_consent_on_the_privacy_page_ends_every_records_consent(
    client, vendor, token
):
    request, document = consented_request("RC-GLOBAL", vendor)
    consent_grant(request.policy.holder, channel="portal")
    policyholder_login(client, request.policy.holder)

    client.post(CONSENT, {"action": "withdraw"})

    assert RecordsConsent.objects.get(request=request).withdrawn_at is not None
    client.logout()
    assert api_download(client, token, request, document).status_code == 403


def test_a_request_submitted_with_the_box_unticked_keeps_its_records_from_the_vendor(
    client, vendor, token
):
    request, document = consented_request("RC-NO", vendor)
    RecordsConsent.objects.filter(request=request).update(given=False)

    assert api_download(client, token, request, document).status_code == 403


def test_the_vendors_own_report_stays_open_to_it_after_a_withdrawal(client, vendor, token):
    request, _record = consented_request("RC-OWN", vendor)
    report = document_add(request, name="二诊报告.pdf", data=pdf(), actor=OPS, from_vendor=True)
    withdraw_on_privacy_page(client, request)
    client.logout()

    assert api_download(client, token, request, report).status_code == 200


def test_a_policyholder_cannot_withdraw_someone_elses_request(client, vendor, token):
    request, document = consented_request("RC-THEIRS", vendor)
    stranger = policy_with_members(
        number="RC-STRANGER",
        product="pingan.health",
        members=[("赵四", date(1980, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000094"},
    )
    policyholder_login(client, stranger.holder)

    client.post(CONSENT, {"action": "withdraw_records", "ref": request.ref})

    assert RecordsConsent.objects.get(request=request).withdrawn_at is None
    client.logout()
    assert api_download(client, token, request, document).status_code == 200


def test_the_privacy_page_lists_the_standing_consents_with_a_withdraw_button(client, vendor):
    request, _document = consented_request("RC-LIST", vendor)
    policyholder_login(client, request.policy.holder)

    page = client.get(CONSENT).text

    assert request.ref in page and 'value="withdraw_records"' in page


def test_staff_see_the_answer_and_its_withdrawal_on_the_requests_admin_page(client, vendor):
    request, _document = consented_request("RC-ADMIN", vendor)
    withdraw_on_privacy_page(client, request)
    client.logout()
    client.force_login(staff_member("operator", ["pingan"]))

    page = client.get(reverse("admin:bookings_servicerequest_change", args=[request.pk])).text

    assert "资料提供同意" in page
    assert "撤回向服务商提供资料的同意" in page  # the timeline row


def test_after_a_withdrawal_the_member_s_records_are_not_even_listed_to_the_vendor(
    client, vendor, token
):
    request, record = consented_request("RC-LISTED", vendor)
    report = document_add(request, name="二诊报告.pdf", data=pdf(), actor=OPS, from_vendor=True)
    detail = f"{BASE}/requests/{request.ref}"
    auth = {"authorization": f"Bearer {token}"}
    assert {d["id"] for d in client.get(detail, headers=auth).json()["documents"]} == {
        record.pk,
        report.pk,
    }

    withdraw_on_privacy_page(client, request)
    client.logout()
    listed = client.get(detail, headers=auth).json()["documents"]

    assert [d["id"] for d in listed] == [report.pk]


def test_a_member_who_withdrew_can_agree_again_while_the_request_is_open(client, vendor, token):
    request, document = consented_request("RC-AGAIN", vendor)
    withdraw_on_privacy_page(client, request)
    page = client.get(CONSENT).text
    assert 'value="grant_records"' in page

    client.post(CONSENT, {"action": "grant_records", "ref": request.ref})

    latest = RecordsConsent.objects.filter(request=request).order_by("-answered_at", "-id")[0]
    assert latest.standing and latest.channel == "portal"
    assert RecordsConsent.objects.filter(request=request).count() == 2  # the history stays
    client.logout()
    assert api_download(client, token, request, document).status_code == 200
