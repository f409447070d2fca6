from benefits.models.calendar import CalendarDay, CalendarYear
from benefits.models.catalogue import Benefit, CatalogueRecord, Insurer, Product, Service, Vendor
from benefits.models.ledger import QuotaBalance, QuotaLedgerEntry
from benefits.models.phone_changes import PhoneChange
from benefits.models.policies import Diagnosis, Hospitalisation, Person, Policy, PolicyMember

__all__ = [
    "Benefit",
    "CalendarDay",
    "CalendarYear",
    "CatalogueRecord",
    "Diagnosis",
    "Hospitalisation",
    "Insurer",
    "Person",
    "PhoneChange",
    "Policy",
    "PolicyMember",
    "Product",
    "QuotaBalance",
    "QuotaLedgerEntry",
    "Service",
    "Vendor",
]
