"""The 20 % cost cap (银保监办发〔2020〕83号): a product's services of the year against its net
premium, the linear projection, and the warning on the SLA dashboard."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from benefits.models import Benefit, Product
from bookings.models import ProductPremium
from bookings.settlement.cost_cap import cost_ratio, elapsed
from bookings.sla.dashboard import sla_dashboard
from portal.kernel.clock import SHANGHAI
from tests.bookings.settlement_support import ended, price, shanghai
from tests.factories import OUTPATIENT_ASSIST, pingan_policy, staff_member

pytestmark = pytest.mark.django_db
APRIL_10 = date(2026, 4, 10)  # day 100 of 365


@pytest.fixture
def product(catalogue):
    return Product.objects.get(code="pingan.health")


def _services(count: int, on: date, fee: int = 100) -> None:
    policy = pingan_policy(f"PA-CAP-{on:%m%d}-{count}")
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    if not price_exists(benefit):
        price(benefit, date(2025, 1, 1), fixed_fee=Decimal(fee))
    for _ in range(count):
        ended(policy, benefit, shanghai(on))


def price_exists(benefit: Benefit) -> bool:
    from bookings.models import ContractPrice

    return ContractPrice.objects.filter(benefit=benefit).exists()


def test_elapsed_days_count_today_and_stop_at_the_year_end():
    assert elapsed(2026, APRIL_10) == (100, 365)
    assert elapsed(2024, date(2026, 1, 5)) == (366, 366)
    assert elapsed(2027, APRIL_10) == (0, 365)


def test_the_ratio_and_its_linear_projection(product):
    # given 5 services of 100 元 by 10 April, on a net premium of 10,000 元
    ProductPremium.objects.create(product=product, year=2026, net_premium=Decimal(10000))
    _services(5, date(2026, 3, 1))
    # when
    report = cost_ratio(product, 2026, today=APRIL_10)
    # then 5 % so far; 500 × 365 / 100 = 1,825 projected, 18.25 %: under the line
    assert (report.services, report.cost, report.ratio) == (5, Decimal(500), Decimal("0.0500"))
    assert report.policies == 1 and report.cost_per_policy == Decimal(500)
    assert report.projected_cost == Decimal("1825.00")
    assert report.projected_ratio == Decimal("0.1825")
    assert not report.projected_over_cap

    # one more service: 600 × 3.65 = 2,190, 21.9 %: the projection crosses 20 %
    _services(1, date(2026, 4, 9))
    report = cost_ratio(product, 2026, today=APRIL_10)
    assert report.projected_ratio == Decimal("0.2190") and report.projected_over_cap
    assert not report.over_cap  # 6 % so far


def test_services_of_another_year_do_not_count(product):
    ProductPremium.objects.create(product=product, year=2026, net_premium=Decimal(10000))
    _services(2, date(2025, 12, 31))
    assert cost_ratio(product, 2026, today=APRIL_10).services == 0


def test_without_a_net_premium_the_ratio_is_unknown_not_zero(product):
    _services(1, date(2026, 3, 1))
    report = cost_ratio(product, 2026, today=APRIL_10)
    assert report.cost == Decimal(100) and report.ratio is None and not report.projected_over_cap


def test_the_net_premium_can_be_entered_as_premium_and_loading(product):
    premium = ProductPremium(
        product=product, year=2026, gross_premium=Decimal(100000), loading_ratio=Decimal("0.35")
    )
    premium.full_clean()
    assert premium.net_premium == Decimal("65000.00")
    with pytest.raises(ValidationError):
        ProductPremium(product=product, year=2027).full_clean()


def test_the_sla_dashboard_warns_when_the_projection_crosses_the_line(product, client):
    # given this year's services projected past 20 % of the net premium
    today = timezone.localdate()
    ProductPremium.objects.create(product=product, year=today.year, net_premium=Decimal(1000))
    _services(2, max(today - timedelta(days=1), date(today.year, 1, 1)), fee=100)
    now = datetime.combine(today, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=12)
    # when
    data = sla_dashboard(now=now, days=30)
    # then
    assert [r.product_code for r in data.cost_warnings] == ["pingan.health"]
    client.force_login(staff_member("admin", ["pingan"]))
    page = client.get(reverse("admin:bookings_dashboard")).text
    assert "超过 20% 上限" in page and product.name in page
    # and another insurer's staff do not see it
    client.force_login(staff_member("admin", ["axa"]))
    assert "超过 20% 上限" not in client.get(reverse("admin:bookings_dashboard")).text
