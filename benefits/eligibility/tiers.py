"""Fulfilment tiers: how a service is delivered, or how much it pays, decided by data.

The thresholds come from the benefit's terms (``BenefitTerms.tiers`` and the money caps of its
quota); the facts (a distance, the service city, the inputs of the advance formula, what is
left of a cap) are gathered by the caller. Nothing here touches the database, so every tier is
tested as a plain function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.fulfilment import (
    AdvanceFormulaTier,
    AmountThresholdTier,
    CoverageModeTier,
    DailyRateTier,
    DistanceTier,
)
from coverage.resolver import short_form

# Mean Earth radius (IUGG). The handbooks' 200 km is a road distance ("以最短实际交通行驶路线为
# 准"); a straight line is never longer than the road, so it can prove "over" but never
# "within".
EARTH_RADIUS_KM = 6371.0088
CENT = Decimal("0.01")

Detail = str | int | bool | None


@dataclass(frozen=True)
class AdvanceInput:
    """The inputs of the deposit-advance formula, in CNY; the ratio is a fraction (0.8)."""

    estimated_total: Decimal
    payout_ratio: Decimal
    medical_insurance: Decimal = Decimal(0)
    deductible: Decimal = Decimal(0)
    sum_insured_left: Decimal | None = None


@dataclass(frozen=True)
class TierFacts:
    # Home to hospital by road (staff entry, the vendor's assessment or the routing backend);
    # distance tiers are decided on it.
    distance_km: Decimal | None = None
    # Home to hospital in a straight line (``great_circle_km``): decides only what it proves.
    straight_km: Decimal | None = None
    # The city where the service is given: prefecture-level or municipality, official name.
    city: str | None = None
    advance: AdvanceInput | None = None
    amount: Decimal | None = None  # what this use costs or asks for
    category: str | None = None  # money-cap category of this use (in_province …)
    cap_left: dict[str, Decimal] = field(default_factory=dict)  # category → remaining


@dataclass(frozen=True)
class TierAnswer:
    kind: str
    code: str
    label: str
    message: str
    details: dict[str, Detail]
    clause: str = ""


def great_circle_km(
    home: tuple[Decimal | float, Decimal | float], hospital: tuple[Decimal | float, Decimal | float]
) -> Decimal:
    """Haversine distance between two (latitude, longitude) points, in whole kilometres
    rounded half up: 199.5 km is 200 km, and 200 km is inside "200公里以内（含）"."""
    lat1, lon1 = (math.radians(float(v)) for v in home)
    lat2, lon2 = (math.radians(float(v)) for v in hospital)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
    return Decimal(repr(km)).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    """2100 and 0.5, not 2.1E+3 or 0.50."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def _percent(ratio: Decimal) -> str:
    return f"{_plain(ratio * 100)}%"


def _holds(tier: DistanceTier, km: Decimal) -> bool:
    """``max_km`` inclusive, ``over_km`` exclusive."""
    if tier.max_km is not None and km > tier.max_km:
        return False
    return tier.over_km is None or km > tier.over_km


def distance_tier(
    tiers: list[DistanceTier], km: Decimal, *, straight: bool = False
) -> TierAnswer | None:
    """The tier whose bounds hold the road distance ``km``, or None when none does (中宏
    院后交通 has only "200公里以内": ``distance_refusal`` refuses beyond it). With
    ``straight``, ``km`` is a straight line, a lower bound of the road: only a tier with no
    upper bound that the line already passes is proven."""
    for tier in tiers:
        if not _holds(tier, km) or (straight and tier.max_km is not None):
            continue
        bound = (
            _("%(km)s公里以内（含）") % {"km": _plain(tier.max_km)}
            if tier.max_km is not None
            else _("超过%(km)s公里") % {"km": _plain(tier.over_km or Decimal(0))}
        )
        how = _("直线距离约") if straight else _("行驶距离")
        return TierAnswer(
            kind=tier.kind,
            code=tier.code,
            label=tier.label,
            message=_("家庭常住地距住院医院%(how)s%(km)s公里，属%(bound)s：%(provides)s")
            % {"how": how, "km": _plain(km), "bound": bound, "provides": tier.provides},
            details={
                "distance_km": _plain(km),
                "measured": "straight_line" if straight else "road",
                "max_km": _plain(tier.max_km) if tier.max_km is not None else None,
                "over_km": _plain(tier.over_km) if tier.over_km is not None else None,
                "provides": tier.provides,
            },
            clause=tier.clause,
        )
    return None


TO_BE_CONFIRMED = "to_be_confirmed"


def unconfirmed_distance(tiers: list[DistanceTier], straight_km: Decimal) -> TierAnswer:
    """A straight line that proves no tier: the road may be longer, so the tier waits for
    the road distance (待核实行驶距离), never "within"."""
    bounds = sorted({t.max_km for t in tiers if t.max_km is not None})
    limit = _plain(bounds[0]) if bounds else ""
    return TierAnswer(
        kind="distance",
        code=TO_BE_CONFIRMED,
        label=_("待核实行驶距离"),
        message=_(
            "家庭常住地距住院医院直线距离约%(km)s公里；是否在%(limit)s公里以内须按最短实际"
            "行驶路线核实（待核实行驶距离）"
        )
        % {"km": _plain(straight_km), "limit": limit},
        details={"distance_km": _plain(straight_km), "measured": "straight_line"},
        clause=tiers[0].clause,
    )


def distance_refusal(terms: BenefitTerms, facts: TierFacts) -> tuple[str, str] | None:
    """(message, clause) when the distance is beyond every distance tier the benefit has
    ("限 200 公里以内"): the service is not given that far. A straight line proves it only
    when it is already beyond."""
    tiers = [t for t in terms.tiers if isinstance(t, DistanceTier)]
    km = facts.distance_km if facts.distance_km is not None else facts.straight_km
    if not tiers or km is None or any(t.max_km is None for t in tiers):
        return None  # an open-ended tier ("超过200公里") holds every far distance
    limit = max(t.max_km for t in tiers if t.max_km is not None)
    if km <= limit:
        return None
    how = _("行驶距离") if facts.distance_km is not None else _("直线距离约")
    message = _("家庭常住地距住院医院%(how)s%(km)s公里，超出本服务%(limit)s公里以内的范围") % {
        "how": how,
        "km": _plain(km),
        "limit": _plain(limit),
    }
    return message, tiers[0].clause


def daily_rate_tier(tiers: list[DailyRateTier], city: str | None) -> TierAnswer | None:
    """The rate of the first tier naming the service city (北京 matches 北京市), else the
    tier for every other city; None when the city is unknown."""
    if not city:
        return None
    names = {city, short_form(city)}
    chosen = next((t for t in tiers if names & set(t.cities)), None)
    chosen = chosen or next((t for t in tiers if not t.cities), None)
    if chosen is None:
        return None
    total = chosen.day_rate * chosen.max_days if chosen.max_days else None
    if total is not None:
        message = _(
            "%(city)s适用%(label)s：每天不超过%(rate)s元，最多%(days)s天，合计不超过%(total)s元"
        ) % {
            "city": city,
            "label": chosen.label,
            "rate": _plain(chosen.day_rate),
            "days": chosen.max_days,
            "total": _plain(total),
        }
    else:
        message = _("%(city)s适用%(label)s：每天不超过%(rate)s元") % {
            "city": city,
            "label": chosen.label,
            "rate": _plain(chosen.day_rate),
        }
    return TierAnswer(
        kind=chosen.kind,
        code=chosen.code,
        label=chosen.label,
        message=message,
        details={
            "city": city,
            "day_rate": _plain(chosen.day_rate),
            "max_days": chosen.max_days,
            "max_total": _plain(total) if total is not None else None,
        },
        clause=chosen.clause,
    )


def advance_amount(tier: AdvanceFormulaTier, given: AdvanceInput) -> tuple[Decimal, bool]:
    """(amount, capped): (estimated total − medical insurance − deductible) × payout ratio,
    never below zero, to the fen, and never above the sum insured left when the tier says so."""
    base = given.estimated_total - given.medical_insurance - given.deductible
    amount = max(base, Decimal(0)) * given.payout_ratio
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    left = given.sum_insured_left
    if tier.capped_by_sum_insured and left is not None and amount > left:
        return left, True
    return amount, False


def advance_tier(tier: AdvanceFormulaTier, given: AdvanceInput) -> TierAnswer:
    amount, capped = advance_amount(tier, given)
    message = _(
        "可垫付%(amount)s元 =（预计就医总金额%(total)s元 − 医保支付%(insurance)s元 − "
        "免赔额%(deductible)s元）× 赔付比例%(ratio)s"
    ) % {
        "amount": _plain(amount),
        "total": _plain(given.estimated_total),
        "insurance": _plain(given.medical_insurance),
        "deductible": _plain(given.deductible),
        "ratio": _percent(given.payout_ratio),
    }
    if capped:
        message = _("%(message)s，以剩余保额%(left)s元为限") % {
            "message": message,
            "left": _plain(given.sum_insured_left or Decimal(0)),
        }
    notes = []
    if tier.excludes_first_deposit:
        notes.append(_("不含首次押金"))
    if tier.top_ups_allowed:
        notes.append(_("同一住院期间费用增加可申请追加"))
    if notes:
        message = f"{message}（{'；'.join(notes)}）"
    return TierAnswer(
        kind=tier.kind,
        code=tier.code,
        label=tier.label,
        message=message,
        details={
            "estimated_total": _plain(given.estimated_total),
            "medical_insurance": _plain(given.medical_insurance),
            "deductible": _plain(given.deductible),
            "payout_ratio": _plain(given.payout_ratio),
            "sum_insured_left": (
                _plain(given.sum_insured_left) if given.sum_insured_left is not None else None
            ),
            "amount": _plain(amount),
            "capped": capped,
        },
        clause=tier.clause,
    )


def amount_threshold_tier(tier: AmountThresholdTier, amount: Decimal) -> TierAnswer | None:
    """From ``min_amount`` (inclusive) a purchase needs the review; below it, no tier."""
    if amount < tier.min_amount:
        return None
    return TierAnswer(
        kind=tier.kind,
        code=tier.code,
        label=tier.label,
        message=_("单价%(amount)s元，达到%(min)s元：%(requires)s；未按流程审核的按%(ratio)s赔付")
        % {
            "amount": _plain(amount),
            "min": _plain(tier.min_amount),
            "requires": tier.requires,
            "ratio": _percent(tier.payout_ratio_without),
        },
        details={
            "amount": _plain(amount),
            "min_amount": _plain(tier.min_amount),
            "requires": tier.requires,
            "payout_ratio_without": _plain(tier.payout_ratio_without),
        },
        clause=tier.clause,
    )


def category_cap_tier(terms: BenefitTerms, facts: TierFacts) -> TierAnswer | None:
    """What is left of the money cap of this use's category (异地就医补贴 省内/省外), and how
    much of the asked amount it still pays."""
    cap = next((c for c in terms.quota.category_caps if c.category == facts.category), None)
    if cap is None or cap.category not in facts.cap_left:
        return None
    left = max(facts.cap_left[cap.category], Decimal(0))
    message = _("%(label)s额度本期上限%(cap)s元，剩余%(left)s元") % {
        "label": cap.label,
        "cap": _plain(cap.amount),
        "left": _plain(left),
    }
    payable = None
    if facts.amount is not None:
        payable = min(facts.amount, left)
        message = _("%(message)s；本次申请%(amount)s元，可补贴%(payable)s元") % {
            "message": message,
            "amount": _plain(facts.amount),
            "payable": _plain(payable),
        }
    return TierAnswer(
        kind="category_cap",
        code=cap.category,
        label=cap.label,
        message=message,
        details={
            "cap": _plain(cap.amount),
            "remaining": _plain(left),
            "amount": _plain(facts.amount) if facts.amount is not None else None,
            "payable": _plain(payable) if payable is not None else None,
        },
        clause=terms.quota.clause,
    )


def coverage_mode_tier(tier: CoverageModeTier, covered_by: Mapping[str, bool]) -> TierAnswer | None:
    """Onsite inside the list, remote outside it (小康 331 城市); None when the place was not
    given or the list cannot be consulted."""
    covered = covered_by.get(tier.coverage_list)
    if covered is None:
        return None
    mode = tier.inside if covered else tier.outside
    where = "在" if covered else "不在"
    return TierAnswer(
        kind=tier.kind,
        code=f"{tier.code}.{'inside' if covered else 'outside'}",
        label=tier.label,
        message=_("服务地点%(where)s%(list)s范围内，提供%(mode)s")
        % {"where": where, "list": tier.label, "mode": mode},
        details={"coverage_list": tier.coverage_list, "inside": covered, "mode": mode},
        clause=tier.clause,
    )


def fulfilment_tier(
    terms: BenefitTerms, facts: TierFacts, covered_by: Mapping[str, bool] | None = None
) -> TierAnswer | None:
    """The tier that applies to this use, or None when the benefit has none or the facts
    needed to choose one were not given. ``covered_by`` (list code → the place is on it)
    chooses a coverage-mode tier."""
    for mode_tier in terms.tiers:
        if isinstance(mode_tier, CoverageModeTier):
            return coverage_mode_tier(mode_tier, covered_by or {})
    distance = [t for t in terms.tiers if isinstance(t, DistanceTier)]
    if distance and facts.distance_km is not None:
        return distance_tier(distance, facts.distance_km)
    if distance and facts.straight_km is not None:
        proven = distance_tier(distance, facts.straight_km, straight=True)
        if proven is not None or distance_refusal(terms, facts) is not None:
            return proven
        return unconfirmed_distance(distance, facts.straight_km)
    daily = [t for t in terms.tiers if isinstance(t, DailyRateTier)]
    if daily:
        return daily_rate_tier(daily, facts.city)
    for tier in terms.tiers:
        if isinstance(tier, AdvanceFormulaTier) and facts.advance is not None:
            return advance_tier(tier, facts.advance)
        if isinstance(tier, AmountThresholdTier) and facts.amount is not None:
            return amount_threshold_tier(tier, facts.amount)
    return category_cap_tier(terms, facts)
