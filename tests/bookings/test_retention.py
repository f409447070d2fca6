"""Retention of medical records (PIPL art. 47): the files of a request closed longer than
``RECORDS_RETENTION_DAYS`` are deleted by the daily job, which logs counts and ids only and
writes a timeline row; the request, its timeline, its quota ledger and the document rows
stay (marked purged), open and recent requests keep their files, a second run changes
nothing, and a purged record answers 410 ``document_purged`` to the vendor."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from benefits.models import QuotaLedgerEntry
from bookings import tasks as booking_tasks
from bookings.documents.retention import records_purge
from bookings.documents.services import document_add
from bookings.documents.storage import private_storage
from bookings.lifecycle.services import request_transition
from bookings.management.commands.setup_schedules import SCHEDULES
from bookings.models import Document, RequestEvent, ServiceRequest, Status
from tests.bookings.test_consent_records import api_download, consented_request
from tests.bookings.test_vendor_api import OPS, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


@pytest.fixture
def vendor():
    from benefits.models import Vendor

    return Vendor.objects.get(code="pingan_team")


@pytest.fixture
def token(vendor) -> str:
    from bookings.vendors.services import vendor_token_issue

    return vendor_token_issue(vendor=vendor, name="平安服务团队系统")[1]


def completed_request(number: str, vendor, phone: str):
    request, document = consented_request(number, vendor, phone=phone)
    request_transition(request, "completed", actor=OPS)
    request.refresh_from_db()
    return request, document


def after_retention(days: int = 1):
    """An instant ``days`` past the retention period of requests closed now."""
    return timezone.now() + timedelta(days=settings.RECORDS_RETENTION_DAYS + days)


def test_the_default_period_is_three_years():
    assert settings.RECORDS_RETENTION_DAYS == 3 * 365


def test_a_closed_requests_files_go_but_the_request_timeline_and_ledger_stay(
    vendor, django_capture_on_commit_callbacks, caplog
):
    # given a completed request with a record, closed longer ago than the period
    request, document = completed_request("RET-DONE", vendor, "13800000101")
    ledger_before = list(
        QuotaLedgerEntry.objects.filter(request_ref=request.ref).values_list("kind", "amount")
    )
    assert private_storage().exists(document.storage_name)
    # when the job runs
    with caplog.at_level(logging.INFO, logger="bookings.documents.retention"):
        with django_capture_on_commit_callbacks(execute=True):
            result = records_purge(after_retention())
    # then the file is gone, the row says so, and everything else is as it was
    assert (result.requests, result.documents) == ([request.pk], [document.pk])
    document.refresh_from_db()
    assert document.purged_at is not None
    assert not private_storage().exists(document.storage_name)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert ledger_before and ledger_before == list(
        QuotaLedgerEntry.objects.filter(request_ref=request.ref).values_list("kind", "amount")
    )
    event = RequestEvent.objects.get(request=request, event="records_purged")
    assert event.data == {"documents": 1, "retention_days": settings.RECORDS_RETENTION_DAYS}
    assert event.actor_label == "system:retention"
    # the log has ids and counts, never a name or a file name
    logged = caplog.text
    assert str(document.pk) in logged and str(request.pk) in logged
    assert "门诊病历" not in logged and document.storage_name not in logged
    assert request.recipient.person.name not in logged


def test_open_and_recently_closed_requests_keep_their_files(vendor):
    _open_request, open_document = consented_request("RET-OPEN", vendor, phone="13800000102")
    _recent, recent_document = completed_request("RET-RECENT", vendor, "13800000103")

    # a day short of the period for the closed one; the open one is never due
    result = records_purge(after_retention(days=-1))
    later = records_purge(after_retention(days=400))

    assert result.documents == []
    assert later.documents == [recent_document.pk]
    open_document.refresh_from_db()
    assert open_document.purged_at is None


def test_running_twice_purges_once(vendor, django_capture_on_commit_callbacks):
    request, document = completed_request("RET-TWICE", vendor, "13800000104")
    with django_capture_on_commit_callbacks(execute=True):
        first = records_purge(after_retention())
    with django_capture_on_commit_callbacks(execute=True):
        second = records_purge(after_retention())

    assert first.documents == [document.pk] and second.documents == []
    assert RequestEvent.objects.filter(request=request, event="records_purged").count() == 1


def test_a_cancelled_request_counts_from_its_cancellation(vendor):
    request, document = consented_request("RET-CANCEL", vendor, phone="13800000105")
    request_transition(request, "cancelled", actor=OPS, reason="不需要了")

    result = records_purge(after_retention())

    assert result.documents == [document.pk]


def test_a_purged_record_answers_410_to_the_vendor(client, vendor, token):
    request, document = completed_request("RET-VENDOR", vendor, "13800000106")
    records_purge(after_retention())

    response = api_download(client, token, request, document)

    assert response.status_code == 410
    assert response.json()["code"] == "document_purged"


def test_the_purge_is_set_based(vendor, django_assert_max_num_queries):
    # given three closed requests with two records each
    for index in range(3):
        request, _document = completed_request(f"RET-SET-{index}", vendor, f"1380000011{index}")
        document_add(request, name="检查报告.pdf", data=pdf(), actor=OPS)
    # then: the due requests; one batch: savepoint, lock the documents with their
    # requests, mark them, insert the timeline rows, release: the same for 3 or 200
    with django_assert_max_num_queries(6):
        result = records_purge(after_retention())
    assert len(result.documents) == 6 and len(result.requests) == 3
    assert Document.objects.filter(purged_at__isnull=True).count() == 0
    assert ServiceRequest.objects.count() == 3


def test_the_daily_job_runs_the_purge_and_is_scheduled(vendor, monkeypatch):
    _request, document = completed_request("RET-TASK", vendor, "13800000107")
    monkeypatch.setattr(settings, "RECORDS_RETENTION_DAYS", 0)

    assert booking_tasks.purge_expired_records.apply().get() == {"requests": 1, "documents": 1}
    schedule = next(s for s in SCHEDULES if s.task == "bookings.tasks.purge_expired_records")
    assert (schedule.hour, schedule.minute) == ("2", "10")
    document.refresh_from_db()
    assert document.purged_at is not None


def test_the_portal_names_a_purged_record_without_a_link_and_refuses_its_file(client, vendor):
    from django.urls import reverse

    from tests.factories import policyholder_login

    request, document = completed_request("RET-PORTAL", vendor, "13800000108")
    records_purge(after_retention())
    policyholder_login(client, request.policy.holder)

    page = client.get(reverse("portal:request_detail", args=[request.ref])).text
    file_url = reverse("portal:document_file", args=[request.ref, document.pk])

    assert "门诊病历.pdf" in page and "文件已于" in page
    assert file_url not in page
    assert client.get(file_url).status_code == 404
