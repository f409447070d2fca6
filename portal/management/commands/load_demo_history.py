"""Ninety days of synthetic requests for the demo (``portal.site.demo_history``); ``./dev up``
runs it after ``load_demo``. Idempotent: a second run writes nothing."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from portal.site.demo_history import DAYS, load_demo_history


class Command(BaseCommand):
    help = "加载演示历史数据：近90天的服务申请（各种状态、部分超时），可重复运行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=DAYS, help="天数（默认 90）")

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        result = load_demo_history(days=int(str(options["days"])))
        elapsed = time.perf_counter() - started
        if result.skipped:
            self.stdout.write("演示历史数据已存在，未重复加载")
            return
        statuses = "，".join(f"{k} {v}" for k, v in sorted(result.by_status.items()))
        self.stdout.write(
            f"演示历史数据：{result.requests} 个申请、{result.events} 条处理记录、"
            f"{result.households} 张演示保单、{result.ratings} 条评价，用时 {elapsed:.1f} 秒"
            f"（{statuses}）"
        )
