"""The bookings app's models, one module per capability (lifecycle, documents, messages, SLA,
vendors); Django and callers import them from here."""

from bookings.documents.models import Document, DocumentAccess
from bookings.lifecycle.models import (
    OPEN_STATUSES,
    CallLog,
    Consumption,
    QuotaOutcome,
    RequestEvent,
    RequestNote,
    ServiceRequest,
    Status,
)
from bookings.messages.models import FollowUp, Notification
from bookings.sla.models import Milestone
from bookings.vendors.models import IdempotentResponse, VendorToken, VendorWebhook, WebhookDelivery

__all__ = [
    "OPEN_STATUSES",
    "CallLog",
    "Consumption",
    "Document",
    "DocumentAccess",
    "FollowUp",
    "IdempotentResponse",
    "Milestone",
    "Notification",
    "QuotaOutcome",
    "RequestEvent",
    "RequestNote",
    "ServiceRequest",
    "Status",
    "VendorToken",
    "VendorWebhook",
    "WebhookDelivery",
]
