"""Retention of medical records: the files of a closed request's documents are deleted
``settings.RECORDS_RETENTION_DAYS`` after it closed (PIPL art. 47; the reason for the default
is beside the setting). The request, its timeline, its ledger and the document rows stay:
each row is marked purged, so lists still say what was there and when it went."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.documents.storage import delete_upload
from bookings.models import OPEN_STATUSES, Document, RequestEvent, ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

RETENTION_ACTOR = Actor(label="system:retention")
# Requests handled per transaction: a long backlog (the first run) never holds one huge
# transaction or lock set, and a crash loses at most one batch's work (it is redone).
PURGE_BATCH_REQUESTS = 200


def document_purged_error() -> DomainError:
    return DomainError(
        ErrorCode.DOCUMENT_PURGED,
        _("该资料已超过保存期限，文件已按规定删除。"),
        status=410,
    )


@dataclass
class PurgeResult:
    requests: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)


def retention_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.RECORDS_RETENTION_DAYS)


def requests_due_for_purge(now: datetime) -> list[int]:
    """Ids of the closed requests that closed before the cutoff and still have a stored
    file. Closed: not open; when: the latest event that left it in a closed status (one
    query, set-based)."""
    closed_statuses = [value for value in Status.values if value not in OPEN_STATUSES]
    return list(
        ServiceRequest.objects.filter(status__in=closed_statuses)
        .filter(documents__purged_at__isnull=True)
        .annotate(closed_at=Max("events__at", filter=Q(events__to_status__in=closed_statuses)))
        .filter(closed_at__lt=retention_cutoff(now))
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()
    )


def records_purge(now: datetime | None = None) -> PurgeResult:
    """Delete the files of every request due, mark their documents purged and write one
    timeline row per request (counts only). Idempotent: a purged document is not due."""
    now = now or timezone.now()
    result = PurgeResult()
    due = requests_due_for_purge(now)
    for start in range(0, len(due), PURGE_BATCH_REQUESTS):
        _purge_batch(due[start : start + PURGE_BATCH_REQUESTS], now, result)
    # Ids and counts only: nothing in the log says whose records or what they were.
    logger.info(
        "records retention: purged %d documents of %d requests; requests=%s documents=%s",
        len(result.documents),
        len(result.requests),
        result.requests,
        result.documents,
    )
    return result


def _purge_batch(request_ids: list[int], now: datetime, result: PurgeResult) -> None:
    """Four queries whatever the batch holds: lock the documents, mark them purged, one
    timeline row per request in a single insert (a retention row tells no one anything:
    it is written without the request_event signal, no webhook, no notification)."""
    with transaction.atomic():
        documents = list(
            Document.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(request_id__in=request_ids, purged_at__isnull=True)
            .order_by("id")
        )
        purged = Document.objects.filter(
            pk__in=[d.pk for d in documents], purged_at__isnull=True
        ).update(purged_at=now)
        assert purged == len(documents)  # the rows are locked: no one else purged them
        by_request: dict[int, list[Document]] = {}
        for document in documents:
            by_request.setdefault(document.request_id, []).append(document)
        RequestEvent.objects.bulk_create(
            RequestEvent(
                request=rows[0].request,
                event="records_purged",
                from_status=rows[0].request.status,
                to_status=rows[0].request.status,
                actor_label=RETENTION_ACTOR.label,
                data={"documents": len(rows), "retention_days": settings.RECORDS_RETENTION_DAYS},
            )
            for _request_id, rows in sorted(by_request.items())
        )
        names = [document.storage_name for document in documents]
        # Files go once the rows say so: a rollback leaves files and rows as they were.
        transaction.on_commit(lambda: _delete_files(names))
    result.requests.extend(sorted(by_request))
    result.documents.extend(d.pk for d in documents)


def _delete_files(names: list[str]) -> None:
    for name in names:
        delete_upload(name)
