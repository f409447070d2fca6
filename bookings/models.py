"""The bookings app's models, one module per capability (lifecycle, documents, messages, SLA,
vendors); Django and callers import them from here."""

from bookings.complaints.models import Complaint, ComplaintReply
from bookings.documents.models import Document, DocumentAccess, RecordsConsent
from bookings.lifecycle.models import (
    OPEN_STATUSES,
    CallLog,
    Consumption,
    QuotaOutcome,
    Rating,
    RequestEvent,
    RequestNote,
    ServiceRequest,
    Status,
)
from bookings.messages.models import FollowUp, Notification
from bookings.settlement.models import (
    ContractPrice,
    PriceBasis,
    ProductPremium,
    StatementLine,
    VendorStatement,
)
from bookings.sla.models import Milestone
from bookings.vendors.models import (
    IdempotentResponse,
    VendorAccount,
    VendorToken,
    VendorWebhook,
    WebhookDelivery,
)

__all__ = [
    "OPEN_STATUSES",
    "CallLog",
    "Complaint",
    "ComplaintReply",
    "Consumption",
    "ContractPrice",
    "Document",
    "DocumentAccess",
    "FollowUp",
    "IdempotentResponse",
    "Milestone",
    "Notification",
    "PriceBasis",
    "ProductPremium",
    "QuotaOutcome",
    "Rating",
    "RecordsConsent",
    "RequestEvent",
    "RequestNote",
    "ServiceRequest",
    "StatementLine",
    "Status",
    "VendorAccount",
    "VendorStatement",
    "VendorToken",
    "VendorWebhook",
    "WebhookDelivery",
]
