"""我能在哪里用: for each benefit the policyholder has whose terms name a network, the cities
(with their hospital counts and scope) or the hospitals (with grade and address) of the
imported list, searchable and paginated for a phone. The lists are the ones eligibility
checks (``NetworkRule.coverage_list``), read through ``coverage.selectors``."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from benefits.eligibility.facts import benefit_cached
from benefits.models import Benefit, Person
from benefits.terms.rules import NetworkRule
from coverage.models import CoverageList
from coverage.selectors import coverage_list_cached, list_entries_search, list_members_search
from portal.pages.access import actable_members, policyholder_required, portal_person

PER_PAGE = 30
MAX_QUERY_CHARS = 40


@dataclass(frozen=True)
class Network:
    """A list a benefit is checked against, with how big it is (0: not imported yet)."""

    coverage_list: CoverageList
    size: int
    description: str

    @property
    def is_city_list(self) -> bool:
        return self.coverage_list.kind == CoverageList.Kind.CITY


def benefit_networks(benefit: Benefit) -> list[Network]:
    """The benefit's network lists, each once, as its terms name them."""
    networks: list[Network] = []
    seen: set[str] = set()
    for rule in benefit.parsed_terms.rules:
        if not isinstance(rule, NetworkRule) or not rule.coverage_list:
            continue
        if rule.coverage_list in seen:
            continue
        seen.add(rule.coverage_list)
        found = coverage_list_cached(rule.coverage_list)
        if found is not None:
            size = found.member_count or found.entry_count  # type: ignore[attr-defined]
            networks.append(Network(found, size, rule.description))
    return networks


def person_benefits_with_networks(person: Person) -> list[tuple[Benefit, list[Network]]]:
    """The active benefits of every product the person acts on, those with a network."""
    products = {m.policy.product_id for m in actable_members(person, timezone.localdate())}
    codes = (
        Benefit.objects.filter(product_id__in=products, active=True)
        .order_by("product_id", "position", "id")
        .values_list("code", flat=True)
    )
    found = []
    for code in codes:
        benefit = benefit_cached(code)
        if benefit is not None and (networks := benefit_networks(benefit)):
            found.append((benefit, networks))
    return found


@policyholder_required
def where_index(request: HttpRequest) -> HttpResponse:
    benefits = person_benefits_with_networks(portal_person(request))
    return render(request, "portal/where_index.html", {"benefits": benefits})


@policyholder_required
def where_benefit(request: HttpRequest, benefit_code: str) -> HttpResponse:
    benefits = dict(person_benefits_with_networks(portal_person(request)))
    benefit = next((b for b in benefits if b.code == benefit_code), None)
    if benefit is None:  # not one of theirs, or without a network
        raise Http404
    networks = benefits[benefit]
    chosen = next(
        (n for n in networks if n.coverage_list.code == request.GET.get("list")), networks[0]
    )
    query = request.GET.get("q", "").strip()[:MAX_QUERY_CHARS]
    page: Page | None = None
    if chosen.size:
        rows = (
            list_members_search(chosen.coverage_list, query)
            if chosen.is_city_list
            else list_entries_search(chosen.coverage_list, query)
        )
        page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "benefit": benefit,
        "networks": networks,
        "chosen": chosen,
        "query": query,
        "page": page,
    }
    return render(request, "portal/where.html", context)
