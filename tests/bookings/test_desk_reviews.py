"""A review gate's decision and an investigation recorded from the request's own admin page
(bookings.lifecycle.desk): the agent who sees "须先完成审核" clears it where she stands."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from benefits.catalogue.vendors import assignable_vendors
from benefits.demo import policy_with_members
from benefits.eligibility.facts import DiagnosisInput
from benefits.models import Benefit
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import QuotaOutcome, ServiceRequest, Status
from portal.kernel.actor import Actor
from tests.bookings.test_request_desk import buttons, change_url, press, step_url, submitted
from tests.clock import at
from tests.factories import staff_member

pytestmark = pytest.mark.django_db
GATED = "axa.zysh.special_drug_boao"  # 博鳌乐城医院评估 before 审核通过
GATE = "boao_hospital_assessment"


def gated_request(number: str = "AXA-DESK-1") -> ServiceRequest:
    """A submitted 安盛 博鳌特药 request: its hospital assessment gates the approval."""
    policy = policy_with_members(
        number=number,
        product="axa.zysh",
        members=[("钱四", date(1970, 7, 7), "self")],
        effective_on=date(2026, 1, 2),
        waiting_days=90,
    )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(),
            benefit=Benefit.objects.get(code=GATED),
            at=at(2026, 6, 1, 10),
            planned_at=at(2026, 6, 20, 9),
            region="琼海市",
            hospital="博鳌超级医院",
            site="博鳌超级医院",
            variant="expert_clinic",
            item="Brigatinib",
            diagnosis=DiagnosisInput(
                confirmed=True,
                diagnosed_on=date(2026, 5, 10),
                first_diagnosed_on=date(2026, 5, 10),
                disease="恶性肿瘤-重度",
            ),
        ),
        actor=Actor(label="insurer:ops"),
    )
    return request


def review_url(request: ServiceRequest) -> str:
    return reverse("admin:bookings_servicerequest_review", args=[request.pk])


def test_acceptance_a_gated_request_goes_from_submitted_to_completed_on_its_own_page(client):
    # given a submitted request whose approval waits for the 博鳌 hospital's assessment
    request = gated_request()
    supervisor = staff_member("supervisor", ["axa"])
    client.force_login(supervisor)
    page = client.get(change_url(request)).text
    assert "记录审核结论" in page
    # when she approves before the assessment is recorded, the form says what is missing
    early = client.post(step_url(request, "approved"), {})
    assert early.status_code == 200 and "须先完成审核：海南博鳌乐城医院评估" in early.text
    # and a review needs its reason, and offers only the benefit's gates
    form = client.get(review_url(request)).text
    assert re.findall(r'<option value="(\w+)"', form) == [GATE]
    missing = client.post(review_url(request), {"gate": GATE, "passed": "yes"})
    assert missing.status_code == 200 and "这个字段是必填项" in missing.text
    foreign = client.post(
        review_url(request), {"gate": "prescription_review", "passed": "yes", "reason": "x"}
    )
    assert "选择一个有效的选项" in foreign.text
    # when she records it on the request's page and works the request to its end
    press(client, request, "记录审核结论", gate=GATE, passed="yes", reason="博鳌超级医院评估适宜")
    assert "记录审核结论" not in client.get(change_url(request)).text  # nothing left to record
    press(client, request, "审核通过")
    vendor = assignable_vendors(request.benefit).first()
    press(client, request, "派单给服务商", vendor=vendor.pk)
    press(client, request, "已预约", at="2026-06-20T09:00", place="博鳌超级医院")
    press(client, request, "服务开始")
    press(client, request, "服务完成", reason="已在博鳌用药")
    # then the request is completed and the review is on its history, under her name
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    review = request.events.get(event="reviewed")
    assert (review.data["gate"], review.data["passed"], review.data["channel"]) == (
        GATE,
        True,
        "admin",
    )
    assert (review.actor, review.reason) == (supervisor, "博鳌超级医院评估适宜")
    assert [e for e in request.events.values_list("event", flat=True)][:3] == [
        "submitted",
        "reviewed",
        "approved",
    ]


def test_a_failed_review_from_the_desk_rejects_the_request_and_returns_the_quota(client):
    request = gated_request("AXA-DESK-NO")
    client.force_login(staff_member("supervisor", ["axa"]))
    client.post(review_url(request), {"gate": GATE, "passed": "no", "reason": "医院评估不适宜"})
    request.refresh_from_db()
    assert (request.status, request.quota_outcome) == (Status.REJECTED, QuotaOutcome.RELEASED)
    assert "医院评估不适宜" in request.outcome_reason


def test_without_the_supervisor_permission_there_is_no_review_button_and_the_url_is_403(client):
    request = gated_request("AXA-DESK-OP")
    client.force_login(staff_member("operator", ["axa"]))
    assert "记录审核结论" not in client.get(change_url(request)).text
    assert client.get(review_url(request)).status_code == 403
    posted = client.post(review_url(request), {"gate": GATE, "passed": "yes", "reason": "x"})
    assert posted.status_code == 403
    assert not request.events.filter(event="reviewed").exists()


def test_another_insurers_request_answers_404_on_the_review_url(client):
    request = gated_request("AXA-DESK-PA")
    client.force_login(staff_member("supervisor", ["pingan"]))
    assert client.get(review_url(request)).status_code == 404
    answer = client.post(review_url(request), {"gate": GATE, "passed": "yes", "reason": "x"})
    assert answer.status_code == 404
    assert not request.events.filter(event="reviewed").exists()


def test_a_request_without_gates_offers_no_review_and_its_url_says_so(client):
    request = submitted("DESK-NOGATE")
    client.force_login(staff_member("supervisor", ["pingan"]))
    assert "记录审核结论" not in client.get(change_url(request)).text
    answer = client.get(review_url(request), follow=True)
    assert "本申请当前没有待记录结论的审核节点" in answer.text


def test_an_investigation_is_a_desk_step_that_keeps_the_status(client):
    request = submitted("DESK-INV")
    client.force_login(staff_member("operator", ["pingan"]))
    assert "开始调查（暂停计时）" in buttons(client.get(change_url(request)).text)
    press(client, request, "开始调查（暂停计时）", reason="涉及调查，核实就诊记录")
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    event = request.events.get(event="investigating")
    assert (event.reason, event.data["channel"]) == ("涉及调查，核实就诊记录", "admin")
