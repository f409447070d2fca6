"""Working a request from its own admin page (issue 16 part 2): the lifecycle's next steps as
buttons with small forms, who works it (我的待办), internal notes and the call log, names and
Chinese labels instead of codes — as an insurer's staff member at the desk sees it."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import CallLog, QuotaOutcome, RequestNote, ServiceRequest, Status
from tests.clock import TZ
from tests.factories import outpatient_request, staff_member

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:bookings_servicerequest_changelist")


def change_url(request: ServiceRequest) -> str:
    return reverse("admin:bookings_servicerequest_change", args=[request.pk])


def step_url(request: ServiceRequest, event: str) -> str:
    return reverse("admin:bookings_servicerequest_step", args=[request.pk, event])


def submitted(number: str = "DESK-1", **extra) -> ServiceRequest:
    return outpatient_request(
        number=number, at=datetime(2026, 3, 2, 10, tzinfo=TZ), phone="13900001111", **extra
    )


def buttons(page: str) -> list[str]:
    """The labels of the desk's step buttons, in order."""
    return re.findall(r'<li><a class="button" href="[^"]+/step/\w+/">([^<]+)</a></li>', page)


def press(client, request: ServiceRequest, label: str, **fields) -> None:
    """Click the step button ``label`` on the request's page, fill its form and confirm."""
    page = client.get(change_url(request)).text
    found = re.search(rf'<a class="button" href="([^"]+)">{label}</a>', page)
    assert found, f"no button {label} among {buttons(page)}"
    form = client.get(found.group(1))
    assert form.status_code == 200
    done = client.post(found.group(1), fields)
    assert done.status_code == 302, done.text
    assert done["Location"] == change_url(request)


def test_acceptance_a_request_goes_from_submitted_to_completed_on_its_own_page(client):
    # given a submitted request and a supervisor of its insurer (she may assign vendors)
    request = submitted()
    vendor = request.benefit.vendor
    client.force_login(staff_member("supervisor", ["pingan"]))
    page = client.get(change_url(request)).text
    assert buttons(page) == [
        "要求补充资料",
        "资料齐全，进入审核",
        "开始调查（暂停计时）",
        "审核通过",
        "审核未通过",
        "取消申请",
    ]
    # when she works it step by step from the request's page, never from the list
    press(client, request, "审核通过")
    press(client, request, "派单给服务商", vendor=vendor.pk)
    press(client, request, "服务商已联系客户", reason="已电话联系客户确认就诊需求")
    press(client, request, "已预约", at="2026-03-05T09:30", place="上海市第一人民医院")
    press(client, request, "服务开始")
    press(client, request, "服务完成", reason="已陪同就诊")
    # then the request is completed, its quota used, every step recorded under her name
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.vendor == vendor
    assert request.quota_outcome == QuotaOutcome.USED
    assert timezone.localtime(request.scheduled_at).strftime("%m-%d %H:%M") == "03-05 09:30"
    events = list(request.events.values_list("event", "actor_label", "data__channel"))
    assert [e for e, _a, _c in events] == [
        "submitted",
        "approved",
        "assigned",
        "contacted",
        "scheduled",
        "in_service",
        "completed",
    ]
    assert {(a, c) for _e, a, c in events[1:]} == {(f"staff:{request_user(client)}", "admin")}
    final = client.get(change_url(request)).text
    assert "当前状态下没有可执行的操作" in final and buttons(final) == []


def request_user(client) -> str:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"]).username


def test_the_page_shows_names_masked_phones_and_chinese_labels_not_codes(client):
    request = submitted("DESK-CODES", hospital="上海市第一人民医院")
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(change_url(request)).text
    assert "王一（本人） 139****1111" in page  # member and recipient: name, relation, phone
    assert "13900001111" not in page
    assert "DESK-CODES/M1" not in page  # the member's code
    assert "pingan.health" not in page and "（310000）" not in page  # benefit, city codes
    assert "处理服务申请" in page and "查看 服务申请" not in page
    assert re.search(r">\d+:\w+<", page) is None  # a milestone's "1:booked"
    assert "客户本人" in page  # who submitted, not "policyholder"
    assert ">submitted<" not in page and "提交申请" in page and "已提交" in page
    assert "保存" not in re.sub(r"保存备注|保存通话记录", "", page)  # no plain save button


def test_an_operator_gets_no_assign_or_reject_button_and_the_url_answers_403(client):
    request = submitted("DESK-OP")
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(change_url(request)).text
    assert buttons(page) == [
        "要求补充资料",
        "资料齐全，进入审核",
        "开始调查（暂停计时）",
        "审核通过",
        "取消申请",
    ]
    assert client.get(step_url(request, "rejected")).status_code == 403


def test_a_refusal_needs_a_reason_and_the_form_says_so_in_chinese(client):
    request = submitted("DESK-REJ")
    client.force_login(staff_member("supervisor", ["pingan"]))
    answer = client.post(step_url(request, "rejected"), {"reason": ""})
    assert answer.status_code == 200 and "这个字段是必填项" in answer.text
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    client.post(step_url(request, "rejected"), {"reason": "就诊医院不是公立医院"})
    request.refresh_from_db()
    assert request.status == Status.REJECTED and request.quota_outcome == QuotaOutcome.RELEASED


def test_a_cancellation_asks_for_its_cause_and_a_bad_time_is_refused_in_chinese(client):
    request = submitted("DESK-CAN")
    client.force_login(staff_member("supervisor", ["pingan"]))
    client.post(step_url(request, "approved"), {})
    client.post(step_url(request, "assigned"), {"vendor": request.benefit.vendor.pk})
    bad = client.post(step_url(request, "scheduled"), {"at": "明天上午"})
    assert bad.status_code == 200 and "输入一个有效的日期/时间" in bad.text
    missing = client.post(step_url(request, "cancelled"), {"reason": "客户不需要了"})
    assert "这个字段是必填项" in missing.text
    client.post(step_url(request, "cancelled"), {"reason": "客户不需要了", "cause": "member"})
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    assert request.events.last().data["cause"] == "member"


def test_a_step_the_status_no_longer_allows_says_why_and_changes_nothing(client):
    request = submitted("DESK-LATE")
    client.force_login(staff_member("supervisor", ["pingan"]))
    client.post(step_url(request, "approved"), {})
    answer = client.post(step_url(request, "approved"), {}, follow=True)  # a second tab
    assert "申请当前状态为“已通过”，不能审核通过" in answer.text
    assert request.events.filter(event="approved").count() == 1


def desk_url(request: ServiceRequest, name: str) -> str:
    return reverse(f"admin:bookings_servicerequest_{name}", args=[request.pk])


def form_key(client, request: ServiceRequest, name: str) -> str:
    """The one-time key of the request page's note or call form, as the browser posts it."""
    page = client.get(change_url(request)).text
    form = re.search(rf'action="{desk_url(request, name)}">(.*?)</form>', page, re.S)
    assert form, f"no {name} form on the page"
    found = re.search(r'name="idempotency_key" value="(\w+)"', form.group(1))
    assert found, f"the {name} form carries no key"
    return found.group(1)


def test_notes_and_calls_are_kept_with_who_and_when(client):
    request = submitted("DESK-NOTE")
    user = staff_member("operator", ["pingan"])
    client.force_login(user)
    empty = client.post(desk_url(request, "note"), {"idempotency_key": "k1"})
    assert "这个字段是必填项" in empty.text
    client.post(
        desk_url(request, "note"),
        {"body": "客户要求女性陪诊员", "idempotency_key": form_key(client, request, "note")},
    )
    client.post(
        desk_url(request, "call"),
        {
            "direction": "inbound",
            "party": "customer",
            "called_at": "2026-03-02T11:05",
            "summary": "客户来电询问进度",
            "idempotency_key": form_key(client, request, "call"),
        },
    )
    note = RequestNote.objects.get(request=request)
    call = CallLog.objects.get(request=request)
    assert (note.author, note.body) == (user, "客户要求女性陪诊员")
    assert (call.staff, call.direction, call.party) == (user, "inbound", "customer")
    page = client.get(change_url(request)).text
    assert "客户要求女性陪诊员" in page and "客户来电询问进度" in page
    assert "呼入" in page and "2026-03-02 11:05" in page


def test_a_double_submit_of_a_note_or_a_call_saves_it_once(client):
    request = submitted("DESK-TWICE")
    client.force_login(staff_member("operator", ["pingan"]))
    note = {"body": "客户要求女性陪诊员", "idempotency_key": form_key(client, request, "note")}
    call = {
        "direction": "outbound",
        "party": "customer",
        "called_at": "2026-03-02T11:05",
        "summary": "已告知客户预约时间",
        "idempotency_key": form_key(client, request, "call"),
    }
    for name, data in (("note", note), ("call", call)):
        first = client.post(desk_url(request, name), data)
        again = client.post(desk_url(request, name), data, follow=True)  # a double tap
        assert first.status_code == 302
        assert "该记录已保存过，未重复保存" in again.text
    assert RequestNote.objects.filter(request=request).count() == 1
    assert CallLog.objects.filter(request=request).count() == 1
    # the same key with another text is refused; a freshly rendered form saves a second note
    reused = client.post(desk_url(request, "note"), {**note, "body": "另一条"}, follow=True)
    assert "已用于另一个请求" in reused.text
    fresh = {"body": "另一条", "idempotency_key": form_key(client, request, "note")}
    assert client.post(desk_url(request, "note"), fresh).status_code == 302
    assert list(request.notes.order_by("id").values_list("body", flat=True)) == [
        "客户要求女性陪诊员",
        "另一条",
    ]


def test_taking_a_request_puts_it_in_my_queue_and_only_mine(client):
    mine, other = submitted("DESK-MINE"), submitted("DESK-OTHER")
    me = staff_member("operator", ["pingan"])
    client.force_login(me)
    url = reverse("admin:bookings_servicerequest_assignee", args=[mine.pk])
    assert client.post(url, {"take": "1"}).status_code == 302
    mine.refresh_from_db()
    assert mine.assignee == me
    queue = client.get(CHANGELIST, {"queue": "mine"}).text
    assert "我的待办" in queue and mine.ref in queue and other.ref not in queue
    unassigned = client.get(CHANGELIST, {"queue": "unassigned"}).text
    assert other.ref in unassigned and mine.ref not in unassigned


def test_a_request_cannot_be_given_to_staff_of_another_insurer(client):
    request = submitted("DESK-FOREIGN")
    stranger = staff_member("operator", ["axa"])
    client.force_login(staff_member("supervisor", ["pingan"]))
    url = reverse("admin:bookings_servicerequest_assignee", args=[request.pk])
    answer = client.post(url, {"assignee": stranger.pk})
    assert answer.status_code == 200 and "选择一个有效的选项" in answer.text
    request.refresh_from_db()
    assert request.assignee is None


def test_another_insurers_request_answers_404_on_every_desk_url(client):
    request = submitted("DESK-PINGAN")
    client.force_login(staff_member("supervisor", ["axa"]))
    for url in (
        change_url(request),
        step_url(request, "approved"),
        reverse("admin:bookings_servicerequest_review", args=[request.pk]),
        reverse("admin:bookings_servicerequest_note", args=[request.pk]),
        reverse("admin:bookings_servicerequest_call", args=[request.pk]),
        reverse("admin:bookings_servicerequest_assignee", args=[request.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"body": "x", "take": "1"}).status_code == 404, url
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and not request.notes.exists()


def test_the_request_page_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    request = submitted("DESK-Q")
    user = staff_member("supervisor", ["pingan"])
    client.force_login(user)
    for index in range(5):
        RequestNote.objects.create(request=request, author=user, body=f"备注{index}")
        CallLog.objects.create(
            request=request,
            staff=user,
            direction="outbound",
            party="customer",
            called_at=timezone.now(),
            summary=f"通话{index}",
        )
    client.get(change_url(request))  # warm the per-process memos (permissions, insurers)
    # session, user, the request with its policy, product, benefit, vendor, region, members
    # and people (one join), notes with authors, calls with staff, the user's permissions
    # (Django's backend: own and groups), milestones, documents, events, assignable staff,
    # the rating and the records consents (inlines)
    with django_assert_max_num_queries(13):
        assert client.get(change_url(request)).status_code == 200


def test_taking_a_request_is_in_its_change_history(client):
    from auditlog.models import LogEntry

    request = submitted("DESK-AUDIT")
    me = staff_member("operator", ["pingan"])
    client.force_login(me)
    client.post(reverse("admin:bookings_servicerequest_assignee", args=[request.pk]), {"take": 1})
    updates = LogEntry.objects.get_for_object(request).filter(action=LogEntry.Action.UPDATE)
    entry = updates.filter(changes__has_key="assignee").get()
    assert entry.actor == me and entry.changes["assignee"][1] == str(me.pk)


def test_the_queue_reads_the_same_queries_for_more_requests(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me = staff_member("operator", ["pingan"])
    client.force_login(me)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CHANGELIST, {"queue": "mine"}).status_code == 200
        return len(queries)

    for index in range(2):
        ServiceRequest.objects.filter(pk=submitted(f"DESK-L{index}").pk).update(assignee=me)
    count()  # warm the per-process memos
    few = count()
    for index in range(2, 8):
        ServiceRequest.objects.filter(pk=submitted(f"DESK-L{index}").pk).update(assignee=me)
    assert count() == few
    assert few <= 15  # session, user, permissions, filters' choices, count, page of rows


def test_the_service_refuses_an_assignee_of_another_insurer_whatever_the_form_offers():
    from bookings.lifecycle.casework import request_assignee_set
    from portal.kernel.errors import DomainError

    request = submitted("DESK-SVC")
    with pytest.raises(DomainError) as refused:
        request_assignee_set(request=request, assignee=staff_member("operator", ["axa"]))
    assert refused.value.code == "assignee_not_allowed"
    auditor = staff_member("auditor", ["pingan"])  # of the insurer, but may not act
    with pytest.raises(DomainError):
        request_assignee_set(request=request, assignee=auditor)
    request_assignee_set(request=request, assignee=staff_member("operator", ["pingan"]))
    request.refresh_from_db()
    assert request.assignee is not None


def test_completing_records_what_was_consumed_and_asks_for_its_unit(client):
    request = submitted("DESK-DONE")
    client.force_login(staff_member("supervisor", ["pingan"]))
    client.post(step_url(request, "approved"), {})
    client.post(step_url(request, "assigned"), {"vendor": request.benefit.vendor.pk})
    no_unit = client.post(step_url(request, "completed"), {"amount": "1"})
    assert "填写了消耗数量时，请选择计量单位" in no_unit.text
    client.post(step_url(request, "completed"), {"amount": "1", "measure": "times"})
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert list(request.consumptions.values_list("measure", "amount")) == [("times", 1)]
