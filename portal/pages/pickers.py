"""Choices for the request form, from the reference data: the diseases of the benefit's
disease lists (with their other names), the hospitals of its hospital lists in the chosen
city, and the provinces, cities and districts of the region table. Each is a text input with
a ``<datalist>`` or a plain ``<select>``: it works without JavaScript, and what a person types
is still read by the resolver or the engine's list check."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from benefits.terms.benefit_terms import BenefitTerms
from benefits.terms.rules import CoveredConditionRule, NetworkRule
from coverage.models import Region
from coverage.resolver import MUNICIPALITIES
from coverage.selectors import (
    EntryChoice,
    list_choices_cached,
    place_resolve,
    region_cached,
    region_children,
)

Option = tuple[str, str]  # (value typed into the field, label shown beside it)
DISEASE_LIST_ID = "disease-choices"
HOSPITAL_LIST_ID = "hospital-choices"


class DatalistInput(forms.TextInput):
    """A text input suggesting ``options`` as it is typed (the browser's own ``<datalist>``,
    which phones show above the keyboard); any other text is still accepted."""

    def __init__(
        self, options: Sequence[Option], list_id: str, attrs: dict[str, Any] | None = None
    ):
        super().__init__({**(attrs or {}), "list": list_id, "autocomplete": "off"})
        self.options = list(options)
        self.list_id = list_id

    def render(self, name: str, value: Any, attrs=None, renderer=None) -> SafeString:
        field = super().render(name, value, attrs, renderer)
        options = format_html_join(
            "",
            '<option value="{}">{}</option>',
            ((value, label) for value, label in self.options),
        )
        return format_html('{}<datalist id="{}">{}</datalist>', field, self.list_id, options)


def disease_options(terms: BenefitTerms) -> list[Option]:
    """Each listed disease by its printed name, then each of its other names labelled with
    the listed disease it means (肺癌 → 恶性肿瘤)."""
    names: list[Option] = []
    aliases: list[Option] = []
    for rule in terms.rules:
        if isinstance(rule, CoveredConditionRule) and rule.disease_list:
            for entry in list_choices_cached(rule.disease_list):
                names.append((entry.name, ""))
                aliases.extend((alias, entry.name) for alias in entry.aliases)
    return _unique(names + aliases)


def hospital_lists(terms: BenefitTerms) -> list[str]:
    """The codes of the benefit's hospital (or pharmacy) networks."""
    return [
        rule.coverage_list
        for rule in terms.rules
        if isinstance(rule, NetworkRule)
        and rule.coverage_list
        and rule.target in ("hospital", "pharmacy")
    ]


def hospital_options(terms: BenefitTerms, place: str | None) -> list[Option]:
    """The hospitals of the benefit's networks in the city of ``place`` (a code or a typed
    name), or all of them when no city is known yet; the grade as the label when printed."""
    region = region_cached(place) if place else None
    city_ids = _city_ids(region) if region else None
    options: list[Option] = []
    for code in hospital_lists(terms):
        for entry in list_choices_cached(code):
            if city_ids is None or _in_city(entry, city_ids):
                options.append((entry.name, entry.grade))
    return _unique(options)


def _city_ids(region: Region) -> set[int]:
    # A district is in its city; a city's own entries and a province-wide entry count too.
    ids = {region.id}
    parent = region.parent
    while parent is not None:
        ids.add(parent.id)
        parent = parent.parent
    return ids


def _in_city(entry: EntryChoice, city_ids: set[int]) -> bool:
    return entry.city_id is None or entry.city_id in city_ids or entry.region_id in city_ids


def _unique(options: Iterable[Option]) -> list[Option]:
    seen: set[str] = set()
    result = []
    for value, label in options:
        if value not in seen:
            seen.add(value)
            result.append((value, label))
    return result


# --- 省/市/区 -----------------------------------------------------------------------------------


def city_choices(province: str) -> list[Option]:
    """The cities of a province; a municipality (北京市) is its own one city."""
    if not province:
        return []
    if province in MUNICIPALITIES:
        return [(code, name) for code, name in region_children(None) if code == province]
    return region_children(province)


def county_choices(city: str) -> list[Option]:
    """The districts and counties of a city (a municipality's hang under it directly)."""
    return region_children(city) if city else []


def picked_code(province: str, city: str, county: str) -> str:
    """The deepest place chosen, when each choice belongs to the one above it; a choice
    left over from another province (changed without refreshing) is ignored."""
    if not province:
        return ""
    if not city or city not in dict(city_choices(province)):
        return ""
    if county and county in dict(county_choices(city)):
        return county
    return city


def typed_place_code(text: str, province: str | None) -> str | None:
    """The division a typed place names, read inside the province chosen (朝阳区 with 北京
    is 110105); None when the resolver cannot read it (``place_problem`` says why)."""
    resolution = place_resolve(text, province=province or None)
    if resolution.region_code is None and province:
        resolution = place_resolve(text)
    return resolution.region_code
