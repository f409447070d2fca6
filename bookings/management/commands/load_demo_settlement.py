"""Demo contract prices and net premiums (``./dev up`` runs this after ``load_demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings.settlement.demo import load_demo_premiums, load_demo_prices


class Command(BaseCommand):
    help = "创建演示用的服务商合同价格与产品净保费（幂等）"

    def handle(self, *args: Any, **options: Any) -> None:
        year = timezone.localdate().year
        prices = load_demo_prices()
        premiums = load_demo_premiums([year - 1, year])
        self.stdout.write(f"演示合同价格 {prices} 条，产品净保费 {premiums} 条")
