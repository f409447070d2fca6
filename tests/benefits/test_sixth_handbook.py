"""The sixth handbook (康宁人寿《安心守护医疗保险》, synthetic, benefits/catalogue/handbooks/)
was added as catalogue data only: it loads, the staff API evaluates its rules, the hotline
submits a request for it, and its review gate stops the booking until the hospital said yes."""

from __future__ import annotations

import itertools
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from benefits.models import Benefit, Policy, Product
from bookings.models import RequestEvent, ServiceRequest
from portal.kernel.staff_auth import staff_token_issue
from tests.benefits import eligibility_support as support
from tests.benefits.eligibility_support import ledger, make_policy
from tests.clock import Clock, at
from tests.factories import staff_member

fresh_memos = support.fresh_memos
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_memos")]

PRODUCT = "kangning.anxin"
_keys = itertools.count()


class Staff:
    def __init__(self) -> None:
        self.token = staff_token_issue(user=staff_member("admin"), name="热线")[1]
        self.client = Client()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"authorization": f"Bearer {self.token}", "Idempotency-Key": f"k{next(_keys)}"}
        return self.client.post(
            f"/api/staff/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def ask(self, policy: Policy, benefit: str, when: str, context: dict[str, Any]) -> dict:
        body = {
            "policy": policy.number,
            "member": "M1",
            "benefit": f"{PRODUCT}.{benefit}",
            "at": when,
            "context": context,
        }
        response = self.post("/eligibility", body)
        assert response.status_code == 200, response.content
        return response.json()


def covered_policy(sum_insured: str = "1000000") -> Policy:
    policy = make_policy(PRODUCT)
    Policy.objects.filter(pk=policy.pk).update(sum_insured=Decimal(sum_insured))
    return Policy.objects.get(pk=policy.pk)


def test_it_loads_as_data_with_its_five_services():
    product = Product.objects.get(code=PRODUCT)
    assert product.insurer.code == "kangning"
    codes = set(Benefit.objects.filter(product=product).values_list("code", flat=True))
    assert codes == {
        f"{PRODUCT}.{s}"
        for s in (
            "expert_outpatient",
            "exam_expedite",
            "escort",
            "admission_arrangement",
            "inpatient_advance",
        )
    }


@pytest.mark.parametrize(
    ("case", "sum_insured", "eligible"),
    [("pass", "2000000", True), ("boundary: 100 万", "1000000", True), ("fail", "999999", False)],
)
def test_its_sum_insured_level_decides_through_the_staff_api(case, sum_insured, eligible):
    # 一、2. "本手册服务仅适用于基本保额 100 万元及以上的保单"
    data = Staff().ask(
        covered_policy(sum_insured),
        "expert_outpatient",
        "2026-03-02T10:00:00+08:00",
        {"planned_at": "2026-03-10T10:00:00+08:00"},
    )
    assert data["eligible"] is eligible, (case, data)
    if not eligible:
        assert [r["code"] for r in data["reasons"]] == ["sum_insured_below"]


@pytest.mark.parametrize(
    ("case", "birth", "item", "expect"),
    [
        ("pass", date(1980, 5, 1), "MRI", []),
        ("boundary: 胃镜 at 18", date(2008, 3, 2), "胃镜", []),
        ("fail: 胃镜 at 17", date(2008, 3, 3), "胃镜", ["item_not_on_list"]),
        ("fail: not listed", date(1980, 5, 1), "PET-CT", ["item_not_on_list"]),
    ],
)
def test_its_item_list_and_an_items_own_age(case, birth, item, expect):
    # 三、1. "CT、MRI、胃镜、肠镜。其中无痛胃镜、无痛肠镜限 18 周岁及以上的被保险人"
    policy = make_policy(PRODUCT, members=(support.Insured("M1", birth, "self"),))
    Policy.objects.filter(pk=policy.pk).update(sum_insured=Decimal("1000000"))
    data = Staff().ask(policy, "exam_expedite", "2026-03-02T10:00:00+08:00", {"item": item})
    assert [r["code"] for r in data["reasons"]] == expect, case


def test_its_escort_needs_one_of_two_services_first():
    # 四、1. "使用本手册专家门诊预约或检查加急服务之一时，可申请就医陪诊"
    policy = covered_policy()
    staff = Staff()
    context = {"planned_at": "2026-03-10T10:00:00+08:00"}
    before = staff.ask(policy, "escort", "2026-03-02T10:00:00+08:00", context)
    ledger(policy, f"{PRODUCT}.exam_expedite", on=date(2026, 3, 1))
    after = staff.ask(policy, "escort", "2026-03-02T10:00:00+08:00", context)
    assert [r["code"] for r in before["reasons"]] == ["prerequisite_missing"]
    assert after["eligible"] is True


def test_a_request_is_submitted_and_its_hospital_review_gates_the_booking(monkeypatch):
    # 五、2. "住院床位须经收治医院确认后方可预约入院；医院不同意收治的，本次申请终止，次数返还"
    Clock(monkeypatch, at(2026, 3, 2, 10))
    policy = covered_policy()
    staff = Staff()
    submitted = staff.post(
        "/requests",
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": f"{PRODUCT}.admission_arrangement",
            "context": {},
            "channel": "hotline",
        },
    )
    assert submitted.status_code == 201, submitted.content
    ref = submitted.json()["ref"]
    vendor = Benefit.objects.get(code=f"{PRODUCT}.admission_arrangement").vendor
    for event, extra in (("approve", {}), ("assign", {"vendor": vendor.code})):
        assert staff.post(f"/requests/{ref}/events", {"event": event, **extra}).status_code == 200

    # when the booking is tried before the hospital confirmed the bed
    early = staff.post(
        f"/requests/{ref}/events", {"event": "schedule", "at": "2026-03-09T09:00:00+08:00"}
    )

    # then it is refused, naming the review
    assert early.status_code == 409, early.content
    assert early.json()["code"] == "review_pending"
    assert "收治医院确认床位" in early.json()["message"]

    # and once the hospital said yes (recorded with who and why) the booking goes through
    review = staff.post(
        f"/requests/{ref}/reviews",
        {"gate": "bed_confirmation", "passed": True, "reason": "瑞金医院确认床位"},
    )
    assert review.status_code == 200, review.content
    row = RequestEvent.objects.get(request__ref=ref, event="reviewed")
    assert (row.data["gate"], row.data["by"], row.data["passed"], row.reason) == (
        "bed_confirmation",
        "hospital",
        True,
        "瑞金医院确认床位",
    )
    assert row.actor is not None
    booked = staff.post(
        f"/requests/{ref}/events", {"event": "schedule", "at": "2026-03-09T09:00:00+08:00"}
    )
    assert booked.status_code == 200, booked.content
    timeline = booked.json()["timeline"]
    assert "收治医院确认床位：通过" in [e["label"] for e in timeline]

    # and a decision after the booked step, or on a gate the benefit has not, is refused
    late = staff.post(
        f"/requests/{ref}/reviews",
        {"gate": "bed_confirmation", "passed": False, "reason": "迟到的结论"},
    )
    assert (late.status_code, late.json()["code"]) == (409, "review_closed")
    unknown = staff.post(
        f"/requests/{ref}/reviews", {"gate": "no_such_gate", "passed": True, "reason": "x"}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_input")


def test_a_failed_hospital_review_ends_the_request_and_returns_the_quota(monkeypatch):
    Clock(monkeypatch, at(2026, 3, 2, 10))
    policy = covered_policy()
    staff = Staff()
    submitted = staff.post(
        "/requests",
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": f"{PRODUCT}.admission_arrangement",
            "context": {},
            "channel": "hotline",
        },
    )
    ref = submitted.json()["ref"]

    review = staff.post(
        f"/requests/{ref}/reviews",
        {"gate": "bed_confirmation", "passed": False, "reason": "医院不同意收治"},
    )

    assert review.status_code == 200, review.content
    request = ServiceRequest.objects.get(ref=ref)
    assert (request.status, request.quota_outcome) == ("rejected", "released")
    assert "医院不同意收治" in request.outcome_reason
