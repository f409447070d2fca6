"""The demo's contract prices and net premiums: every vendor × benefit of the five products
is priced on every day of the demo history, and every product has this year's net premium."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from benefits.models import Benefit, Product
from bookings.models import ContractPrice, ProductPremium

pytestmark = pytest.mark.django_db


def test_every_benefit_is_priced_and_every_product_has_a_net_premium(catalogue):
    # when loaded twice (./dev up runs it on every start)
    for _ in range(2):
        call_command("load_demo_settlement", stdout=io.StringIO())
    # then
    for day in (date(2026, 9, 30), date(2026, 10, 1), timezone.localdate()):
        in_force = ContractPrice.objects.filter(
            Q(effective_until__isnull=True) | Q(effective_until__gte=day), effective_from__lte=day
        )
        priced = set(in_force.values_list("vendor", "benefit"))
        leaves = Benefit.objects.filter(components=None).distinct()
        assert priced == set(leaves.values_list("vendor", "pk"))
    for row in ContractPrice.objects.all():
        row.full_clean()  # no two prices of one service overlap
    year = timezone.localdate().year
    assert ProductPremium.objects.filter(year=year).count() == Product.objects.count()
