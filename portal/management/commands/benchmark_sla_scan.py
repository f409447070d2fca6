"""Benchmark: the SLA scan (``bookings.sla.clocks.sla_scan``) over N_big open milestones against
N_small with the same number due, side by side in one run, on a throwaway database.

    python manage.py benchmark_sla_scan                          # 10,000 vs 500,000, 1,000 due
    python manage.py benchmark_sla_scan --small 200 --big 400 --due 5 --repeat 1

The database is grown in place: first N_small pending milestones, timed; then up to N_big,
timed again. The open milestones that are not due have deadlines spread over the next 30
days (ten per request, written with INSERT … SELECT); before each timed scan ``--due``
milestones are added on one request, half past their deadline (breached by the scan), half
inside their warning lead (warned). Each side reports the median of ``--repeat`` scans; then
every scan is repeated and must change 0 rows.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from benefits.demo import resident_id
from benefits.models import Benefit, Person, Policy, PolicyMember, Vendor
from bookings.models import Milestone, ServiceRequest
from bookings.sla.clocks import sla_scan
from portal.site.benchmarking import (
    Param,
    SizeBenchmark,
    analyze,
    db_datetime,
    fast_load,
    insert_select,
    json_sql,
    sequence_sql,
)

GOAL = 1.3
PER_REQUEST = 10  # milestones per synthetic request (codes c0…c9)
SPREAD = 1000  # distinct future deadlines among the milestones not due


class Command(SizeBenchmark):
    help = (
        "基准：服务时效扫描在大、小两个未完成节点量（到期节点数相同）上的耗时之比，"
        f"目标 ≤ {GOAL}；在临时数据库上运行，测完即删。"
    )
    name = "benchmark_sla_scan"
    label = "sla"
    goal = GOAL
    sizes = {
        "small": (10_000, "小库未完成节点数"),
        "big": (500_000, "大库未完成节点数"),
        "due": (1_000, "每次扫描时到期的节点数"),
        "repeat": (5, "每侧扫描次数（取中位数）"),
    }

    def check_sizes(self, *, small: int, big: int, due: int, repeat: int) -> None:
        if not (due >= 2 and repeat >= 1 and due * repeat < small < big):
            raise CommandError("需要 due ≥ 2，且 due × repeat < small < big")

    # --- inside the throwaway database ------------------------------------------------------

    def run(self, *, small: int, big: int, due: int, repeat: int) -> None:
        self.now = timezone.now()
        self._request_template()
        self._deadlines()

        with fast_load():
            self._fillers(0, small - due * repeat)
        analyze()
        small_runs = [self._timed("S", index, due) for index in range(repeat)]

        with fast_load():
            self._fillers(small - due * repeat, big - small)
        analyze()
        big_runs = [self._timed("B", index, due) for index in range(repeat)]

        second = sla_scan(self.now)
        self._report(small, big, due, small_runs, big_runs, second.warned + second.breached)

    def _request_template(self) -> None:
        """One policy, member, benefit and vendor that every synthetic request shares."""
        person = Person(
            name="基准", id_number=resident_id("11010519800101900"), birth_date=date(1980, 1, 1)
        )
        person.save()
        self.benefit = Benefit.objects.get(code="pingan.health.escort")
        policy = Policy.objects.create(
            number="BENCH-SLA",
            product=self.benefit.product,
            signed_on=date(2025, 1, 1),
            effective_on=date(2025, 1, 2),
            expires_on=date(2027, 1, 1),
            holder=person,
        )
        self.policy = policy
        self.member = PolicyMember.objects.create(
            policy=policy, person=person, ref="M1", relation="self"
        )
        self.vendor = Vendor.objects.order_by("pk").first() or Vendor.objects.create(
            code="bench", name="基准服务商"
        )

    def _deadlines(self) -> None:
        """A temporary table of future deadlines, 2 hours to 30 days ahead: never due during
        the run, and outside the scanner's one-hour warning range."""
        first = self.now + timedelta(hours=2)
        step = (timedelta(days=30) - timedelta(hours=2)) / SPREAD
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_due (i integer, due_at timestamp)")
            cursor.executemany(
                "INSERT INTO bench_due (i, due_at) VALUES (%s, %s)",
                [(i, db_datetime(first + step * i)) for i in range(SPREAD)],
            )

    def _fillers(self, first: int, count: int) -> None:
        """Milestones ``first`` … ``first + count - 1``, pending and not due; milestone n
        belongs to request BF<n // 10> (created here when new)."""
        last = first + count - 1
        now = Param(db_datetime(self.now))
        insert_select(
            ServiceRequest,
            {
                "ref": "'BF' || CAST(seq.n AS VARCHAR(20))",
                "policy_id": Param(self.policy.pk),
                "member_id": Param(self.member.pk),
                "recipient_id": Param(self.member.pk),
                "benefit_id": Param(self.benefit.pk),
                "option": "''",
                "status": "'assigned'",
                "quota_outcome": "'none'",
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
            sequence_sql(-(-first // PER_REQUEST), last // PER_REQUEST),
        )
        insert_select(
            Milestone,
            {
                "request_id": "r.id",
                "code": f"'c' || CAST(seq.n %% {PER_REQUEST} AS VARCHAR(4))",
                "label": "'联系客户'",
                "starts_on": "'assigned'",
                "met_by": "'contacted'",
                "target": "'deadline'",
                "state": "'pending'",
                "started_at": now,
                "due_at": "d.due_at",
                "due_from_at": "NULL",
                "provisional": Param(False),
                "met_at": "NULL",
                "breached_at": "NULL",
                "warned_at": "NULL",
                "paused_at": "NULL",
                "clause": "''",
            },
            f"{sequence_sql(first, last)} "
            f"JOIN {ServiceRequest._meta.db_table} r "
            f"ON r.ref = 'BF' || CAST(seq.n / {PER_REQUEST} AS VARCHAR(20)) "
            f"JOIN bench_due d ON d.i = seq.n %% {SPREAD}",
        )

    def _due_set(self, label: str, due: int) -> None:
        """``due`` milestones on one new request: half overdue, half within their warning
        lead (a quarter of a 35-minute clock is left: under 9 minutes)."""
        request = ServiceRequest.objects.create(
            ref=f"BD{label}",
            policy=self.policy,
            member=self.member,
            recipient=self.member,
            benefit=self.benefit,
            status="assigned",
            vendor=self.vendor,
        )
        rows = []
        for index in range(due):
            overdue = index % 2 == 0
            rows.append(
                Milestone(
                    request=request,
                    code=f"d{index}",
                    label="联系客户",
                    starts_on="assigned",
                    met_by="contacted",
                    state=Milestone.State.PENDING,
                    started_at=self.now - timedelta(minutes=120 if overdue else 30),
                    due_at=self.now + timedelta(minutes=-5 if overdue else 5),
                )
            )
        Milestone.objects.bulk_create(rows)

    def _timed(self, side: str, index: int, due: int) -> float:
        self._due_set(f"{side}{index}", due)
        start = time.perf_counter()
        result = sla_scan(self.now)
        elapsed = time.perf_counter() - start
        if result.warned + result.breached != due:
            raise CommandError(
                f"应处理 {due} 个到期节点，实际提醒 {result.warned}、超时 {result.breached}"
            )
        return elapsed

    def _report(
        self,
        small: int,
        big: int,
        due: int,
        small_runs: list[float],
        big_runs: list[float],
        second: int,
    ) -> None:
        write = self.stdout.write
        self.write_header()
        medians = []
        for label, total, runs in (("小库", small, small_runs), ("大库", big, big_runs)):
            medians.append(statistics.median(runs))
            write(
                f"{label}：未完成节点 {total:,} 个，每次到期 {due:,} 个（半数超时、半数临期）× "
                f"{len(runs)} 次；每次 {medians[-1]:.3f} 秒（中位数；各次 "
                + "、".join(f"{s:.3f}" for s in runs)
                + "）"
            )
        self.write_verdict(*medians)
        write(f"第二次扫描改变 {second} 行")
