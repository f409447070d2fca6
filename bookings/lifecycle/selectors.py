"""What staff read of a request (the staff API): one request of the caller's insurers with
its related rows loaded, and its quota ledger."""

from __future__ import annotations

from typing import Any

from benefits.models import QuotaLedgerEntry
from bookings.models import ServiceRequest
from portal.kernel.tenancy import get_scoped_or_404


def staff_request(user: Any, ref: str) -> ServiceRequest:
    """The request ``ref`` of ``user``'s insurers, else 404 (another insurer's request is
    answered like one that does not exist)."""
    queryset = ServiceRequest.objects.select_related(
        "benefit", "policy", "member__person", "recipient__person", "vendor", "region"
    ).prefetch_related("milestones", "events")
    return get_scoped_or_404(queryset, user, ref=ref)


def request_ledger(request: ServiceRequest) -> list[QuotaLedgerEntry]:
    """The request's quota movements (hold, use, release), oldest first."""
    return list(
        QuotaLedgerEntry.objects.filter(request_ref=request.ref)
        .select_related("balance")
        .order_by("created_at", "pk")
    )
