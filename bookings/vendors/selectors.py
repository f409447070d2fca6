"""What a vendor may read: only the requests assigned to it, with related rows loaded so
that a page of the list costs one query whatever its length."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Min, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from benefits.models import Vendor
from bookings.documents.retention import document_purged_error
from bookings.documents.sharing import records_withheld, vendor_records_problem
from bookings.lifecycle.workflow import DELIVERING_STATUSES
from bookings.models import Document, Milestone, RequestEvent, ServiceRequest
from portal.kernel.errors import DomainError, NotFound


def vendor_requests(vendor: Vendor) -> QuerySet[ServiceRequest]:
    """The vendor's requests, oldest change first: a client syncing with ``updated_since``
    walks forward through them."""
    return (
        ServiceRequest.objects.filter(vendor=vendor)
        .select_related("benefit", "region")
        # The benefit's terms and handbook text are large and not shown in a list.
        .defer("benefit__terms", "benefit__clause_text")
        .order_by("updated_at", "id")
    )


def vendor_worklist(vendor: Vendor, *, delivering_only: bool) -> QuerySet[ServiceRequest]:
    """The workbench's list: the vendor's requests with their next SLA deadline
    (``next_due``: the earliest running milestone) and how many milestones are breached.
    ``delivering_only``: those the vendor still has to serve, most urgent first; otherwise
    all of them, latest change first."""
    queryset = vendor_requests(vendor).annotate(
        next_due=Min("milestones__due_at", filter=Q(milestones__state=Milestone.State.PENDING)),
        breached=Count("milestones", filter=Q(milestones__state=Milestone.State.BREACHED)),
    )
    if delivering_only:
        return queryset.filter(status__in=DELIVERING_STATUSES).order_by(
            F("next_due").asc(nulls_last=True), "created_at", "id"
        )
    return queryset.order_by("-updated_at", "-id")


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: keyset pagination, so rows changing while a client
    pages through never make it skip or repeat a request."""

    updated_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.updated_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _sep, ident = raw.partition("|")
            cursor = cls(datetime.fromisoformat(stamp), int(ident))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise DomainError(
                "invalid_input", _("cursor 无效，请使用上一页返回的 next_cursor"), status=422
            ) from None
        if cursor.updated_at.tzinfo is None:
            raise DomainError(
                "invalid_input", _("cursor 无效，请使用上一页返回的 next_cursor"), status=422
            )
        return cursor


def vendor_request_page(
    vendor: Vendor,
    *,
    state: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int,
) -> tuple[list[ServiceRequest], str | None]:
    """One page of the vendor's requests and the cursor of the next page (None at the end).
    One query: ``limit + 1`` rows tell whether another page follows."""
    queryset = vendor_requests(vendor)
    if state:
        queryset = queryset.filter(status=state)
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    if cursor:
        after = Cursor.decode(cursor)
        queryset = queryset.filter(
            Q(updated_at__gt=after.updated_at) | Q(updated_at=after.updated_at, id__gt=after.id)
        )
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], Cursor(last.updated_at, last.pk).encode()


def vendor_request(vendor: Vendor, ref: str) -> ServiceRequest:
    """The request with that reference if it is assigned to ``vendor``. Another vendor's
    request is "not found" too: the answer never confirms that a reference exists."""
    request = (
        ServiceRequest.objects.filter(vendor=vendor, ref=ref)
        .select_related("benefit", "region", "recipient__person")
        .first()
    )
    if request is None:
        raise NotFound(_("未找到该服务申请"))
    return request


def vendor_request_detail(vendor: Vendor, ref: str) -> ServiceRequest:
    """``vendor_request`` with its documents, SLA milestones and timeline loaded. Without
    the member's standing consent to provide the records (``records_withheld``) the list
    holds only the vendor's own reports: the member's records are not even named."""
    request = vendor_request(vendor, ref)
    documents = Document.objects.order_by("uploaded_at", "id")
    if request.pk in records_withheld([request.pk]):
        documents = documents.filter(from_vendor=True)
    events = RequestEvent.objects.order_by("at", "id")
    # Milestones in the order the benefit's SLA lists them (the default orders by due
    # time, and unstarted ones have none).
    milestones = Milestone.objects.order_by("id")
    prefetch = [
        Prefetch("documents", queryset=documents),
        Prefetch("milestones", queryset=milestones),
        Prefetch("events", queryset=events),
    ]
    prefetch_related_objects([request], *prefetch)
    return request


def vendor_document(vendor: Vendor, ref: str, document_id: int) -> Document:
    """A document of one of the vendor's requests; anything else is not found. The
    member's records (not the vendor's own reports) only while the member's consent to
    provide them stands (``vendor_records_problem``, 403 ``records_consent_withdrawn``);
    a file deleted after its retention period answers 410 ``document_purged``. Every vendor
    path (API, workbench) opens records through here."""
    document = (
        Document.objects.filter(pk=document_id, request__ref=ref, request__vendor=vendor)
        .select_related("request__recipient__person", "request__benefit")
        .first()
    )
    if document is None:
        raise NotFound(_("未找到该资料"))
    if not document.from_vendor and (refused := vendor_records_problem(document.request)):
        raise refused
    if document.purged_at is not None:
        raise document_purged_error()
    return document
