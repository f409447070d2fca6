"""``manage.py cost_ratio --product CODE --year YYYY [--json]``: a product's services of the
year, their cost at the contract prices, cost per policy and cost ÷ net premium against the
20 % line of 银保监办发〔2020〕83号, with a linear projection for the rest of the year.
Without ``--product``, every product."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from benefits.models import Product
from bookings.settlement.cost_cap import CostRatio, cost_ratios


def _percent(value: Any) -> str:
    return "未录入净保费" if value is None else f"{value * 100:.2f}%"


def _money(value: Any) -> str:
    return "-" if value is None else str(value)


class Command(BaseCommand):
    help = "产品健康管理服务成本占净保费比例（上限20%，银保监办发〔2020〕83号）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--product", help="产品代码（省略则全部产品）")
        parser.add_argument("--year", type=int, default=None, help="保单年度（默认今年）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        year = options["year"] or today.year
        if not 2000 <= year <= 2100:
            raise CommandError("年度应为四位数年份")
        products = Product.objects.select_related("insurer").order_by("code")
        if options["product"]:
            products = products.filter(code=options["product"])
            if not products.exists():
                raise CommandError(f"产品不存在：{options['product']}")
        reports = cost_ratios(list(products), year, today=today)
        if options["json"]:
            payload = [report.as_json() for report in reports]
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1))
            return
        for report in reports:
            self._print(report)

    def _print(self, r: CostRatio) -> None:
        warning = "  ⚠ 预计超过20%上限" if r.projected_over_cap else ""
        self.stdout.write(f"{r.product_name}（{r.product_code}）· {r.year}年度{warning}")
        self.stdout.write(
            f"  服务 {r.services} 项（未定价 {r.unpriced} 项）  成本 {r.cost} 元"
            f"  保单 {r.policies} 件  单均 {_money(r.cost_per_policy)} 元"
        )
        self.stdout.write(
            f"  净保费 {_money(r.net_premium)} 元  成本占比 {_percent(r.ratio)}（上限 20.00%）"
        )
        self.stdout.write(
            f"  预测（按已过天数线性外推 {r.elapsed_days}/{r.year_days} 天）："
            f"成本 {r.projected_cost} 元"
            f"  占比 {_percent(r.projected_ratio)}"
        )
