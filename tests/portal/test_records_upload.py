"""Records asked for, then uploaded from the portal: the upload sends a 需补充资料 request back
to review (``bookings.documents.services.records_supplied``), once, whatever a second tab
does, and a refusal reads as a message, never a server error."""

from __future__ import annotations

import copy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookings.documents.services import records_supplied
from bookings.lifecycle.services import request_transition
from bookings.models import ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from tests.factories import MINIMAL_PDF
from tests.portal.test_portal_pages import owner, submit  # noqa: F401  (owner: a fixture)

pytestmark = pytest.mark.django_db
OPS = Actor(label="insurer:ops")


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def needs_records(policy) -> ServiceRequest:
    request = submit(policy)
    request_transition(request, "records_requested", actor=OPS, reason="请补充门诊病历")
    request.refresh_from_db()
    assert request.status == Status.NEEDS_RECORDS
    return request


def upload(client, request: ServiceRequest, name: str = "门诊病历.pdf"):
    file = SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")
    url = reverse("portal:request_upload", args=[request.ref])
    return client.post(url, {"file": file}, follow=True)


def test_an_upload_on_a_needs_records_request_sends_it_back_to_review(client, owner):  # noqa: F811
    request = needs_records(owner)
    answer = upload(client, request)
    assert answer.status_code == 200
    assert "资料已补充，申请已重新进入审核" in answer.text
    request.refresh_from_db()
    assert request.status == Status.UNDER_REVIEW
    event = request.events.get(event="records_complete")
    assert (event.actor_label, event.reason) == ("policyholder", "客户补充资料")
    # a later upload adds the file and leaves the request where it is
    again = upload(client, request, "检查报告.pdf")
    assert "资料已补充" not in again.text
    assert request.documents.count() == 2
    assert request.events.filter(event="records_complete").count() == 1


def test_a_second_tab_uploading_at_the_same_time_gets_no_server_error(
    client,
    owner,  # noqa: F811
    monkeypatch,
):
    # given a second tab that read the request while it still waited for records
    request = needs_records(owner)
    stale = copy.copy(request)
    upload(client, request)  # the first tab's upload moved it on
    monkeypatch.setattr("portal.pages.request_views._own_request", lambda _r, _ref: stale)
    # when the second tab's upload arrives
    answer = upload(client, stale, "检查报告.pdf")
    # then its file is kept and the request moved on once
    assert answer.status_code == 200
    request.refresh_from_db()
    assert request.status == Status.UNDER_REVIEW
    assert request.documents.count() == 2
    assert request.events.filter(event="records_complete").count() == 1


def test_a_refused_step_after_an_upload_reads_as_a_chinese_message(
    client,
    owner,  # noqa: F811
    monkeypatch,
):
    request = needs_records(owner)

    def refuse(*_args, **_kwargs):
        message = "申请当前状态不能进入审核，请联系客服"
        raise DomainError("transition_not_allowed", message, status=409)

    monkeypatch.setattr("bookings.documents.services.request_transition", refuse)
    answer = upload(client, request)
    assert answer.status_code == 200
    assert "已上传1个文件" in answer.text and "申请当前状态不能进入审核，请联系客服" in answer.text
    request.refresh_from_db()
    assert request.status == Status.NEEDS_RECORDS and request.documents.count() == 1


def test_the_service_decides_on_the_locked_row_not_the_callers_copy(owner):  # noqa: F811
    request = needs_records(owner)
    stale = copy.copy(request)
    assert records_supplied(request, actor=OPS) is True
    assert records_supplied(stale, actor=OPS) is False
    assert request.events.filter(event="records_complete").count() == 1
