"""Complaints (投诉) under 《银行业保险业消费投诉处理管理办法》(银保监会令2020年第3号): filed in
the portal or recorded from the hotline, the clock in natural days (day 1 is the day after
receipt, Asia/Shanghai) across its 15/30/60-day lines, assignment, replies, the outcome, the
SLA scan's warning and escalation, the report per vendor and per benefit, and tenancy."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from benefits.models import Vendor
from bookings.complaints import clock as rules
from bookings.complaints import services
from bookings.complaints.services import (
    complaint_approve_extension,
    complaint_close,
    complaint_extend,
    complaint_file,
    complaint_reply,
)
from bookings.lifecycle.services import request_transition
from bookings.models import Complaint, Milestone, Notification, ServiceRequest
from bookings.tasks import scan_sla
from portal.kernel.actor import Actor, staff_actor
from portal.kernel.errors import DomainError
from portal.models import SmsMessage
from tests.access_support import staff_bearer
from tests.clock import Clock, at
from tests.factories import axa_policy, outpatient_request, policyholder_login, staff_member

pytestmark = pytest.mark.django_db

OPS = Actor(label="insurer:ops")
HOLDER = Actor(label="policyholder")
# Received late on Tuesday 3 March 2026 (Asia/Shanghai): day 1 is 4 March.
RECEIVED = at(2026, 3, 3, 23, 50)
PINGAN = "pingan"
AXA = "axa"


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, RECEIVED)


@pytest.fixture
def request_of_a(clock) -> ServiceRequest:
    """Policyholder A's 平安 门诊协助, assigned to the 平安 team."""
    request = outpatient_request(
        number="CMP-A", at=at(2026, 3, 2, 9), actor=HOLDER, phone="13800000201"
    )
    request_transition(request, "approved", actor=OPS)
    request_transition(
        request, "assigned", actor=OPS, vendor=Vendor.objects.get(code="pingan_team")
    )
    request.refresh_from_db()
    return request


def only_complaint_clocks() -> None:
    """The request's own milestones out of the way: the scan counts only complaints here."""
    Milestone.objects.update(state=Milestone.State.CANCELLED)


def filed(request: ServiceRequest, *, received_at=RECEIVED, category="delay") -> Complaint:
    return complaint_file(
        policy=request.policy,
        person=request.policy.holder,
        request=request,
        category=category,
        description="服务商三天没有联系我",
        channel="portal",
        actor=HOLDER,
        received_at=received_at,
    )


# --- the clock --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "days", "last_day"),
    [
        # 办法: 15日内; the day of receipt is not counted (民法典 第二百零一条).
        (at(2026, 3, 3, 23, 50), 15, date(2026, 3, 18)),
        (at(2026, 3, 3, 0, 5), 15, date(2026, 3, 18)),
        # 16:30 UTC on 3 March is already 4 March in Shanghai.
        (at(2026, 3, 4, 0, 30), 15, date(2026, 3, 19)),
        # 情况复杂的可以延长至30日
        (at(2026, 3, 3, 23, 50), 30, date(2026, 4, 2)),
        # 再延长30日 after approval: 60 natural days, holidays (清明, 劳动节) included.
        (at(2026, 3, 3, 23, 50), 60, date(2026, 5, 2)),
    ],
)
def test_the_limit_is_counted_in_natural_days_from_the_day_after_receipt(received, days, last_day):
    assert rules.due_day(received, days) == last_day
    # in time on any instant of the last day, late from the midnight after it
    assert rules.deadline(received, days) == at(*(last_day + timedelta(days=1)).timetuple()[:3])


@pytest.mark.parametrize(
    ("days", "last_in_time", "first_late"),
    [
        (15, at(2026, 3, 18, 23, 59, 59), at(2026, 3, 19, 0, 0)),
        (30, at(2026, 4, 2, 23, 59, 59), at(2026, 4, 3, 0, 0)),
        (60, at(2026, 5, 2, 23, 59, 59), at(2026, 5, 3, 0, 0)),
    ],
)
def test_closing_on_the_last_day_is_in_time_and_the_next_day_is_late(
    request_of_a, clock, days, last_in_time, first_late
):
    # given a complaint extended to ``days``
    complaint = filed(request_of_a)
    if days >= 30:
        complaint = complaint_extend(
            complaint=complaint, reason="需调取服务商通话录音", actor=OPS, at=RECEIVED
        )
    if days == 60:
        complaint = complaint_approve_extension(
            complaint=complaint,
            reason="涉及多家医院，需外部核实",
            approver=staff_actor(staff_member("supervisor", [PINGAN])),
            at=RECEIVED,
        )
    assert complaint.time_limit_days == days
    # then the line falls between the last second of the last day and the next midnight
    assert not rules.is_late(complaint, last_in_time)
    assert rules.is_late(complaint, first_late)


def test_a_complaint_filed_in_the_portal_shows_in_admin_due_15_days_out(
    client, request_of_a, clock
):
    # given policyholder A logged in to the portal
    policyholder_login(client, request_of_a.policy.holder)

    # when they file a complaint about their request
    response = client.post(
        reverse("portal:complaint_new"),
        {
            "subject": f"request:{request_of_a.ref}",
            "category": "delay",
            "description": "预约后三天没人联系",
        },
    )

    # then it is received, due on 18 March, listed on their side
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.channel, complaint.due_on) == ("portal", date(2026, 3, 18))
    assert complaint.vendor.code == "pingan_team"
    listing = client.get(reverse("portal:complaint_list")).text
    assert complaint.ref in listing and "处理期限：2026年3月18日前" in listing
    # and an operator of 平安 sees it in admin with the date 15 days out
    client.force_login(staff_member("operator", [PINGAN]))
    page = client.get(reverse("admin:bookings_complaint_changelist")).text
    assert complaint.ref in page and "2026年3月18日" in page
    change = client.get(reverse("admin:bookings_complaint_change", args=[complaint.pk])).text
    assert "预约后三天没人联系" in change and "2026年3月18日" in change


def test_the_portal_form_refuses_in_chinese(client, request_of_a, clock):
    other = outpatient_request(number="CMP-OTHER", at=at(2026, 3, 2, 9), name="张三")
    policyholder_login(client, request_of_a.policy.holder)

    empty = client.post(reverse("portal:complaint_new"), {"subject": "", "description": " "})
    foreign = client.post(
        reverse("portal:complaint_new"),
        {"subject": f"request:{other.ref}", "category": "delay", "description": "x"},
    )

    assert "请选择投诉涉及的服务申请或保单" in empty.text
    assert "请选择投诉类别" in empty.text and "请填写投诉内容" in empty.text
    assert "请从列表中选择投诉涉及的服务申请或保单" in foreign.text
    assert not Complaint.objects.exists()


def test_a_general_complaint_names_the_policy_and_no_request(client, request_of_a, clock):
    policyholder_login(client, request_of_a.policy.holder)
    client.post(
        reverse("portal:complaint_new"),
        {"subject": "policy:CMP-A", "category": "other", "description": "热线总是占线"},
    )
    complaint = Complaint.objects.get()
    assert (complaint.policy.number, complaint.request, complaint.benefit) == ("CMP-A", None, None)


def test_a_policyholder_sees_only_their_own_complaints(client, request_of_a, clock):
    mine = filed(request_of_a)
    theirs = filed(outpatient_request(number="CMP-B", at=at(2026, 3, 2, 9), name="李四"))
    policyholder_login(client, request_of_a.policy.holder)
    listing = client.get(reverse("portal:complaint_list")).text
    assert mine.ref in listing and theirs.ref not in listing


# --- handling in admin ----------------------------------------------------------------------


def change(client, complaint: Complaint, **data):
    url = reverse("admin:bookings_complaint_change", args=[complaint.pk])
    body = {"assignee": "", "reply": "", "outcome_choice": "", "outcome_note": "", **data}
    return client.post(url, body)


def test_staff_reply_reaches_the_portal_and_the_complainants_phone(
    client, request_of_a, clock, django_capture_on_commit_callbacks
):
    complaint = filed(request_of_a)
    operator = staff_member("operator", [PINGAN])
    client.force_login(operator)

    with django_capture_on_commit_callbacks(execute=True):
        response = change(client, complaint, reply="已督促服务商今天联系您", assignee=operator.pk)

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.assignee == operator
    assert Notification.objects.filter(person=complaint.person, title="您的投诉有新的回复").exists()
    sms = SmsMessage.objects.get(template="complaint_reply")
    assert sms.phone == "13800000201" and complaint.ref in sms.body
    client.logout()
    policyholder_login(client, request_of_a.policy.holder)
    assert "已督促服务商今天联系您" in client.get(reverse("portal:complaint_list")).text


def test_extending_to_30_needs_a_reason_and_to_60_the_recorded_approval(
    client, request_of_a, clock
):
    complaint = filed(request_of_a)
    operator = staff_member("operator", [PINGAN])
    supervisor = staff_member("supervisor", [PINGAN])

    # an operator extends to 30 days with the reason; the approval box is not theirs
    client.force_login(operator)
    page = client.get(reverse("admin:bookings_complaint_change", args=[complaint.pk])).text
    assert "extend_reason" in page and "approve_reason" not in page
    assert change(client, complaint, extend_reason="需调取录音").status_code == 302
    complaint.refresh_from_db()
    assert (complaint.time_limit_days, complaint.due_on) == (30, date(2026, 4, 2))
    assert (complaint.extension_reason, complaint.extended_by) == ("需调取录音", operator)

    # a second 30-day extension is refused; the 主管's approval gives 60 days, recorded
    again = change(client, complaint, extend_reason="还需要时间")
    assert "该投诉已延长过处理时限" in again.text
    clock.set(at(2026, 3, 20, 10))
    client.force_login(supervisor)
    approved = change(client, complaint, approve_reason="涉及三家医院")
    assert approved.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.time_limit_days, complaint.due_on) == (60, date(2026, 5, 2))
    assert (complaint.approved_by, complaint.approved_at) == (supervisor, at(2026, 3, 20, 10))
    assert complaint.approval_reason == "涉及三家医院"


def test_the_approval_comes_after_the_30_day_extension_and_no_extension_after_the_deadline(
    request_of_a, clock
):
    complaint = filed(request_of_a)
    supervisor = staff_actor(staff_member("supervisor", [PINGAN]))
    with pytest.raises(DomainError) as skipped:
        complaint_approve_extension(
            complaint=complaint, reason="复杂", approver=supervisor, at=RECEIVED
        )
    with pytest.raises(DomainError) as late:
        complaint_extend(complaint=complaint, reason="复杂", actor=OPS, at=at(2026, 3, 19, 0, 0))
    assert skipped.value.code == late.value.code == "extension_not_allowed"
    assert Complaint.objects.get().time_limit_days == 15


def test_the_outcome_closes_it_and_a_closed_complaint_takes_no_more_steps(
    client, request_of_a, clock
):
    complaint = filed(request_of_a)
    client.force_login(staff_member("operator", [PINGAN]))
    half = change(client, complaint, outcome_choice="partly")
    assert "办结须同时选择处理结果并填写处理意见" in half.text
    clock.set(at(2026, 3, 10, 15))
    change(client, complaint, outcome_choice="partly", outcome_note="服务商延误属实，已扣减考核分")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.outcome) == ("closed", "partly")
    assert complaint.closed_at == at(2026, 3, 10, 15)
    with pytest.raises(DomainError) as refused:
        complaint_reply(complaint=complaint, body="补充", author=OPS)
    assert refused.value.code == "complaint_closed"
    # the admin page is read-only from then on: no reply box, a POST changes nothing
    page = client.get(reverse("admin:bookings_complaint_change", args=[complaint.pk])).text
    assert 'name="reply"' not in page
    assert change(client, complaint, reply="再补充").status_code == 403
    client.logout()
    policyholder_login(client, request_of_a.policy.holder)
    listing = client.get(reverse("portal:complaint_list")).text
    assert "部分成立" in listing and "已扣减考核分" in listing


def test_another_insurers_complaint_is_404_in_admin(client, request_of_a, clock):
    complaint = filed(request_of_a)
    client.force_login(staff_member("operator", [AXA]))
    url = reverse("admin:bookings_complaint_change", args=[complaint.pk])
    assert client.get(url).status_code == 404
    assert complaint.ref not in client.get(reverse("admin:bookings_complaint_changelist")).text


def test_staff_record_a_hotline_complaint_in_admin(client, request_of_a, clock):
    client.force_login(staff_member("operator", [PINGAN]))
    response = client.post(
        reverse("admin:bookings_complaint_add"),
        {
            "policy": request_of_a.policy.pk,
            "person": request_of_a.policy.holder.pk,
            "request": request_of_a.pk,
            "category": "conduct",
            "description": "来电：服务人员态度差",
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.channel, complaint.due_on) == ("hotline", date(2026, 3, 18))
    assert complaint.recorded_by.username.startswith("user")


# --- the SLA scan -------------------------------------------------------------------------------


def test_the_sla_scan_warns_before_the_deadline_and_escalates_after_it_once(
    request_of_a, clock, settings, django_capture_on_commit_callbacks
):
    # given a complaint due by the end of 18 March
    settings.OPERATIONS_EMAILS = ["ops@insurer.example"]
    complaint = filed(request_of_a)
    only_complaint_clocks()

    def scan(when):
        clock.set(when)
        with django_capture_on_commit_callbacks(execute=True):
            return scan_sla()

    # when the periodic task runs: nothing 4 days out, a warning 3 days out, once
    assert scan(at(2026, 3, 15, 23, 55)) == {"warned": 0, "breached": 0}
    assert scan(at(2026, 3, 16, 0, 0)) == {"warned": 1, "breached": 0}
    assert scan(at(2026, 3, 16, 0, 5)) == {"warned": 0, "breached": 0}
    # the last day is still in time; the midnight after it escalates, once
    assert scan(at(2026, 3, 18, 23, 59)) == {"warned": 0, "breached": 0}
    assert scan(at(2026, 3, 19, 0, 0)) == {"warned": 0, "breached": 1}
    assert scan(at(2026, 3, 19, 0, 5)) == {"warned": 0, "breached": 0}

    # then operations got the milestones' warning and breach digests naming it
    assert [m.subject for m in mail.outbox] == ["服务时效即将到期：1项", "服务时效已超时：1项"]
    assert complaint.ref in mail.outbox[0].body and "投诉处理时限（15日）" in mail.outbox[0].body
    assert "2026年03月18日 24:00" in mail.outbox[1].body
    complaint.refresh_from_db()
    assert complaint.breached_at == at(2026, 3, 19, 0, 0)


def test_an_extension_is_warned_again_before_its_new_deadline(
    request_of_a, clock, django_capture_on_commit_callbacks
):
    complaint = filed(request_of_a)
    only_complaint_clocks()
    clock.set(at(2026, 3, 16, 9))
    assert scan_sla()["warned"] == 1
    complaint_extend(complaint=complaint, reason="需核实", actor=OPS, at=at(2026, 3, 16, 10))
    clock.set(at(2026, 3, 16, 11))
    assert scan_sla() == {"warned": 0, "breached": 0}
    clock.set(at(2026, 3, 31, 0, 0))  # three days before the end of 2 April
    assert scan_sla() == {"warned": 1, "breached": 0}


def test_a_closed_complaint_is_neither_warned_nor_escalated(request_of_a, clock):
    complaint = filed(request_of_a)
    only_complaint_clocks()
    complaint_close(
        complaint=complaint,
        outcome="not_upheld",
        text="经核实服务商已按时联系",
        actor=OPS,
        at=RECEIVED,
    )
    clock.set(at(2026, 4, 1))
    assert scan_sla() == {"warned": 0, "breached": 0}


# --- the staff API ------------------------------------------------------------------------------


def post_complaint(client, user, body, key="k-1"):
    return client.post(
        "/api/staff/v1/complaints",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers={**staff_bearer(user), "Idempotency-Key": key},
    )


def test_the_hotline_api_records_a_complaint_once_per_key(client, request_of_a, clock):
    operator = staff_member("operator", [PINGAN])
    body = {
        "policy": "CMP-A",
        "request": request_of_a.ref,
        "category": "conduct",
        "description": "来电投诉陪诊人员迟到",
    }
    first = post_complaint(client, operator, body)
    again = post_complaint(client, operator, body)
    assert first.status_code == 201 and again.status_code == 201
    answer = first.json()
    assert answer["due_on"] == "2026-03-18" and answer["time_limit_days"] == 15
    assert (answer["channel"], answer["vendor"]) == ("hotline", "pingan_team")
    assert again["Idempotent-Replayed"] == "true" and Complaint.objects.count() == 1
    read = client.get(f"/api/staff/v1/complaints/{answer['ref']}", headers=staff_bearer(operator))
    assert read.json()["ref"] == answer["ref"]


def test_the_hotline_api_answers_structured_errors(client, request_of_a, clock):
    operator_axa = staff_member("operator", [AXA])
    auditor = staff_member("auditor", [PINGAN])
    body = {"policy": "CMP-A", "category": "delay", "description": "太慢"}

    foreign = post_complaint(client, operator_axa, body)
    empty = post_complaint(client, staff_member("operator", [PINGAN]), {**body, "description": ""})
    reader = post_complaint(client, auditor, body)

    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_input")
    assert (reader.status_code, reader.json()["code"]) == (403, "permission_denied")
    complaint = filed(request_of_a)
    other = client.get(
        f"/api/staff/v1/complaints/{complaint.ref}", headers=staff_bearer(operator_axa)
    )
    assert other.status_code == 404


def test_a_complaint_on_another_insurers_policy_is_404_even_for_a_known_number(client, clock):
    axa_policy("CMP-AXA")
    response = post_complaint(
        client,
        staff_member("operator", [PINGAN]),
        {"policy": "CMP-AXA", "category": "delay", "description": "慢"},
    )
    assert response.status_code == 404


# --- the report ---------------------------------------------------------------------------------


def test_the_report_counts_per_vendor_and_benefit_within_a_fixed_query_budget(
    client, request_of_a, clock, django_assert_max_num_queries
):
    # given three complaints about the 平安 team's 门诊协助 and one general one
    closed_in_time = filed(request_of_a)
    complaint_close(
        complaint=closed_in_time,
        outcome="upheld",
        text="已道歉",
        actor=OPS,
        at=at(2026, 3, 8, 10),
    )
    closed_late = filed(request_of_a)
    complaint_close(
        complaint=closed_late,
        outcome="not_upheld",
        text="不成立",
        actor=OPS,
        at=at(2026, 3, 20, 10),
    )
    filed(request_of_a)  # open, overdue on 20 March
    complaint_file(
        policy=request_of_a.policy,
        person=request_of_a.policy.holder,
        category="other",
        description="热线占线",
        channel="portal",
        actor=HOLDER,
        received_at=at(2026, 3, 18, 9),
    )
    clock.set(at(2026, 3, 20, 12))
    client.force_login(staff_member("operator", [PINGAN]))

    # when the report is shown; session, user, permissions and three report queries
    with django_assert_max_num_queries(8):
        page = client.get(reverse("admin:bookings_complaint_report"))

    # then 平安 team: 3 complaints, 1 open and overdue, 1 closed late, (5 + 17) / 2 = 11 days
    assert page.status_code == 200
    vendor_line = page.context["report"].by_vendor[0]
    assert (vendor_line.name, vendor_line.total, vendor_line.open) == ("平安健康服务团队", 3, 1)
    assert (vendor_line.overdue, vendor_line.closed_late, str(vendor_line.average_days)) == (
        1,
        1,
        "11.0",
    )
    general = next(line for line in page.context["report"].by_benefit if line.key is None)
    assert (general.total, general.open, general.overdue) == (1, 1, 0)
    assert "一般投诉（未关联权益）" in page.text


def test_the_report_shows_only_the_staff_members_insurers(client, request_of_a, clock):
    filed(request_of_a)
    client.force_login(staff_member("operator", [AXA]))
    page = client.get(reverse("admin:bookings_complaint_report"))
    assert page.context["report"].by_vendor == [] and "暂无投诉" in page.text


def test_staff_actor_is_recorded_as_who_recorded_a_hotline_complaint(request_of_a, clock):
    operator = staff_member("operator", [PINGAN])
    complaint = complaint_file(
        policy=request_of_a.policy,
        person=request_of_a.policy.holder,
        category="other",
        description="来电",
        channel="hotline",
        actor=staff_actor(operator),
    )
    assert complaint.recorded_by == operator


def test_the_portal_list_costs_the_same_queries_for_one_complaint_or_ten(
    client, request_of_a, clock, django_assert_max_num_queries
):
    # given one complaint with a reply
    complaint_reply(complaint=filed(request_of_a), body="已收到", author=OPS)
    policyholder_login(client, request_of_a.policy.holder)
    # session, user, account and person, the complaints with request and benefit, replies
    with django_assert_max_num_queries(6):
        one = client.get(reverse("portal:complaint_list"))
    # when there are ten, each with a reply
    for _ in range(9):
        complaint_reply(complaint=filed(request_of_a), body="已收到", author=OPS)
    with django_assert_max_num_queries(6):
        ten = client.get(reverse("portal:complaint_list"))
    # then both pages show every complaint at the same cost
    assert one.text.count("已收到") == 1 and ten.text.count("已收到") == 10


def test_a_complaint_cannot_be_given_to_another_insurers_staff(client, request_of_a, clock):
    complaint = filed(request_of_a)
    outsider = staff_member("operator", [AXA])
    client.force_login(staff_member("operator", [PINGAN]))
    response = change(client, complaint, assignee=outsider.pk)
    assert response.status_code == 200  # the form re-renders with the choice refused
    complaint.refresh_from_db()
    assert complaint.assignee is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL")
def test_two_scanners_at_once_escalate_each_complaint_once(catalogue, monkeypatch):
    # given three complaints past their deadline
    request = outpatient_request(number="CMP-TWO", at=at(2026, 3, 2, 9), actor=HOLDER)
    for _ in range(3):
        filed(request)
    notified: list[str] = []
    monkeypatch.setattr(
        services,
        "notify_complaints",
        lambda rows, kind: notified.extend(f"{kind}:{row.ref}" for row in rows),
    )
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def scan() -> None:
        try:
            barrier.wait()
            counts.append(rules.complaint_scan(at(2026, 3, 19, 0, 0)).breached)
        finally:
            connection.close()

    # when two scanners run at the same instant
    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then each complaint is escalated and notified once, whoever claimed it
    assert sum(counts) == 3
    assert sorted(notified) == sorted(f"breach:{c.ref}" for c in Complaint.objects.all())
