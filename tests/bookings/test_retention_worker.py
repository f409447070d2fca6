"""The daily retention purge through a real Celery worker and Redis (not in a test
transaction: the worker thread reads with its own connection)."""

from __future__ import annotations

import pytest

from bookings import tasks as booking_tasks
from bookings.documents.services import document_add
from bookings.documents.storage import private_storage
from bookings.models import RequestEvent, Status
from tests.bookings import test_tasks
from tests.bookings.test_vendor_api import OPS
from tests.factories import MINIMAL_PDF

# The SLA end-to-end test's app on its own Redis queue, shared as a fixture.
worker_app = test_tasks.worker_app


@pytest.fixture
def closed_request_committed(django_db_setup, django_db_blocker, settings, tmp_path):
    """A completed request with one stored record on a catalogue of its own, committed for
    real so the worker thread, with its own connection, sees it; removed afterwards."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    with (
        django_db_blocker.unblock(),
        test_tasks.committed_request("E2RKEEP", "孙八", status=Status.COMPLETED) as request,
    ):
        RequestEvent.objects.create(
            request=request, event="completed", from_status="in_service", to_status="completed"
        )
        yield document_add(request, name="病历.pdf", data=MINIMAL_PDF, actor=OPS)


def test_a_real_worker_runs_the_daily_purge(
    worker_app, closed_request_committed, django_db_blocker, settings, tmp_path
):
    from celery.contrib.testing.worker import start_worker

    if not test_tasks.redis_answers(settings.REDIS_URL):
        pytest.skip("no Redis at REDIS_URL")
    settings.RECORDS_RETENTION_DAYS = 0
    document = closed_request_committed
    with django_db_blocker.unblock():
        with start_worker(worker_app, perform_ping_check=False, shutdown_timeout=30):
            result = worker_app.tasks[booking_tasks.purge_expired_records.name].delay()
            outcome = result.get(timeout=60)
        document.refresh_from_db()

    assert outcome == {"requests": 1, "documents": 1}
    assert document.purged_at is not None
    assert not private_storage().exists(document.storage_name)
