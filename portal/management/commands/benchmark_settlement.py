"""Benchmark: settling a month of 100,000 completed services (``statement_price``: price
every service at the contract price of its day, the draft's totals stored) against a
raw aggregate query over the same rows (count and sum of their consumption), side by side in
one run, in-process on the same database; and the query count of a statement of 1,000
services and of 100,000.

    python manage.py benchmark_settlement                     # 100,000 services
    python manage.py benchmark_settlement --services 5000 --seconds 4 --rounds 2

The services are written with INSERT … SELECT inside a transaction that is rolled back at
the end: nothing is left behind. Each settle call re-prices the draft, as re-running a draft
month does; confirming it (writing its lines once, INSERT … SELECT) is timed once after."""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits.demo import policy_with_members
from benefits.models import Benefit
from bookings.models import Consumption, ContractPrice, RequestEvent, ServiceRequest
from bookings.settlement.pricing import local_bounds
from bookings.settlement.statements import statement_confirm, statement_price
from portal.kernel.clock import SHANGHAI
from portal.site.benchmarking import Param, db_datetime, insert_select, json_sql, sequence_sql
from portal.site.side_by_side import SideBySideCommand, best_rates

GOAL = 0.3
BENEFIT = "pingan.health.outpatient_assist"  # priced per time, with a change on the 16th
CARER = "pingan.health.inpatient_carer_7d"  # priced per day: every other service
MARCH, FEBRUARY = date(2026, 3, 1), date(2026, 2, 1)


class Command(SideBySideCommand):
    help = (
        "基准：按合同价格结算一个月 100,000 项已完成服务，与同一批数据上的原始聚合查询"
        f"比较速度（目标 ≥ {GOAL}），并比较 1,000 与 100,000 项时的查询数。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--services", type=int, default=100_000, help="三月的服务数")

    def handle(self, *args: Any, **options: Any) -> None:
        self.services = options["services"]
        if self.services < 1000:
            raise CommandError("--services 至少 1000")
        super().handle(*args, **options)

    def run(self, seconds: float, rounds: int) -> None:
        self.policy = policy_with_members(
            number="BENCH-SETTLE-1",
            product="pingan.health",
            members=[("基准客户", date(1980, 1, 1), "self")],
            effective_on=date(2026, 1, 2),
        )
        outpatient, carer = Benefit.objects.get(code=BENEFIT), Benefit.objects.get(code=CARER)
        self.vendor, self.insurer = outpatient.vendor, outpatient.product.insurer
        assert carer.vendor_id == self.vendor.pk, "both benefits must share one vendor"
        _prices(outpatient, carer)
        self._services("BSF", FEBRUARY, 1000, outpatient, carer)
        self._services("BSM", MARCH, self.services, outpatient, carer)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        queries = {}
        for label, month in (("1,000", FEBRUARY), (f"{self.services:,}", MARCH)):
            statement_price(insurer=self.insurer, vendor=self.vendor, month=month)
            with CaptureQueriesContext(connection) as captured:
                statement = statement_price(insurer=self.insurer, vendor=self.vendor, month=month)
            queries[label] = len(captured)
        raw_count, raw_sum = self._raw()
        if statement.line_count != self.services or raw_count != self.services:
            raise CommandError(f"行数不符：结算 {statement.line_count}，原始 {raw_count}")

        def raw() -> None:
            self._raw()

        def settle() -> None:
            statement_price(insurer=self.insurer, vendor=self.vendor, month=MARCH)

        sides: dict[str, Callable[[], None]] = {"raw": raw, "settle": settle}
        best = best_rates(sides, seconds, rounds)
        ratio = best["settle"] / best["raw"]
        self._report(seconds, rounds, best, ratio, queries, statement.total, raw_sum)
        # Confirmation writes the month's lines once (it is not repeatable: timed once).
        started = clock.perf_counter()
        confirmed = statement_confirm(statement, user=None)
        took = clock.perf_counter() - started
        self.stdout.write(
            f"确认（一次，写入 {confirmed.lines.count():,} 条结算明细）{took * 1000:9.1f} 毫秒；"
            f"确认后合计 {confirmed.total} 元"
        )

    def _report(self, seconds, rounds, best, ratio, queries, total, raw_sum) -> None:
        write = self.stdout.write
        write(
            f"数据库：{connection.vendor}；三月服务 {self.services:,} 项；每侧 {seconds:.0f} 秒，"
            f"分 {rounds} 轮交替、取各侧最快一轮；同一进程、同一数据库"
        )
        write(f"原始聚合查询（计数与消耗求和） {1000 / best['raw']:9.1f} 毫秒/次")
        write(f"结算（草稿：按当日合同价格计价汇总） {1000 / best['settle']:9.1f} 毫秒/次")
        write(f"结算单合计 {total} 元；原始查询消耗合计 {raw_sum}")
        for label, count in queries.items():
            write(f"结算单查询数：{count}（{label} 项服务）")
        verdict = "达标" if ratio >= GOAL else "未达标"
        same = "相同" if len(set(queries.values())) == 1 else "不同"
        write(f"速度之比 {ratio:.2f}（结算 ÷ 原始查询，目标 ≥ {GOAL}）：{verdict}；查询数{same}")

    def _raw(self) -> tuple[int, Decimal]:
        """The same rows, aggregated without pricing: the floor any settlement stands on."""
        start, end = local_bounds(MARCH, date(2026, 4, 1))
        sql = (
            "SELECT COUNT(DISTINCT r.id), SUM(c.amount) "  # noqa: S608
            f"FROM {RequestEvent._meta.db_table} e "
            f"JOIN {ServiceRequest._meta.db_table} r ON r.id = e.request_id "
            f"LEFT JOIN {Consumption._meta.db_table} c ON c.request_id = r.id "
            "WHERE e.event = 'completed' AND r.vendor_id = %s AND e.at >= %s AND e.at < %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.vendor.pk, start, end])
            count, total = cursor.fetchone()
        return count, total

    def _services(
        self, prefix: str, month: date, count: int, outpatient: Benefit, carer: Benefit
    ) -> None:
        """``count`` completed requests spread over ``month``'s first 28 days (Shanghai):
        even ones 门诊协助 with 1 time consumed, odd ones 陪护 with 1–7 days; each with its
        submitted and completed events."""
        member = self.policy.members.get()
        now = Param(db_datetime(datetime.combine(month, time(9), tzinfo=SHANGHAI)))
        seq = sequence_sql(1, count)
        insert_select(
            ServiceRequest,
            {
                "ref": f"'{prefix}' || CAST(seq.n AS VARCHAR(20))",
                "policy_id": Param(self.policy.pk),
                "member_id": Param(member.pk),
                "recipient_id": Param(member.pk),
                "benefit_id": f"CASE WHEN seq.n %% 2 = 0 THEN {outpatient.pk} ELSE {carer.pk} END",
                "option": "''",
                "status": "'completed'",
                "quota_outcome": "'used'",
                "planned_at": "NULL",
                "hospital": "''",
                "region_id": "NULL",
                "context": json_sql("{}"),
                "amount": "NULL",
                "note": "''",
                "vendor_id": Param(self.vendor.pk),
                "scheduled_at": "NULL",
                "place": "''",
                "changes": "0",
                "outcome_reason": "''",
                "submitted_by_id": "NULL",
                "assignee_id": "NULL",
                "submission_key": "''",
                "created_at": now,
                "updated_at": now,
            },
            seq,
        )
        requests = f"{ServiceRequest._meta.db_table} r WHERE r.ref LIKE '{prefix}%%'"
        start = datetime.combine(month, time(1), tzinfo=SHANGHAI)
        for event, status in (("submitted", "submitted"), ("completed", "completed")):
            hours = "0" if event == "submitted" else "(r.id %% 28) * 24 + (r.id %% 15)"
            insert_select(
                RequestEvent,
                {
                    "request_id": "r.id",
                    "event": f"'{event}'",
                    "from_status": "''",
                    "to_status": f"'{status}'",
                    "actor_id": "NULL",
                    "actor_label": "'基准'",
                    "reason": "''",
                    "data": json_sql("{}"),
                    "at": _plus_hours(start, hours),
                },
                requests,
            )
        insert_select(
            Consumption,
            {
                "request_id": "r.id",
                "measure": f"CASE WHEN r.benefit_id = {outpatient.pk} THEN 'times' ELSE 'days' END",
                "amount": f"CASE WHEN r.benefit_id = {outpatient.pk} THEN 1 ELSE 1 + r.id %% 7 END",
                "note": "''",
                "recorded_at": now,
            },
            requests,
        )


def _plus_hours(start: datetime, hours: str) -> str:
    """``start`` + ``hours`` (an SQL integer expression) as a timestamp expression."""
    base = db_datetime(start)
    if connection.vendor == "postgresql":
        return f"CAST('{base}' AS timestamptz) + ({hours}) * INTERVAL '1 hour'"
    return f"datetime('{base}', '+' || ({hours}) || ' hours')"


def _prices(outpatient: Benefit, carer: Benefit) -> None:
    rows = [
        ContractPrice(
            vendor=outpatient.vendor,
            benefit=outpatient,
            basis="times",
            fixed_fee=Decimal(120),
            effective_from=date(2026, 1, 1),
            effective_until=date(2026, 3, 15),
        ),
        ContractPrice(
            vendor=outpatient.vendor,
            benefit=outpatient,
            basis="times",
            fixed_fee=Decimal(150),
            effective_from=date(2026, 3, 16),
        ),
        ContractPrice(
            vendor=carer.vendor,
            benefit=carer,
            basis="days",
            unit_price=Decimal(260),
            effective_from=date(2026, 1, 1),
        ),
    ]
    ContractPrice.objects.filter(benefit__in=[outpatient, carer]).delete()
    ContractPrice.objects.bulk_create(rows)
