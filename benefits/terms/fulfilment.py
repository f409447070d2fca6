"""How a benefit is fulfilled: the documents a request needs and the fulfilment tiers
(distance, daily rate, advance formula, amount threshold)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from benefits.terms.vocabulary import Money, Slug, Strict


class DocumentRequirement(Strict):
    code: Slug
    label: str
    required: bool = True
    # When the document is needed, if not always ("代办时", "已做基因检测时").
    when: str = ""


class DistanceTier(Strict):
    """Fulfilment by one-way distance from home to hospital (出院交通 ≤200 km)."""

    kind: Literal["distance"]
    code: Slug
    label: str
    max_km: Decimal | None = None  # inclusive
    over_km: Decimal | None = None  # exclusive
    provides: str
    clause: str = ""


class DailyRateTier(Strict):
    """A daily subsidy by city (护工不可抗力补贴 300/250 元每天)."""

    kind: Literal["daily_rate"]
    code: Slug
    label: str
    cities: list[str] = []  # empty means every other city
    day_rate: Money
    max_days: Annotated[int, Field(ge=1)] | None = None
    clause: str = ""


class AdvanceFormulaTier(Strict):
    """(estimated total − medical insurance − deductible) × payout ratio, capped."""

    kind: Literal["advance_formula"]
    code: Slug
    label: str
    capped_by_sum_insured: bool = True
    excludes_first_deposit: bool = True
    top_ups_allowed: bool = True
    clause: str = ""


class AmountThresholdTier(Strict):
    """Purchases from ``min_amount`` need a review; without it the payout is reduced."""

    kind: Literal["amount_threshold"]
    code: Slug
    label: str
    min_amount: Money
    requires: str
    payout_ratio_without: Annotated[Decimal, Field(gt=0, le=1)]
    clause: str = ""


class CoverageModeTier(Strict):
    """How the service is delivered depends on whether the place is on a list: 小康 出院
    综合评估 "附件1 全国 331 城市市区范围内……现场评估，范围外改为远程评估". Not a refusal:
    outside the list the service is still given, in the other mode."""

    kind: Literal["coverage_mode"]
    code: Slug
    label: str
    coverage_list: str
    # Where the place is looked up, as for a network rule.
    location: Literal["hospital", "home", "service"] = "hospital"
    inside: str  # the mode inside the list (现场评估)
    outside: str  # the mode elsewhere (远程评估)
    clause: str = ""


Tier = Annotated[
    DistanceTier | DailyRateTier | AdvanceFormulaTier | AmountThresholdTier | CoverageModeTier,
    Field(discriminator="kind"),
]
