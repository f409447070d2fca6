"""The vendor API as a vendor uses it: take an assigned request to completion, see only its
own requests and only the personal data the service needs, retry POSTs safely, and get a
stable code for every refusal."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pypdf import PdfWriter

from benefits.demo import policy_with_members
from benefits.eligibility.facts import DiagnosisInput, StayInput
from benefits.models import Benefit, QuotaBalance, Vendor
from bookings import idempotency
from bookings.documents.services import document_add
from bookings.idempotency import request_fingerprint
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import (
    Consumption,
    Document,
    DocumentAccess,
    IdempotentResponse,
    Milestone,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    Status,
)
from bookings.vendors.api import vendor_throttle
from bookings.vendors.services import vendor_token_issue, vendor_token_revoke
from portal.kernel.actor import Actor
from tests.clock import at
from tests.factories import outpatient_request

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")
BASE = "/api/vendor/v1"
PHONE = "13800138000"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # The throttle counts in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def vendor_a() -> Vendor:
    # The vendor of 平安 门诊协助 in the catalogue.
    return Vendor.objects.get(code="pingan_team")


@pytest.fixture
def vendor_b() -> Vendor:
    # A backup vendor of 平安 门诊协助, so each vendor can hold requests the other must not see.
    vendor = Vendor.objects.get(code="fuli")
    Benefit.objects.get(code="pingan.health.outpatient_assist").backup_vendors.add(vendor)
    return vendor


@pytest.fixture
def token_a(vendor_a) -> str:
    return vendor_token_issue(vendor=vendor_a, name="平安服务团队系统")[1]


@pytest.fixture
def token_b(vendor_b) -> str:
    return vendor_token_issue(vendor=vendor_b, name="抚理系统")[1]


def assigned_request(number: str, vendor: Vendor) -> ServiceRequest:
    """A 平安 门诊协助 request, approved and assigned to ``vendor``."""
    request = outpatient_request(
        number=number,
        at=at(2026, 3, 2, 10),
        actor=OPS,
        born=date(1985, 6, 15),
        phone=PHONE,
        planned_at=at(2026, 3, 10, 9),
        hospital="复旦大学附属华山医院",
    )
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=vendor)
    request.refresh_from_db()
    return request


def get(client, token: str, path: str, **params):
    return client.get(BASE + path, params, headers={"authorization": f"Bearer {token}"})


def post(client, token: str, path: str, body: dict, key: str):
    return client.post(
        BASE + path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def upload(client, token: str, ref: str, content: bytes, key: str, name: str = "二诊报告.pdf"):
    return client.post(
        f"{BASE}/requests/{ref}/deliverables",
        data={
            "file": SimpleUploadedFile(name, content, "application/pdf"),
            "requirement": "二诊报告",
        },
        headers={"authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def remaining(request: ServiceRequest, measure: str = "times") -> Decimal:
    balance = QuotaBalance.objects.get(
        policy=request.policy, benefit=request.benefit, measure=measure
    )
    return balance.remaining


# --- the whole job ------------------------------------------------------------------------


def test_a_vendor_takes_an_assigned_request_through_to_completion_with_a_report(
    client, vendor_a, token_a
):
    # given
    request = assigned_request("PA-VAPI-1", vendor_a)
    ref = request.ref

    # when: the vendor finds the new assignment and reads it
    listed = get(client, token_a, "/requests", state="assigned")
    detail = get(client, token_a, f"/requests/{ref}")

    # then
    assert [item["ref"] for item in listed.json()["items"]] == [ref]
    body = detail.json()
    assert body["state"] == "assigned"
    assert body["recipient"]["phone"] == PHONE  # the vendor must call the client
    assert body["next_events"] == [
        "contacted",
        "plan_confirmed",
        "scheduled",
        "in_service",
        "completed",
        "failed",
    ]

    # when: it reports each step, uploads the report and completes
    steps = [
        ({"event": "contacted"}, "assigned"),
        (
            {"event": "scheduled", "at": "2026-03-10T09:30:00", "place": "华山医院门诊楼"},
            "scheduled",
        ),
        ({"event": "in_service"}, "in_service"),
    ]
    for number, (event, state) in enumerate(steps):
        response = post(client, token_a, f"/requests/{ref}/events", event, key=f"step-{number}")
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == state
    uploaded = upload(client, token_a, ref, pdf(), key="report-1")
    completed = post(client, token_a, f"/requests/{ref}/events", {"event": "completed"}, "done")

    # then
    assert uploaded.status_code == 201
    assert completed.status_code == 200
    assert completed.json()["state"] == "completed"
    assert completed.json()["quota"] == "used"
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.quota_outcome == QuotaOutcome.USED
    assert remaining(request) == 0
    assert request.scheduled_at == at(2026, 3, 10, 9, 30)  # no offset sent: Beijing time
    assert request.place == "华山医院门诊楼"
    events = list(request.events.values_list("event", "actor_label"))
    assert events[-5:] == [
        ("contacted", "vendor:pingan_team"),
        ("scheduled", "vendor:pingan_team"),
        ("in_service", "vendor:pingan_team"),
        ("document_added", "vendor:pingan_team"),  # the report, a row on the timeline
        ("completed", "vendor:pingan_team"),
    ]
    report = Document.objects.get(request=request)
    assert (report.from_vendor, report.requirement, report.display_name) == (
        True,
        "二诊报告",
        "二诊报告.pdf",
    )
    after = get(client, token_a, f"/requests/{ref}").json()
    assert after["scheduled_at"] == "2026-03-10T09:30:00+08:00"
    assert [d["name"] for d in after["documents"]] == ["二诊报告.pdf"]
    assert [e["event"] for e in after["timeline"]][-5:] == [
        "contacted",
        "scheduled",
        "in_service",
        "document_added",
        "completed",
    ]
    # the policyholder's rating stays with the insurer: not on the vendor's timeline
    from bookings.lifecycle.rating import request_rate
    from portal.kernel.actor import Actor

    request_rate(request, stars=2, comment="迟到", actor=Actor(label="policyholder"))
    rated = get(client, token_a, f"/requests/{ref}").json()
    assert [e["event"] for e in rated["timeline"]] == [e["event"] for e in after["timeline"]]
    assert "迟到" not in str(rated)
    assert after["next_events"] == []


def test_a_vendor_failure_returns_the_quota(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-FAIL", vendor_a)

    response = post(
        client,
        token_a,
        f"/requests/{request.ref}/events",
        {"event": "failed", "reason": "指定专家停诊，无法安排"},
        key="fail-1",
    )

    assert response.status_code == 200
    assert response.json()["state"] == "failed"
    assert response.json()["quota"] == "released"
    request.refresh_from_db()
    assert request.outcome_reason == "指定专家停诊，无法安排"
    assert remaining(request) == 1


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ({"event": "contacted"}, "assigned"),
        ({"event": "plan_confirmed", "reason": "方案：华山医院神经内科专家门诊"}, "assigned"),
        ({"event": "scheduled", "at": "2026-03-10T09:00:00+08:00"}, "scheduled"),
        ({"event": "in_service"}, "in_service"),
        ({"event": "completed"}, "completed"),
        ({"event": "failed", "reason": "客户联系不上"}, "failed"),
    ],
)
def test_every_vendor_event_is_applied_and_recorded_once(client, vendor_a, token_a, body, state):
    request = assigned_request(f"PA-VAPI-EV-{body['event']}", vendor_a)

    response = post(client, token_a, f"/requests/{request.ref}/events", body, key="k1")

    assert response.status_code == 200
    assert response.json()["state"] == state
    recorded = RequestEvent.objects.filter(request=request, event=body["event"]).get()
    assert recorded.actor_label == "vendor:pingan_team"
    assert recorded.reason == body.get("reason", "")


def test_an_event_the_state_does_not_allow_is_a_conflict_with_a_chinese_message(
    client, vendor_a, token_a
):
    request = assigned_request("PA-VAPI-409", vendor_a)
    post(client, token_a, f"/requests/{request.ref}/events", {"event": "completed"}, key="c1")

    response = post(
        client, token_a, f"/requests/{request.ref}/events", {"event": "in_service"}, "c2"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["message"] == "申请当前状态为“已完成”，不能服务开始"


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("events", {"event": "approved"}, "body.payload.event"),
        ("events", {"event": "scheduled", "at": "下周二上午"}, "body.payload.at"),
        ("events", {"event": "scheduled"}, None),
        ("events", {"event": "failed", "reason": "  "}, None),
        ("consumption", {"measure": "hours", "amount": "3"}, "body.payload.measure"),
        ("consumption", {"measure": "days", "amount": "-1"}, "body.payload.amount"),
    ],
)
def test_bad_input_is_refused_with_422_and_nothing_changes(
    client, vendor_a, token_a, path, body, field
):
    request = assigned_request("PA-VAPI-BAD", vendor_a)
    events_before = request.events.count()

    response = post(client, token_a, f"/requests/{request.ref}/{path}", body, key="bad-1")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]
    else:
        assert response.json()["message"] in (
            "预约事件必须提供预约时间 at",
            "未能提供服务时必须说明原因 reason",
        )
    assert request.events.count() == events_before
    assert not Consumption.objects.filter(request=request).exists()


def test_a_post_without_an_idempotency_key_is_refused(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-NOKEY", vendor_a)

    response = client.post(
        f"{BASE}/requests/{request.ref}/events",
        data=json.dumps({"event": "contacted"}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token_a}"},
    )

    assert response.status_code == 422
    assert "header.Idempotency-Key" in [f["field"] for f in response.json()["fields"]]
    assert not request.events.filter(event="contacted").exists()


# --- isolation ----------------------------------------------------------------------------


def test_a_vendor_never_sees_another_vendors_request(client, vendor_a, vendor_b, token_b):
    theirs = assigned_request("PA-VAPI-ISO-A", vendor_a)
    ours = assigned_request("PA-VAPI-ISO-B", vendor_b)
    document = document_add(theirs, name="病历.pdf", data=pdf(), actor=OPS)

    listed = get(client, token_b, "/requests")
    responses = [
        get(client, token_b, f"/requests/{theirs.ref}"),
        get(client, token_b, f"/requests/{theirs.ref}/documents/{document.pk}"),
        get(client, token_b, f"/requests/{ours.ref}/documents/{document.pk}"),
        post(client, token_b, f"/requests/{theirs.ref}/events", {"event": "contacted"}, "x1"),
        upload(client, token_b, theirs.ref, pdf(), key="x2"),
    ]

    assert [item["ref"] for item in listed.json()["items"]] == [ours.ref]
    # The same answer as for a reference that does not exist: nothing is confirmed.
    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json()["code"] for r in responses} == {"not_found"}
    assert get(client, token_b, "/requests/SRNOSUCHREF1").json() == responses[0].json()
    assert not theirs.events.filter(event="contacted").exists()
    assert not DocumentAccess.objects.exists()
    assert Document.objects.filter(request=theirs).count() == 1


# --- idempotency --------------------------------------------------------------------------


def test_the_same_key_twice_applies_once_and_replays_the_first_answer(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-IDEM", vendor_a)
    body = {"event": "scheduled", "at": "2026-03-10T09:00:00+08:00", "place": "门诊楼"}

    first = post(client, token_a, f"/requests/{request.ref}/events", body, key="retry-me")
    second = post(client, token_a, f"/requests/{request.ref}/events", body, key="retry-me")

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert request.events.filter(event="scheduled").count() == 1
    request.refresh_from_db()
    assert request.changes == 0  # a second "scheduled" would have counted as a change


def test_the_same_key_with_another_body_or_request_is_refused(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-REUSE-1", vendor_a)
    other = assigned_request("PA-VAPI-REUSE-2", vendor_a)
    post(client, token_a, f"/requests/{request.ref}/events", {"event": "contacted"}, key="k")

    other_body = post(
        client, token_a, f"/requests/{request.ref}/events", {"event": "in_service"}, "k"
    )
    other_path = post(client, token_a, f"/requests/{other.ref}/events", {"event": "contacted"}, "k")

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert not request.events.filter(event="in_service").exists()
    assert not other.events.filter(event="contacted").exists()


def test_a_refused_post_is_replayed_as_refused(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-IDEM-409", vendor_a)
    request_transition(request, "cancelled", actor=OPS, reason="客户取消")

    first = post(client, token_a, f"/requests/{request.ref}/events", {"event": "contacted"}, "k")
    second = post(client, token_a, f"/requests/{request.ref}/events", {"event": "contacted"}, "k")

    assert first.status_code == second.status_code == 409
    assert second.json() == first.json()
    assert IdempotentResponse.objects.get(key="k").status_code == 409


def test_a_retry_that_loses_the_race_undoes_its_work_and_answers_like_the_winner(
    client, vendor_a, token_a, monkeypatch
):
    # given: the first attempt committed its answer while this retry was already running
    # (its lookup found nothing), as two concurrent requests do
    request = assigned_request("PA-VAPI-RACE", vendor_a)
    winner = {"ref": request.ref, "state": "assigned", "from": "the first attempt"}
    IdempotentResponse.objects.create(
        vendor=vendor_a,
        key="raced",
        fingerprint=request_fingerprint(
            "POST",
            f"{BASE}/requests/{request.ref}/events",
            {"event": "contacted", "at": None, "place": "", "reason": "", "cause": None},
        ),
        status_code=200,
        body=winner,
    )
    lookups = iter([None])
    real_lookup = idempotency._stored
    monkeypatch.setattr(
        idempotency, "_stored", lambda owner, key: next(lookups, real_lookup(owner, key))
    )

    # when
    response = post(
        client, token_a, f"/requests/{request.ref}/events", {"event": "contacted"}, "raced"
    )

    # then: the unique (vendor, key) refused its answer and rolled back its event
    assert response.status_code == 200
    assert response.json() == winner
    assert not request.events.filter(event="contacted").exists()


def test_an_upload_retried_with_its_key_is_stored_once(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-IDEM-UP", vendor_a)
    content = pdf()

    first = upload(client, token_a, request.ref, content, key="up-1")
    second = upload(client, token_a, request.ref, content, key="up-1")

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert Document.objects.filter(request=request).count() == 1


def test_keys_are_per_vendor(client, vendor_a, vendor_b, token_a, token_b):
    ours = assigned_request("PA-VAPI-KEY-A", vendor_a)
    theirs = assigned_request("PA-VAPI-KEY-B", vendor_b)

    a = post(client, token_a, f"/requests/{ours.ref}/events", {"event": "contacted"}, "same")
    b = post(client, token_b, f"/requests/{theirs.ref}/events", {"event": "contacted"}, "same")

    assert a.status_code == b.status_code == 200
    assert theirs.events.filter(event="contacted").count() == 1


# --- authentication and rate limits ---------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "Bearer ", "Bearer hbv_not-a-real-token", "Basic abc", "hbs_staff"]
)
def test_calls_without_a_valid_token_are_refused(client, header):
    headers = {"authorization": header} if header is not None else {}

    response = client.get(f"{BASE}/requests", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "服务商令牌" in response.json()["message"]


def test_a_revoked_token_stops_working(client, vendor_a):
    token, raw = vendor_token_issue(vendor=vendor_a, name="旧系统")
    assert get(client, raw, "/requests").status_code == 200

    vendor_token_revoke(token=token)

    assert get(client, raw, "/requests").status_code == 401


def test_only_the_digest_and_prefix_of_a_token_are_stored(vendor_a):
    token, raw = vendor_token_issue(vendor=vendor_a, name="系统")

    assert raw.startswith("hbv_") and len(raw) > 40
    assert token.hint == raw[:12]
    assert raw not in (token.digest, token.hint)


def test_a_token_over_its_rate_is_told_to_wait(client, vendor_a, token_a, monkeypatch):
    monkeypatch.setattr(vendor_throttle, "num_requests", 2)

    answers = [get(client, token_a, "/requests") for _ in range(3)]

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2]["Retry-After"]) > 0
    other_token = vendor_token_issue(vendor=vendor_a, name="第二个系统")[1]
    assert get(client, other_token, "/requests").status_code == 200  # counted per token


# --- what the vendor sees ---------------------------------------------------------------------


def test_the_detail_shows_only_what_the_service_needs(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-PII", vendor_a)
    person = request.recipient.person
    # Whatever the benefit's SLA adds, a milestone on the request is shown in Beijing time.
    Milestone.objects.create(
        request=request,
        code="vendor_api_check",
        label="提交报告",
        starts_on="assigned",
        met_by="completed",
        state=Milestone.State.PENDING,
        due_at=at(2026, 3, 20, 18),
    )

    response = get(client, token_a, f"/requests/{request.ref}")

    body = response.json()
    assert body["recipient"] == {
        "name": "王一",
        "phone": PHONE,
        "phone_masked": False,
        "birth_year": 1985,
    }
    assert (body["hospital"], body["region"]) == ("复旦大学附属华山医院", "上海市")
    assert body["planned_at"] == "2026-03-10T09:00:00+08:00"
    assert {
        "code": "vendor_api_check",
        "label": "提交报告",
        "state": "pending",
        "due_at": "2026-03-20T18:00:00+08:00",
        "provisional": False,
        "met_at": None,
    } in body["milestones"]
    text = response.content.decode()
    assert person.id_number not in text
    assert person.id_masked not in text
    assert "1985-06-15" not in text
    assert request.policy.number not in text


def test_the_phone_is_masked_once_the_service_is_over(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-MASK", vendor_a)
    post(client, token_a, f"/requests/{request.ref}/events", {"event": "completed"}, key="c")

    recipient = get(client, token_a, f"/requests/{request.ref}").json()["recipient"]

    assert recipient["phone"] == "138****8000"
    assert recipient["phone_masked"] is True


def test_downloading_a_record_serves_it_as_an_attachment_and_logs_the_access(
    client, vendor_a, token_a
):
    request = assigned_request("PA-VAPI-DOC", vendor_a)
    content = pdf()
    document = document_add(request, name="门诊病历.pdf", data=content, actor=OPS)
    listed = get(client, token_a, f"/requests/{request.ref}").json()["documents"]

    response = get(client, token_a, f"/requests/{request.ref}/documents/{document.pk}")

    assert listed == [
        {
            "id": document.pk,
            "name": "门诊病历.pdf",
            "type": "application/pdf",
            "size": len(content),
            "requirement": "",
            "from_vendor": False,
            "flags": [],
            "uploaded_at": listed[0]["uploaded_at"],
        }
    ]
    assert document.storage_name not in json.dumps(listed)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    access = DocumentAccess.objects.get(document=document)
    assert (access.actor_label, access.purpose) == ("vendor:pingan_team", "download")


# --- consumption ------------------------------------------------------------------------------


def test_completion_uses_only_the_carer_days_the_vendor_reports(client, vendor_b, token_b):
    # given: 10 of 30 carer days held (中宏 特定疾病住院护工, vendor 抚理)
    policy = policy_with_members(
        number="DMM-VAPI-CARER",
        product="manulife.dmm",
        members=[("孙五", date(1975, 3, 3), "self")],
        effective_on=date(2026, 1, 2),
        waiting_days=90,
    )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=Benefit.objects.get(code="manulife.dmm.inpatient_carer"),
            at=at(2026, 5, 1, 10),
            amount=Decimal(10),
            stay=StayInput(admitted_on=date(2026, 4, 30)),
            hospital="北京协和医院",
            diagnosis=DiagnosisInput(confirmed=False, diagnosed_on=date(2026, 4, 20)),
        ),
        actor=OPS,
    )
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=vendor_b)
    path = f"/requests/{request.ref}"

    # when: the carer worked 4 + 3 days
    for number, days in enumerate(("4", "3")):
        recorded = post(
            client,
            token_b,
            f"{path}/consumption",
            {"measure": "days", "amount": days},
            f"d{number}",
        )
        assert recorded.status_code == 201
    completed = post(client, token_b, f"{path}/events", {"event": "completed"}, key="done")

    # then: 7 days used, 3 returned, and the request counts as one of the two a year
    assert completed.json()["quota"] == "used"
    days = QuotaBalance.objects.get(policy=policy, measure="days")
    assert (days.granted, days.held, days.used) == (30, 0, 7)
    requests = QuotaBalance.objects.get(policy=policy, measure="requests")
    assert (requests.held, requests.used) == (0, 1)
    assert get(client, token_b, f"{path}").json()["state"] == "completed"


def test_consumption_after_completion_is_refused(client, vendor_a, token_a):
    request = assigned_request("PA-VAPI-LATE", vendor_a)
    post(client, token_a, f"/requests/{request.ref}/events", {"event": "completed"}, key="c")

    response = post(
        client,
        token_a,
        f"/requests/{request.ref}/consumption",
        {"measure": "times", "amount": "1"},
        key="late",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert not Consumption.objects.filter(request=request).exists()


# --- the list ---------------------------------------------------------------------------------


def test_the_list_pages_with_a_cursor_and_filters_by_change_time(client, vendor_a, token_a):
    refs = [assigned_request(f"PA-VAPI-PAGE-{n}", vendor_a).ref for n in range(3)]
    since = timezone.now()
    request_transition(ServiceRequest.objects.get(ref=refs[0]), "contacted", actor=OPS)

    page_1 = get(client, token_a, "/requests", limit=2).json()
    page_2 = get(client, token_a, "/requests", limit=2, cursor=page_1["next_cursor"]).json()
    changed = get(client, token_a, "/requests", updated_since=since.isoformat()).json()
    bad_cursor = get(client, token_a, "/requests", cursor="not-a-cursor")

    # refs[0] changed last (its first contact), so it now comes last.
    assert [i["ref"] for i in page_1["items"] + page_2["items"]] == [refs[1], refs[2], refs[0]]
    assert page_2["next_cursor"] is None
    assert [i["ref"] for i in changed["items"]] == [refs[0]]
    assert bad_cursor.status_code == 422 and bad_cursor.json()["code"] == "invalid_input"


def test_an_odd_offset_in_updated_since_is_read_in_beijing_time_not_a_500(
    client, vendor_a, token_a
):
    # found by schemathesis on PostgreSQL, which takes offsets up to ±15:59 only
    ref = assigned_request("PA-VAPI-TZ-1", vendor_a).ref
    odd = get(client, token_a, "/requests", updated_since="2000-01-01T00:00:00-23:13")
    assert odd.status_code == 200 and [i["ref"] for i in odd.json()["items"]] == [ref]
    beyond = get(client, token_a, "/requests", updated_since="9999-12-31T23:59:59-23:00")
    assert beyond.status_code == 422 and beyond.json()["code"] == "invalid_input"


@pytest.mark.parametrize("count", [1, 20])
def test_the_list_costs_the_same_queries_for_1_and_20_requests(
    client, vendor_a, token_a, django_assert_num_queries, count
):
    for number in range(count):
        assigned_request(f"PA-VAPI-Q{count}-{number}", vendor_a)
    get(client, token_a, "/requests")  # records the token's last use (once a minute)

    # the token with its vendor; one page of requests with benefit and region
    with django_assert_num_queries(2):
        response = get(client, token_a, "/requests", limit=50)

    assert len(response.json()["items"]) == count


# --- admin ------------------------------------------------------------------------------------


def test_admin_issues_a_token_shown_once_that_then_works(client, superuser, vendor_a):
    client.force_login(superuser)

    response = client.post(
        "/admin/bookings/vendortoken/add/",
        {"vendor": vendor_a.pk, "name": "平安服务团队系统"},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for m in shown for word in m.split("：") if word.startswith("hbv_"))
    token = vendor_a.tokens.get()
    assert token.hint == raw[:12] and raw not in (token.digest, token.hint)
    # Only once: the token's own page shows the prefix, never the secret.
    page = client.get(f"/admin/bookings/vendortoken/{token.pk}/change/").content.decode()
    assert token.hint in page and raw not in page
    assert get(Client(), raw, "/requests").status_code == 200


def test_a_vendor_reports_force_majeure_and_the_timeline_names_the_cause(client, vendor_a, token_a):
    # 门诊协助 keeps the use under force majeure (force_majeure_keeps_quota, the default)
    request = assigned_request("PA-VAPI-FM", vendor_a)
    body = {"event": "failed", "reason": "台风停诊", "cause": "force_majeure"}

    wrong = post(
        client,
        token_a,
        f"/requests/{request.ref}/events",
        {"event": "failed", "reason": "x", "cause": "member"},
        key="fm-0",
    )
    response = post(client, token_a, f"/requests/{request.ref}/events", body, key="fm-1")

    # a vendor cannot say the member cancelled: refused before anything changes
    assert (wrong.status_code, wrong.json()["code"]) == (422, "cause_not_allowed")
    assert response.status_code == 200 and response.json()["quota"] == "released"
    timeline = get(client, token_a, f"/requests/{request.ref}").json()["timeline"]
    assert (timeline[-1]["cause"], timeline[-1]["cause_label"]) == ("force_majeure", "不可抗力")
