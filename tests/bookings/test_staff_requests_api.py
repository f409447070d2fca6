"""The staff request API as a hotline agent uses it: submit for a caller with the quota held,
refusals with every reason in Chinese, safe retries, another insurer's data as 404, the
主管's permissions to assign and reject, completion and cancellation moving the quota as the
terms say, and a read-back with timeline and milestones but no full phone."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Policy, QuotaBalance
from bookings.models import IdempotentResponse, QuotaOutcome, ServiceRequest, Status
from portal.kernel.staff_auth import staff_token_issue
from tests.factories import OUTPATIENT_ASSIST, staff_member

pytestmark = pytest.mark.django_db
BASE = "/api/staff/v1/requests"
PHONE = "13800000111"


def family(number: str, *, effective_on: date | None = None) -> Policy:
    """A 平安 family policy (holder M1 with ``PHONE``, spouse M2), by default in force for
    well over the 30 waiting days."""
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self"), ("李二", date(1986, 2, 2), "spouse")],
        effective_on=effective_on or timezone.localdate() - timedelta(days=60),
        phones={0: PHONE},
    )


class Agent:
    """A staff user calling the API with a Bearer token of their own."""

    def __init__(self, role: str, insurers: list[str]):
        self.user = staff_member(role, insurers)
        self.token = staff_token_issue(user=self.user, name="热线系统")[1]
        self.client = Client()

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path: str, body: dict[str, Any], key: str) -> Any:
        return self.client.post(
            BASE + path,
            json.dumps(body),
            content_type="application/json",
            headers=self.headers(key),
        )

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, headers=self.headers())

    def submit(self, policy: Policy, key: str, **fields: Any) -> Any:
        body = {
            "policy": policy.number,
            "member": "M1",
            "benefit": OUTPATIENT_ASSIST,
            "context": {"region": "上海市"},
            "channel": "hotline",
            **fields,
        }
        return self.post("", body, key)

    def event(self, ref: str, key: str, event: str, **fields: Any) -> Any:
        return self.post(f"/{ref}/events", {"event": event, **fields}, key)


@pytest.fixture
def operator() -> Agent:
    return Agent("operator", ["pingan"])


@pytest.fixture
def supervisor() -> Agent:
    return Agent("supervisor", ["pingan"])


def held(policy: Policy) -> tuple[Decimal, Decimal]:
    balance = QuotaBalance.objects.get(policy=policy, benefit__code=OUTPATIENT_ASSIST)
    return balance.held, balance.used


# --- submit -------------------------------------------------------------------------------


def test_a_hotline_agent_submits_for_a_caller_and_the_quota_is_held(operator):
    # given a caller's policy of 平安
    policy = family("STAFF-API-SUBMIT")
    # when the agent submits 门诊协助 for the insured over the hotline
    response = operator.submit(policy, "k1", note="来电客户要求下周就诊")
    # then the request exists with its quota held, its milestones running and the channel
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["quota_outcome"]) == ("submitted", "held")
    assert [e["kind"] for e in body["quota"]["entries"]] == ["hold"]
    assert body["milestones"] and all(m["state"] for m in body["milestones"])
    assert any(m["due_at"] for m in body["milestones"])
    first = body["timeline"][0]
    assert first["actor"] == f"staff:{operator.user.username}"
    assert (first["event"], first["label"], first["channel"]) == (
        "submitted",
        "提交申请",
        "hotline",
    )
    assert body["channel"] == "hotline"
    stored = ServiceRequest.objects.get(ref=body["ref"])
    assert stored.submitted_by == operator.user and stored.context["channel"] == "hotline"
    assert held(policy) == (1, 0)


def test_an_ineligible_submit_is_422_not_eligible_with_every_reason_in_chinese(operator):
    # given a policy still inside its 30-day waiting period
    policy = family("STAFF-API-WAIT", effective_on=timezone.localdate() - timedelta(days=3))
    # when the agent submits
    response = operator.submit(policy, "k1")
    # then it is refused with the engine's reasons, and nothing is held
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "not_eligible"
    codes = {reason["code"] for reason in body["reasons"]}
    assert "waiting_period" in codes
    assert all("等待期" in r["message"] for r in body["reasons"] if r["code"] == "waiting_period")
    assert not ServiceRequest.objects.filter(policy=policy).exists()


def test_the_same_key_replays_the_first_answer_and_another_body_is_refused(operator):
    policy = family("STAFF-API-IDEM")
    first = operator.submit(policy, "same-key")
    # when the agent's system retries, then sends another body with the same key
    again = operator.submit(policy, "same-key")
    other = operator.submit(policy, "same-key", note="另一个申请")
    # then one request, the first answer replayed, and the reuse refused
    assert first.status_code == again.status_code == 201
    assert again.json()["ref"] == first.json()["ref"]
    assert again["Idempotent-Replayed"] == "true"
    assert ServiceRequest.objects.filter(policy=policy).count() == 1
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    stored = IdempotentResponse.objects.get(key="same-key")
    assert (stored.staff_user, stored.vendor) == (operator.user, None)


def test_another_agents_key_is_their_own(operator):
    # the same key from two agents is two operations (keys are per staff user)
    other = Agent("operator", ["pingan"])
    first = operator.submit(family("STAFF-API-KEYS-1"), "k")
    second = other.submit(family("STAFF-API-KEYS-2"), "k")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["ref"] != second.json()["ref"]


def test_an_operator_of_another_insurer_gets_404_for_the_policy_and_the_request(operator):
    policy = family("STAFF-API-TENANT")
    ref = operator.submit(policy, "k").json()["ref"]
    axa = Agent("operator", ["axa"])
    # when insurer 2's operator submits on the policy, reads and acts on the request
    submitted = axa.submit(policy, "k1")
    read = axa.get(f"/{ref}")
    acted = axa.event(ref, "k2", "approve")
    # then each is "not found", and the request did not move
    assert [r.status_code for r in (submitted, read, acted)] == [404, 404, 404]
    assert {r.json()["code"] for r in (submitted, read, acted)} == {"not_found"}
    assert ServiceRequest.objects.get(ref=ref).status == Status.SUBMITTED


# --- events -------------------------------------------------------------------------------


def approved(agent: Agent, number: str) -> tuple[Policy, str]:
    policy = family(number)
    ref = agent.submit(policy, f"{number}-submit").json()["ref"]
    assert agent.event(ref, f"{number}-approve", "approve").json()["status"] == "approved"
    return policy, ref


def test_an_operator_cannot_assign_and_a_supervisor_can_only_to_a_serving_vendor(
    operator, supervisor
):
    _policy, ref = approved(operator, "STAFF-API-ASSIGN")
    # an operator: 403, nothing changes
    refused = operator.event(ref, "a1", "assign", vendor="pingan_team")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    # a supervisor, to a vendor that does not deliver 门诊协助: refused with the stable code
    wrong = supervisor.event(ref, "a2", "assign", vendor="meixin")
    assert wrong.status_code == 422 and wrong.json()["code"] == "vendor_not_serving"
    # a supervisor, to the benefit's vendor (the insurer's own team)
    done = supervisor.event(ref, "a3", "assign", vendor="pingan_team")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "assigned"
    assert done.json()["vendor"]["code"] == "pingan_team"
    assert done.json()["timeline"][-1]["actor"] == f"staff:{supervisor.user.username}"


def test_an_operator_cannot_reject_and_a_supervisor_rejects_with_a_reason(operator, supervisor):
    policy = family("STAFF-API-REJECT")
    ref = operator.submit(policy, "s").json()["ref"]
    assert operator.event(ref, "r1", "reject", reason="资料不全").status_code == 403
    no_reason = supervisor.event(ref, "r2", "reject")
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "invalid_input"
    rejected = supervisor.event(ref, "r3", "reject", reason="资料不全")
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["quota_outcome"] == "released"
    assert held(policy) == (0, 0)


def test_a_transition_the_table_does_not_allow_is_409(operator):
    ref = operator.submit(family("STAFF-API-409"), "s").json()["ref"]
    started = operator.event(ref, "e1", "start")
    moved = operator.event(ref, "e2", "reschedule", at="2030-01-01T10:00:00+08:00")
    assert (started.status_code, started.json()["code"]) == (409, "transition_not_allowed")
    assert (moved.status_code, moved.json()["code"]) == (409, "transition_not_allowed")


def test_the_team_schedules_starts_and_completes_and_the_quota_is_used(operator, supervisor):
    policy, ref = approved(operator, "STAFF-API-DONE")
    supervisor.event(ref, "a", "assign", vendor="pingan_team")
    when = (timezone.now() + timedelta(days=3)).isoformat()
    later = (timezone.now() + timedelta(days=4)).isoformat()
    scheduled = operator.event(ref, "s1", "schedule", at=when, place="华山医院门诊楼")
    moved = operator.event(ref, "s2", "reschedule", at=later)
    started = operator.event(ref, "s3", "start")
    done = operator.event(ref, "s4", "complete")
    assert [r.json()["status"] for r in (scheduled, moved, started, done)] == [
        "scheduled",
        "scheduled",
        "in_service",
        "completed",
    ]
    assert done.json()["quota_outcome"] == "used"
    assert held(policy) == (0, 1)
    assert ServiceRequest.objects.get(ref=ref).changes == 1


def test_complete_with_consumption_uses_only_what_was_consumed():
    # given 10 carer days held (中宏 特定疾病住院护工, 30 days a year), assigned to 抚理
    today = timezone.localdate()
    policy = policy_with_members(
        number="DMM-STAFF-CARER",
        product="manulife.dmm",
        members=[("孙五", date(1975, 3, 3), "self")],
        effective_on=today - timedelta(days=150),
        waiting_days=90,
    )
    agent = Agent("supervisor", ["manulife"])
    submitted = agent.post(
        "",
        {
            "policy": policy.number,
            "member": "M1",
            "benefit": "manulife.dmm.inpatient_carer",
            "channel": "hotline",
            "context": {
                "amount": "10",
                "hospital": "北京协和医院",
                "hospitalisation": {"admitted_on": (today - timedelta(days=1)).isoformat()},
                "diagnosis": {
                    "confirmed": False,
                    "diagnosed_on": (today - timedelta(days=10)).isoformat(),
                },
            },
        },
        "carer",
    )
    assert submitted.status_code == 201, submitted.json()
    ref = submitted.json()["ref"]
    agent.event(ref, "c1", "approve")
    assert agent.event(ref, "c2", "assign", vendor="fuli").status_code == 200
    # when the team completes it, the carer having worked 4 + 3 days
    done = agent.event(
        ref,
        "c3",
        "complete",
        consumption=[{"measure": "days", "amount": "4"}, {"measure": "days", "amount": "3"}],
    )
    # then 7 days are used and 3 go back
    assert done.status_code == 200, done.json()
    assert done.json()["quota_outcome"] == "used"
    days = QuotaBalance.objects.get(policy=policy, measure="days")
    assert (days.granted, days.held, days.used) == (30, 0, 7)


def test_cancel_releases_before_scheduling_and_uses_after_it_per_the_terms(operator, supervisor):
    # 门诊协助: "counted as used from scheduled" (平安 1.1 特殊事项 1)
    early_policy, early = approved(operator, "STAFF-API-CANCEL-1")
    late_policy, late = approved(operator, "STAFF-API-CANCEL-2")
    for ref in (early, late):
        supervisor.event(ref, f"{ref}-a", "assign", vendor="pingan_team")
    when = (timezone.now() + timedelta(days=3)).isoformat()
    operator.event(late, "late-s", "schedule", at=when)
    # when the caller cancels both
    no_reason = operator.event(early, "c0", "cancel")
    released = operator.event(early, "c1", "cancel", reason="客户来电取消", cause="member")
    used = operator.event(late, "c2", "cancel", reason="客户来电取消", cause="member")
    # then the first goes back, the booked one counts as used
    assert no_reason.status_code == 422
    assert (released.json()["status"], released.json()["quota_outcome"]) == (
        "cancelled",
        QuotaOutcome.RELEASED,
    )
    assert used.json()["quota_outcome"] == QuotaOutcome.USED
    assert held(early_policy) == (0, 0) and held(late_policy) == (0, 1)
    assert released.json()["timeline"][-1]["channel"] == "hotline"


# --- read ---------------------------------------------------------------------------------


def test_get_shows_the_timeline_and_milestones_with_no_full_phone_or_id_number(
    operator, supervisor
):
    policy, ref = approved(operator, "STAFF-API-READ")
    supervisor.event(ref, "a", "assign", vendor="pingan_team")
    auditor = Agent("auditor", ["pingan"])
    response = auditor.get(f"/{ref}")
    assert response.status_code == 200
    body = response.json()
    assert [(e["event"], e["label"]) for e in body["timeline"]] == [
        ("submitted", "提交申请"),
        ("approved", "审核通过"),
        ("assigned", "派单给服务商"),
    ]
    assert [e["actor"] for e in body["timeline"]] == [
        f"staff:{operator.user.username}",
        f"staff:{operator.user.username}",
        f"staff:{supervisor.user.username}",
    ]
    assert body["milestones"] and {"label", "due_at", "state"} <= set(body["milestones"][0])
    assert body["member"]["phone"] == "138****0111"
    assert PHONE not in response.text
    assert policy.holder.id_number not in response.text
    assert "id_number" not in response.text
    # an auditor reads but may not act
    assert auditor.event(ref, "x", "start").status_code == 403


def test_reading_a_request_costs_the_same_queries_with_a_long_history(operator, supervisor):
    # given two requests: one just approved, one moved eight times after its booking
    _, short_ref = approved(operator, "STAFF-API-Q1")
    _, long_ref = approved(operator, "STAFF-API-Q2")
    supervisor.event(long_ref, "a", "assign", vendor="pingan_team")
    for step in range(8):
        at = (timezone.now() + timedelta(days=3 + step)).isoformat()
        event = "schedule" if step == 0 else "reschedule"
        assert operator.event(long_ref, f"m{step}", event, at=at).status_code == 200
    # when the hotline reads each, then the long timeline costs no more queries
    with CaptureQueriesContext(connection) as short:
        assert operator.get(f"/{short_ref}").status_code == 200
    with CaptureQueriesContext(connection) as long:
        response = operator.get(f"/{long_ref}")
    assert len(response.json()["timeline"]) == 11
    assert len(long) == len(short)


def test_the_hotline_cancels_with_a_cause_that_decides_the_cost(operator, supervisor):
    # 门诊协助 booked = used for the member's reasons (平安 1.1 特殊事项 1 "因客户原因"),
    # but a vendor's failure returns the use (vendor_failure_returns_quota)
    policy, ref = approved(operator, "STAFF-API-CAUSE")
    supervisor.event(ref, "cause-a", "assign", vendor="pingan_team")
    operator.event(ref, "cause-s", "schedule", at=(timezone.now() + timedelta(days=3)).isoformat())

    missing = operator.event(ref, "cause-0", "cancel", reason="专家停诊")
    unknown = operator.event(ref, "cause-1", "cancel", reason="专家停诊", cause="typhoon")
    done = operator.event(ref, "cause-2", "cancel", reason="专家停诊", cause="vendor_failure")

    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_input")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_cause")
    assert done.json()["quota_outcome"] == QuotaOutcome.RELEASED
    assert held(policy) == (0, 0)
    last = done.json()["timeline"][-1]
    assert (last["cause"], last["cause_label"]) == ("vendor_failure", "服务商原因未能提供")
    assert last["consequence"] == "服务商原因未能提供服务，权益已返还。"


def test_a_nul_character_in_the_body_or_the_query_is_a_422_not_a_500(operator):
    # found by schemathesis on PostgreSQL, whose text cannot hold U+0000
    policy = family("STAFF-API-NUL")
    body = operator.submit(policy, "nul-1", note="来电\x00客户")
    assert body.status_code == 422
    assert body.json()["code"] == "invalid_input"
    assert body.json()["fields"][0]["field"] == "body.note"
    query = operator.client.get(
        "/api/staff/v1/coverage/resolve", {"name": "北京\x00"}, headers=operator.headers()
    )
    assert query.status_code == 422 and query.json()["code"] == "invalid_input"
    assert not ServiceRequest.objects.filter(policy=policy).exists()
