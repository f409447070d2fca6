from benefits.calendar.models import CalendarDay, CalendarYear
from benefits.catalogue.models import Benefit, CatalogueRecord, Insurer, Product, Service, Vendor
from benefits.policies.consents import ConsentRecord
from benefits.policies.models import Diagnosis, Hospitalisation, Person, Policy, PolicyMember
from benefits.policies.phone_changes import PhoneChange
from benefits.quota.models import Delivery, QuotaBalance, QuotaLedgerEntry

__all__ = [
    "Benefit",
    "CalendarDay",
    "CalendarYear",
    "CatalogueRecord",
    "ConsentRecord",
    "Delivery",
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
