"""Reads of the catalogue, with related rows loaded: a fixed number of queries whatever the
size of the catalogue."""

from django.db.models import Prefetch, QuerySet

from benefits.models import Benefit, Product


def catalogue_products(
    *,
    product: str | None = None,
    insurer: str | None = None,
    products: QuerySet[Product] | None = None,
) -> QuerySet[Product]:
    """Products with insurer, and their benefits with service, vendor, parent and lists.

    Queries: products+insurers, benefits+service+vendor+parent, benefit-list links+lists.
    """
    benefits = Benefit.objects.select_related("service", "vendor", "parent").prefetch_related(
        "coverage_lists"
    )
    products = (
        (Product.objects.all() if products is None else products)
        .select_related("insurer")
        .prefetch_related(Prefetch("benefits", queryset=benefits))
        .order_by("code")
    )
    if product:
        products = products.filter(code=product)
    if insurer:
        products = products.filter(insurer__code=insurer)
    return products
