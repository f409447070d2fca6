"""Which vendors may take a benefit's requests: the benefit's own vendor and the backup
vendors an insurer named for it in admin, while they are active. Every assignment channel
(the lifecycle service, the admin's choices) asks here."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from benefits.models import Benefit, Vendor


def assignable_vendors(benefit: Benefit) -> QuerySet[Vendor]:
    """The active vendors that deliver ``benefit``: its vendor plus its backup vendors,
    by name. One query."""
    return (
        Vendor.objects.filter(Q(pk=benefit.vendor_id) | Q(backup_benefits=benefit), active=True)
        .distinct()
        .order_by("name", "code")
    )


def vendors_assignable_to_all(benefit_ids: Iterable[int]) -> QuerySet[Vendor]:
    """The active vendors that deliver every one of the benefits ``benefit_ids`` (the
    choices of a bulk assignment); empty when they have none in common or none are given.
    Two queries to decide, whatever the number of benefits, plus the vendors' own."""
    ids = set(benefit_ids)
    if not ids:
        return Vendor.objects.none()
    serving: dict[int, set[int]] = {pk: set() for pk in ids}
    for benefit_id, vendor_id in Benefit.objects.filter(pk__in=ids).values_list("pk", "vendor"):
        serving[benefit_id].add(vendor_id)
    links = Benefit.backup_vendors.through.objects.filter(benefit_id__in=ids)
    for benefit_id, vendor_id in links.values_list("benefit_id", "vendor_id"):
        serving[benefit_id].add(vendor_id)
    common = set.intersection(*serving.values())
    return Vendor.objects.filter(pk__in=common, active=True).order_by("name", "code")


def insurers_served(vendor: Vendor) -> set[int]:
    """Every insurer whose requests ``vendor`` may see: its own insurer (an insurer's team)
    and the insurers of the products whose benefits it delivers or backs up. One query."""
    served = Benefit.objects.filter(Q(vendor=vendor) | Q(backup_vendors=vendor))
    ids = set(served.values_list("product__insurer", flat=True))
    return ids | ({vendor.insurer_id} if vendor.insurer_id else set())
