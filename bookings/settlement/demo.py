"""Demo contract prices for every vendor × benefit of the catalogue and demo net premiums,
so that ``vendor_statement`` and ``cost_ratio`` have something to say on a fresh ``./dev up``.
Every figure here is invented for the demo (marked 演示合同 / 演示数据), none comes from a
handbook or an actuarial report. Idempotent: rows are upserted on fixed dates."""

from __future__ import annotations

import zlib
from datetime import date
from decimal import Decimal

from django.db import transaction

from benefits.models import Benefit, Policy, Product
from benefits.terms.fulfilment import DistanceTier
from bookings.models import ContractPrice, PriceBasis, ProductPremium

DEMO_CONTRACT = "演示合同"
# Two price periods, so that a statement across 1 October shows effective dating.
FIRST_PERIOD = (date(2025, 1, 1), date(2026, 9, 30))
SECOND_FROM = date(2026, 10, 1)
RAISE = Decimal("1.10")
# Demo premium per policy and year, and the loading ratio (附加费用率) of every product.
PREMIUM_PER_POLICY = Decimal(2400)
LOADING = Decimal("0.3000")
DEMO_POLICY_FLOOR = 200  # the demo has few policies: premiums as if it had at least this many


def _rows(benefit: Benefit) -> list[dict[str, object]]:
    """The price rows of one benefit by the unit its quota is consumed in."""
    terms = benefit.parsed_terms
    unit = terms.quota.unit
    if unit == "days":
        return [{"basis": PriceBasis.DAYS, "unit_price": Decimal(260)}]
    if unit == "cny" or benefit.service.category == "finance":
        # Advanced or subsidised money: passed through at cost plus a 1.5 % handling rate.
        return [{"basis": PriceBasis.CNY, "unit_price": Decimal("0.0150"), "pass_through": True}]
    km_bounds = sorted(
        {t.max_km for t in terms.tiers if isinstance(t, DistanceTier) and t.max_km is not None}
    )
    if km_bounds:
        bound = km_bounds[0]
        return [
            {
                "basis": PriceBasis.KM,
                "tier_upto": bound,
                "fixed_fee": Decimal(300),
                "unit_price": Decimal(5),
            },
            {
                "basis": PriceBasis.KM,
                "tier_over": bound,
                "fixed_fee": Decimal(1800),
                "pass_through": True,
            },
        ]
    fee = Decimal(100 + (zlib.crc32(benefit.code.encode()) % 9) * 50)
    return [{"basis": PriceBasis.TIMES, "fixed_fee": fee}]


def _raised(row: dict[str, object]) -> dict[str, object]:
    raised = dict(row)
    for field in ("unit_price", "fixed_fee"):
        if field in raised and raised["basis"] != PriceBasis.CNY:
            raised[field] = (Decimal(str(raised[field])) * RAISE).quantize(Decimal("0.01"))
    return raised


def _tier(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@transaction.atomic
def load_demo_prices() -> int:
    """Upsert the demo prices; returns how many rows were written."""
    written = 0
    benefits = Benefit.objects.select_related("vendor", "service").filter(components=None)
    for benefit in benefits.distinct():
        for row in _rows(benefit):
            for start, until, values in (
                (FIRST_PERIOD[0], FIRST_PERIOD[1], row),
                (SECOND_FROM, None, _raised(row)),
            ):
                ContractPrice.objects.update_or_create(
                    vendor=benefit.vendor,
                    benefit=benefit,
                    effective_from=start,
                    tier_over=_tier(values.get("tier_over")),
                    contract_ref=DEMO_CONTRACT,
                    defaults={
                        "effective_until": until,
                        **{k: v for k, v in values.items() if k != "tier_over"},
                    },
                )
                written += 1
    return written


@transaction.atomic
def load_demo_premiums(years: list[int]) -> int:
    """Upsert a net premium per product and year from the demo policies in force then."""
    written = 0
    for product in Product.objects.all():
        for year in years:
            policies = Policy.objects.filter(
                product=product,
                effective_on__lte=date(year, 12, 31),
                expires_on__gte=date(year, 1, 1),
            ).count()
            gross = PREMIUM_PER_POLICY * max(policies, DEMO_POLICY_FLOOR)
            ProductPremium.objects.update_or_create(
                product=product,
                year=year,
                defaults={
                    "gross_premium": gross,
                    "loading_ratio": LOADING,
                    "net_premium": (gross * (1 - LOADING)).quantize(Decimal("0.01")),
                    "source": "演示数据（非精算报告）",
                },
            )
            written += 1
    return written
