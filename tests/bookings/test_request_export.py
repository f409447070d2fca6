"""Exporting the queue with its filters and a customer's requests to Excel (issue 16 part 4):
formula-escaped, ID numbers and phones masked unless the user may see them, and an unmasked
export written into the change history."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from bookings.lifecycle.services import request_transition
from bookings.models import ServiceRequest
from portal.kernel.actor import Actor
from tests.clock import TZ
from tests.factories import outpatient_request, staff_member

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")


def export_url(file_format: str = "xlsx") -> str:
    return reverse("admin:bookings_servicerequest_export", args=[file_format])


def submitted(number: str, **extra) -> ServiceRequest:
    return outpatient_request(
        number=number, at=datetime(2026, 3, 2, 10, tzinfo=TZ), phone="13900002222", **extra
    )


def sheet_rows(response) -> list[dict[str, object]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_export_has_the_lists_filters_and_masks_identities(client):
    # given two requests, one already approved
    waiting, approved = submitted("EXP-1"), submitted("EXP-2")
    request_transition(approved, "approved", actor=OPS)
    client.force_login(staff_member("supervisor", ["pingan"]))
    # when the supervisor exports the queue filtered to 已提交
    rows = sheet_rows(client.get(export_url(), {"status": "submitted"}))
    # then the sheet has that request only, in Chinese, with masked phone and ID number
    assert [row["申请编号"] for row in rows] == [waiting.ref]
    row = rows[0]
    assert row["状态"] == "已提交" and row["权益"] == waiting.benefit.name
    assert row["被保险人"] == "王一" and row["手机号"] == "139****2222"
    person = waiting.member.person
    assert row["证件号码"] == person.id_masked and person.id_number not in str(row)
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_my_queue_exports_only_my_requests(client):
    mine, other = submitted("EXP-MINE"), submitted("EXP-OTHER")
    me = staff_member("operator", ["pingan"])
    ServiceRequest.objects.filter(pk=mine.pk).update(assignee=me)
    client.force_login(me)
    rows = sheet_rows(client.get(export_url(), {"queue": "mine"}))
    assert [row["申请编号"] for row in rows] == [mine.ref]
    assert other.ref not in str(rows)


def test_a_formula_in_a_name_is_written_as_text(client):
    submitted("EXP-F", name='=HYPERLINK("http://evil","点我")')
    client.force_login(staff_member("supervisor", ["pingan"]))
    rows = sheet_rows(client.get(export_url()))
    assert rows[0]["被保险人"] == '\'=HYPERLINK("http://evil","点我")'
    csv = client.get(export_url("csv")).content.decode("utf-8")
    assert "'=HYPERLINK" in csv


def test_a_user_with_the_identity_permission_exports_unmasked_and_it_is_logged(client):
    request = submitted("EXP-U")
    user = staff_member("admin", ["pingan"])  # 管理员 holds see_identity_servicerequest
    client.force_login(user)
    rows = sheet_rows(client.get(export_url()))
    person = request.member.person
    assert rows[0]["手机号"] == "13900002222" and rows[0]["证件号码"] == person.id_number
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert (entry.actor, entry.object_repr) == (user, request.ref)
    assert entry.additional_data["purpose"] == "export_unmasked"
    # the insurer's auditor reads it in the change history
    client.force_login(staff_member("auditor", ["pingan"]))
    history = client.get(reverse("admin:auditlog_logentry_changelist")).text
    assert request.ref in history and "查看" in history


def test_another_insurers_requests_are_not_exported_and_their_customer_export_is_404(client):
    request = submitted("EXP-PA")
    client.force_login(staff_member("admin", ["axa"]))
    assert sheet_rows(client.get(export_url())) == []
    customer = reverse("admin:customer_requests_export", args=[request.policy.holder_id, "xlsx"])
    assert client.get(customer).status_code == 404
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_the_customer_page_exports_the_customers_requests(client):
    request = submitted("EXP-C")
    submitted("EXP-SOMEONE-ELSE")
    client.force_login(staff_member("operator", ["pingan"]))
    page = client.get(reverse("admin:customer", args=[request.policy.holder_id])).text
    url = reverse("admin:customer_requests_export", args=[request.policy.holder_id, "xlsx"])
    assert url in page
    rows = sheet_rows(client.get(url))
    assert [row["申请编号"] for row in rows] == [request.ref]
    assert rows[0]["手机号"] == "139****2222"


def test_an_unknown_format_is_404(client):
    client.force_login(staff_member("operator", ["pingan"]))
    assert client.get(export_url("exe")).status_code == 404


def test_the_export_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for index in range(6):
        submitted(f"EXP-Q{index}")
    client.force_login(staff_member("admin", ["pingan"]))
    client.get(export_url())  # warm the per-process memos
    # session, user, the user's permissions (2), the list filters' choices (product,
    # benefit, vendor), the list's two counts, the rows with their joins, the access log
    with django_assert_max_num_queries(11):
        rows = sheet_rows(client.get(export_url()))
    assert len(rows) == 6


def test_a_filter_the_list_cannot_read_sends_back_to_the_list_not_a_500(client):
    # given a supervisor and a filter value that is no request id
    submitted("EXP-BAD-1")
    client.force_login(staff_member("supervisor", ["pingan"]))
    changelist = reverse("admin:bookings_servicerequest_changelist")
    # when they export with it
    response = client.get(export_url(), {"id": "not-a-number"})
    # then, as the list itself does, they are sent back to the list without the filter
    assert response.status_code == 302 and response["Location"] == f"{changelist}?e=1"
    assert client.get(changelist, {"id": "not-a-number"})["Location"] == response["Location"]
    assert client.get(response["Location"]).status_code == 200
