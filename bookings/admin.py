"""The bookings app's admin: one module per capability, registered when Django imports this."""

from bookings.complaints import admin as complaints_admin
from bookings.documents import admin as documents_admin
from bookings.lifecycle import admin as lifecycle_admin
from bookings.messages import admin as messages_admin
from bookings.settlement import admin as settlement_admin
from bookings.sla import admin as sla_admin
from bookings.sla import admin_workload as workload_admin
from bookings.vendors import admin as vendors_admin

__all__ = [
    "complaints_admin",
    "documents_admin",
    "lifecycle_admin",
    "messages_admin",
    "settlement_admin",
    "sla_admin",
    "vendors_admin",
    "workload_admin",
]
