"""The insurer's queue in Django admin: filters, actions one by one and in bulk, and records
opened only through a view that logs the access."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from bookings.documents.services import document_add
from bookings.models import DocumentAccess, QuotaOutcome, ServiceRequest, Status
from portal.kernel.actor import Actor
from tests.clock import TZ
from tests.factories import MINIMAL_PDF, outpatient_request, staff_member

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:bookings_servicerequest_changelist"


def submitted(number: str) -> ServiceRequest:
    return outpatient_request(number=number, at=datetime(2026, 3, 2, 10, tzinfo=TZ))


def act(client, action: str, requests: list[ServiceRequest], **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [r.pk for r in requests], **extra},
        follow=True,
    )


def test_the_queue_lists_requests_and_filters_by_status_and_deadline(client, superuser):
    first, second = submitted("Q-1"), submitted("Q-2")
    client.force_login(superuser)
    page = client.get(reverse(CHANGELIST), {"status": "submitted"})
    assert page.status_code == 200
    assert first.ref in page.text and second.ref in page.text
    for deadline in ("breached", "today", "24h", "provisional"):
        assert client.get(reverse(CHANGELIST), {"deadline": deadline}).status_code == 200
    assert first.ref not in client.get(reverse(CHANGELIST), {"status": "approved"}).text


def test_bulk_approve_then_assign_a_vendor_through_the_intermediate_form(client, superuser):
    requests = [submitted("Q-3"), submitted("Q-4")]
    client.force_login(superuser)
    act(client, "approve", requests)
    assert set(ServiceRequest.objects.values_list("status", flat=True)) == {Status.APPROVED}

    form = act(client, "assign_vendor", requests)
    assert "服务商" in form.text  # the form asks which vendor first
    vendor = requests[0].benefit.vendor  # only a vendor that delivers the benefit is offered
    act(client, "assign_vendor", requests, apply="1", vendor=vendor.pk)
    assert set(ServiceRequest.objects.values_list("vendor", "status")) == {
        (vendor.pk, Status.ASSIGNED)
    }


def test_reject_needs_a_reason_returns_the_quota_and_tells_the_policyholder(client, superuser):
    request = submitted("Q-5")
    client.force_login(superuser)
    empty = act(client, "reject", [request], apply="1", reason="")
    assert "这个字段是必填项" in empty.text or "必填" in empty.text
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED

    act(client, "reject", [request], apply="1", reason="就诊医院不是公立医院")
    request.refresh_from_db()
    assert request.status == Status.REJECTED
    assert request.quota_outcome == QuotaOutcome.RELEASED
    assert request.outcome_reason == "就诊医院不是公立医院"
    assert request.notifications.filter(body__contains="就诊医院不是公立医院").exists()


def test_an_action_that_does_not_apply_says_why_per_request(client, superuser):
    request = submitted("Q-6")
    client.force_login(superuser)
    act(client, "approve", [request])
    page = act(client, "approve", [request])
    assert f"{request.ref}：申请当前状态为“已通过”，不能审核通过" in page.text


def test_opening_a_record_from_the_queue_is_logged(client, superuser, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = submitted("Q-7")
    document = document_add(
        request, name="出院小结.pdf", data=MINIMAL_PDF, actor=Actor(label="policyholder")
    )
    client.force_login(superuser)
    detail = client.get(reverse("admin:bookings_servicerequest_change", args=[request.pk]))
    url = reverse("admin:bookings_document_file", args=[document.pk])
    assert url in detail.text
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    access = DocumentAccess.objects.get(document=document)
    assert access.actor == superuser and access.purpose == "admin_view"


def test_staff_without_the_document_permission_cannot_open_records(client, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    request = submitted("Q-8")
    document = document_add(
        request, name="病历.pdf", data=MINIMAL_PDF, actor=Actor(label="policyholder")
    )
    # An auditor reads the request and the access log, but opens no medical record.
    client.force_login(staff_member("auditor"))
    response = client.get(reverse("admin:bookings_document_file", args=[document.pk]))
    assert response.status_code == 403
    assert not DocumentAccess.objects.exists()
