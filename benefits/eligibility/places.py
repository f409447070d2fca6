"""Where a request is, for the eligibility facts: the regions it names, the recipient's home,
the networks and disease lists that cover them. All reference data, read from process memos
(``coverage.selectors``): a query the first time a process needs a list, none after."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.fulfilment import CoverageModeTier
from benefits.terms.rules import CoveredConditionRule, ItemListRule, NetworkRule
from coverage.models import CoverageList, Region
from coverage.resolver import MUNICIPALITIES, normalise
from coverage.selectors import (
    coverage_list_cached,
    entry_region_cached,
    list_covers_region_cached,
    list_names_cached,
    place_resolve,
    region_by_id_cached,
    region_cached,
    region_index_cached,
    region_lineage,
)
from portal.kernel.errors import DomainError


class RequestPlaces(NamedTuple):
    service: Region | None  # where the service is given (context.region)
    hospital: Region | None  # where the stay's hospital is, or the listed hospital named
    named: str | None  # the hospital or pharmacy named, for a network check by name
    home: Region | None  # the recipient's home city


def request_places(
    *,
    region: str | None,
    stay_region: str | None,
    named: str | None,
    home_city_id: int | None,
) -> RequestPlaces:
    """The regions a request names, checked (``invalid_region``), and the recipient's home."""
    service = region_named(region, "context.region")
    hospital = region_named(stay_region, "context.hospitalisation.region")
    if hospital is None and named:
        hospital = entry_region_cached(named)  # where a listed hospital is, when not given
    home = region_by_id_cached(home_city_id) if home_city_id else None
    return RequestPlaces(service, hospital, named, home)


def region_named(text: str | None, field: str) -> Region | None:
    """The region a request names (code or name), or ``invalid_region`` for ``field``, with
    the places an ambiguous name could mean as ``candidates``."""
    if not text:
        return None
    region = region_cached(text)
    if region is None:
        problem, candidates = place_problem(text)
        message = _("%(field)s：%(problem)s") % {"field": field, "problem": problem}
        raise DomainError("invalid_region", message, field=field, candidates=candidates)
    return region


def place_problem(text: str) -> tuple[str, list[str]]:
    """Why a typed place cannot be used, in the policyholder's words, and the full names
    of the places it could mean (each typed back resolves); for a form field as is."""
    index = region_index_cached()
    candidates = [index.full_name(r) for r in place_resolve(text).candidates[:5]]
    if candidates:
        message = _("“%(text)s”有多处同名地区，请写明省市，如：%(names)s") % {
            "text": text,
            "names": "、".join(candidates),
        }
    else:
        message = _("无法识别“%(text)s”，请输入省市区名称，如：上海市浦东新区") % {"text": text}
    return message, candidates


def city_of(region: Region) -> Region:
    """The prefecture-level city (or municipality) a region belongs to."""
    lineage = region_lineage(region)
    return next(
        (r for r in lineage if r.level == Region.Level.PREFECTURE or r.code in MUNICIPALITIES),
        lineage[-1],
    )


def province_of(region: Region) -> Region:
    """The province (or municipality, autonomous region) a region belongs to."""
    return region_lineage(region)[-1]


def coordinates(region: Region) -> tuple[Decimal, Decimal] | None:
    """The region's (latitude, longitude), else its nearest parent's."""
    for place in region_lineage(region):
        if place.latitude is not None and place.longitude is not None:
            return place.latitude, place.longitude
    return None


Point = tuple[Decimal, Decimal]


def road_km(home: Point, hospital: Point) -> Decimal | None:
    """The road distance from the routing backend (``settings.ROUTING_BACKEND``), or None
    when none is configured or it has no answer."""
    if not settings.ROUTING_BACKEND:
        return None
    route: Callable[[Point, Point], Decimal | None] = import_string(settings.ROUTING_BACKEND)
    return route(home, hospital)


def network_coverage(
    terms: BenefitTerms,
    *,
    home: Region | None,
    hospital: Region | None,
    service: Region | None,
    named: str | None,
) -> tuple[dict[str, bool], frozenset[str]]:
    """(list code → covered, list codes that cannot be consulted) for the network rules."""
    covered: dict[str, bool] = {}
    uncheckable: set[str] = set()
    places = {"home": home, "hospital": hospital or service, "service": service or hospital}
    # The lists of the network rules and of the coverage-mode tiers (onsite inside the list).
    lookups = [
        (rule.coverage_list, rule.location)
        for rule in terms.rules
        if isinstance(rule, NetworkRule) and rule.coverage_list
    ] + [
        (tier.coverage_list, tier.location)
        for tier in terms.tiers
        if isinstance(tier, CoverageModeTier)
    ]
    for code, location in lookups:
        coverage_list = coverage_list_cached(code)
        if coverage_list is None or not (
            coverage_list.member_count or coverage_list.entry_count  # type: ignore[attr-defined]
        ):
            uncheckable.add(code)  # printed as a QR code, not imported yet
        elif coverage_list.kind == CoverageList.Kind.CITY:
            place = places[location]
            if place is not None:
                covered[code] = list_covers_region_cached(coverage_list, place)
        elif named:
            covered[code] = normalise(named) in list_names_cached(coverage_list)
        else:
            # No hospital named: in these networks the vendor arranges the hospital.
            uncheckable.add(code)
    return covered, frozenset(uncheckable)


def item_lists(terms: BenefitTerms, item: str | None) -> dict[str, bool]:
    """For the item rules that name an annex list (附表2 drugs): list code → whether it names
    ``item``; a list not imported yet is left out (the rule is then unchecked)."""
    found: dict[str, bool] = {}
    if not item:
        return found
    for rule in terms.rules:
        if isinstance(rule, ItemListRule) and rule.coverage_list:
            coverage_list = coverage_list_cached(rule.coverage_list)
            if coverage_list is not None and (names := list_names_cached(coverage_list)):
                found[rule.coverage_list] = normalise(item) in names
    return found


def disease_lists(terms: BenefitTerms, disease: str | None) -> frozenset[str]:
    """The codes of the benefit's disease lists that name ``disease``."""
    if not disease:
        return frozenset()
    found = set()
    for rule in terms.rules:
        if isinstance(rule, CoveredConditionRule) and rule.disease_list:
            coverage_list = coverage_list_cached(rule.disease_list)
            if coverage_list is not None and normalise(disease) in list_names_cached(coverage_list):
                found.add(rule.disease_list)
    return frozenset(found)
