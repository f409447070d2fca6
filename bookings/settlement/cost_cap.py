"""The cost cap of 银保监办发〔2020〕83号: health-management services included in a product's
cover may cost at most 20 % of its net premium (净保险费).

Reading used here: the policy year ``Y`` of a product is the calendar year Y in Asia/Shanghai
(the actuarial report's year); its cost is every service of the product that ended in Y,
priced at the contract prices (``pricing``), over the net premium entered for (product, Y).
The projection is linear by elapsed days: cost so far × days in the year ÷ days elapsed
(today included), so a year half gone with 8 % spent projects 16 %."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count

from benefits.models import Policy, Product
from bookings.models import ProductPremium
from bookings.settlement.pricing import PricedTotals, products_cost

COST_CAP = Decimal("0.20")  # 银保监办发〔2020〕83号: ≤ 20 % of the net premium
RATIO = Decimal("0.0001")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CostRatio:
    product_code: str
    product_name: str
    year: int
    services: int
    unpriced: int  # ended services without a contract price in force: not in the cost
    cost: Decimal
    policies: int  # policies of the product in force on some day of the year
    cost_per_policy: Decimal | None
    net_premium: Decimal | None  # None: not entered yet
    ratio: Decimal | None
    elapsed_days: int
    year_days: int
    projected_cost: Decimal
    projected_ratio: Decimal | None

    @property
    def cap(self) -> Decimal:
        return COST_CAP

    @property
    def over_cap(self) -> bool:
        return self.ratio is not None and self.ratio > COST_CAP

    @property
    def projected_over_cap(self) -> bool:
        return self.projected_ratio is not None and self.projected_ratio > COST_CAP

    def as_json(self) -> dict[str, object]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "product": self.product_code,
            "product_name": self.product_name,
            "year": self.year,
            "services": self.services,
            "unpriced": self.unpriced,
            "cost": str(self.cost),
            "policies": self.policies,
            "cost_per_policy": text(self.cost_per_policy),
            "net_premium": text(self.net_premium),
            "ratio": text(self.ratio),
            "cap": str(COST_CAP),
            "over_cap": self.over_cap,
            "elapsed_days": self.elapsed_days,
            "year_days": self.year_days,
            "projection_method": "linear_by_elapsed_days",
            "projected_cost": str(self.projected_cost),
            "projected_ratio": text(self.projected_ratio),
            "projected_over_cap": self.projected_over_cap,
        }


def elapsed(year: int, today: date) -> tuple[int, int]:
    """(days of ``year`` up to ``today`` inclusive, capped to the year; days in the year)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    total = (last - first).days + 1
    if today < first:
        return 0, total
    return min((today - first).days + 1, total), total


def cost_ratios(products: list[Product], year: int, *, today: date) -> list[CostRatio]:
    """Each product's services of ``year`` against its net premium, in three queries for
    any number of products: the priced costs, the policies, the premiums."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    ids = [product.pk for product in products]
    costs = products_cost(product_ids=ids, first=first, after=date(year + 1, 1, 1))
    policies = dict(
        Policy.objects.filter(product__in=ids, effective_on__lte=last, expires_on__gte=first)
        .values("product")
        .annotate(n=Count("pk"))
        .values_list("product", "n")
    )
    premiums = dict(
        ProductPremium.objects.filter(product__in=ids, year=year).values_list(
            "product", "net_premium"
        )
    )
    days, year_days = elapsed(year, today)
    return [
        _report(
            product,
            year,
            costs[product.pk],
            policies.get(product.pk, 0),
            premiums.get(product.pk),
            days,
            year_days,
        )
        for product in products
    ]


def _report(
    product: Product,
    year: int,
    totals: PricedTotals,
    policies: int,
    premium: Decimal | None,
    days: int,
    year_days: int,
) -> CostRatio:
    projected = (
        (totals.cost * year_days / days).quantize(CENT, ROUND_HALF_UP) if days else Decimal(0)
    )

    def share(amount: Decimal) -> Decimal | None:
        return (amount / premium).quantize(RATIO, ROUND_HALF_UP) if premium else None

    return CostRatio(
        product_code=product.code,
        product_name=product.name,
        year=year,
        services=totals.services,
        unpriced=totals.services - totals.priced,
        cost=totals.cost,
        policies=policies,
        cost_per_policy=(totals.cost / policies).quantize(CENT, ROUND_HALF_UP)
        if policies
        else None,
        net_premium=premium,
        ratio=share(totals.cost),
        elapsed_days=days,
        year_days=year_days,
        projected_cost=projected,
        projected_ratio=share(projected) if days else None,
    )


def cost_ratio(product: Product, year: int, *, today: date) -> CostRatio:
    return cost_ratios([product], year, today=today)[0]


def cost_cap_warnings(products: list[Product], *, today: date) -> list[CostRatio]:
    """The products whose projection for this year crosses the 20 % line (the SLA
    dashboard's warning; three queries). A product without a net premium entered is not
    warned about here: ``cost_ratio`` shows it as missing."""
    return [r for r in cost_ratios(products, today.year, today=today) if r.projected_over_cap]
