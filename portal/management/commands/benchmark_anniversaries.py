"""Benchmark: the anniversary job (``anniversaries_run``) over N_big policies against N_small
with the same number due that day, side by side in one run, on a throwaway database.

    python manage.py benchmark_anniversaries                      # 100,000 vs 1,000,000, 1,000 due
    python manage.py benchmark_anniversaries --small 200 --big 400 --due 5 --repeat 1

The database is grown in place: first N_small policies, timed; then up to N_big, timed
again. Each side times ``--repeat`` different days (its own due policies each day, in their
second policy year: the first year was opened untimed, so each timed run opens a year and
expires the last) and reports the median. The other policies are in force with one member
and one balance each, their anniversaries spread over the other days of the year; they are
written with INSERT … SELECT, so a million takes seconds. After the timed runs every day is
run again: the second run must change 0 rows.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from benefits.demo import resident_id
from benefits.models import (
    Benefit,
    Person,
    Policy,
    PolicyMember,
    Product,
    QuotaBalance,
)
from benefits.policies.models import anniversary_md
from benefits.quota.anniversaries import RunResult, anniversaries_run
from portal.site.benchmarking import (
    Param,
    SizeBenchmark,
    analyze,
    db_date,
    db_datetime,
    fast_load,
    insert_select,
    sequence_sql,
)

GOAL = 1.33
FIRST_DAY = date(2026, 4, 1)
# The due policies alternate between a family product with shared pools (平安) and one with
# many pools per member (中宏 百万无忧, two members × 16): 18.5 balances per policy on average.
DUE_PRODUCTS = ("pingan.health", "manulife.dmm")
BULK_ROWS = 5000


class Command(SizeBenchmark):
    help = (
        "基准：周年日任务在大、小两个保单量（当日周年的保单数相同）上的耗时之比，"
        f"目标 ≤ {GOAL}；在临时数据库上运行，测完即删。"
    )
    name = "benchmark_anniversaries"
    label = "anniversaries"
    goal = GOAL
    sizes = {
        "small": (100_000, "小库保单数"),
        "big": (1_000_000, "大库保单数"),
        "due": (1_000, "每天周年的保单数"),
        "repeat": (5, "每侧计时的天数（取中位数）"),
    }

    def check_sizes(self, *, small: int, big: int, due: int, repeat: int) -> None:
        if not (due >= 1 and repeat >= 1 and due * repeat < small and big - small > due * repeat):
            raise CommandError("需要 due × repeat < small，且 big − small > due × repeat")

    # --- inside the throwaway database ------------------------------------------------------

    def run(self, *, small: int, big: int, due: int, repeat: int) -> None:
        days_small = [FIRST_DAY + timedelta(days=i) for i in range(repeat)]
        days_big = [FIRST_DAY + timedelta(days=repeat + i) for i in range(repeat)]
        self.now = timezone.now()
        self.holder, self.spouse = self._people()
        self._filler_days({anniversary_md(day) for day in days_small + days_big})

        with fast_load():
            self._fillers(1, small - due * repeat)
            self._due_policies(days_small, due)
        analyze()
        small_runs = [self._timed(day, due) for day in days_small]

        with fast_load():
            self._fillers(small - due * repeat + 1, big - small - due * repeat)
            self._due_policies(days_big, due)
        analyze()
        big_runs = [self._timed(day, due) for day in days_big]

        second_small = sum(anniversaries_run(day).changed for day in days_small)
        second_big = sum(anniversaries_run(day).changed for day in days_big)
        self._report(small, big, due, small_runs, big_runs, second_small, second_big)

    def _people(self) -> tuple[Person, Person]:
        """Two people shared by every synthetic policy (holder and spouse)."""
        people = []
        for index, born in enumerate((date(1980, 1, 1), date(1982, 2, 2))):
            person = Person(
                name=f"基准{index}",
                id_number=resident_id(f"110105{born:%Y%m%d}90{index}"),
                birth_date=born,
            )
            person.save()
            people.append(person)
        return people[0], people[1]

    def _filler_days(self, due_keys: set[int]) -> None:
        """A temporary table of effective dates in 2025 whose anniversaries are not timed."""
        start = date(2025, 1, 1)
        days = [start + timedelta(days=i) for i in range(365)]
        days = [d for d in days if anniversary_md(d) not in due_keys]
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_day (i integer, eff date, exp date, md integer)"
            )
            cursor.executemany(
                "INSERT INTO bench_day (i, eff, exp, md) VALUES (%s, %s, %s, %s)",
                [
                    (
                        index,
                        db_date(day),
                        db_date(day + relativedelta(years=2) - timedelta(days=1)),
                        anniversary_md(day),
                    )
                    for index, day in enumerate(days)
                ],
            )
        self.filler_day_count = len(days)

    def _fillers(self, first: int, count: int) -> None:
        """``count`` policies in force not due on any timed day, each with one member and one
        balance, numbered F<first>…"""
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM benefits_policy")
            (before,) = cursor.fetchone()
        now = Param(db_datetime(self.now))
        product = Product.objects.get(code="pingan.health")
        insert_select(
            Policy,
            {
                "number": "'F' || CAST(seq.n AS VARCHAR(20))",
                "product_id": Param(product.pk),
                "status": "'in_force'",
                "signed_on": "d.eff",
                "effective_on": "d.eff",
                "expires_on": "d.exp",
                "renewal_of_id": "NULL",
                "transferred": Param(False),
                "family": Param(True),
                "group": Param(False),
                "waiting_days": "NULL",
                "cooling_off_days": "15",
                "sum_insured": "NULL",
                "standard_sum_insured": "NULL",
                "plan_level": "''",
                "riders": "'[]'",
                "holder_id": Param(self.holder.pk),
                "anniversary_md": "d.md",
                "created_at": now,
                "updated_at": now,
            },
            f"{sequence_sql(first, first + count - 1)} "
            f"JOIN bench_day d ON d.i = seq.n %% {self.filler_day_count}",
        )
        insert_select(
            PolicyMember,
            {
                "policy_id": "p.id",
                "person_id": "p.holder_id",
                "ref": "'M1'",
                "relation": "'self'",
            },
            "benefits_policy p WHERE p.id > %s",
            [before],
        )
        escort = Benefit.objects.get(code="pingan.health.escort")
        insert_select(
            QuotaBalance,
            {
                "benefit_id": Param(escort.pk),
                "policy_id": "p.id",
                "person_id": "NULL",
                "pool_kind": "'family_policy'",
                "measure": "'times'",
                "category": "''",
                "period_key": "'year:' || CAST(p.effective_on AS VARCHAR(10))",
                "period_start": "p.effective_on",
                "period_end": "p.expires_on",
                "granted": "1",
                "held": "0",
                "used": "0",
                "updated_at": now,
            },
            "benefits_policy p WHERE p.id > %s",
            [before],
        )

    def _due_policies(self, days: list[date], due: int) -> None:
        """``due`` policies whose anniversary is each of ``days``, in their second policy
        year: the first is opened now, untimed, so the timed run also expires it."""
        products = [Product.objects.get(code=code) for code in DUE_PRODUCTS]
        for day in days:
            effective = day - relativedelta(years=1)
            policies = Policy.objects.bulk_create(
                [
                    Policy(
                        number=f"D{day:%m%d}-{index}",
                        product=products[index % len(products)],
                        signed_on=effective,
                        effective_on=effective,
                        expires_on=day + relativedelta(years=1) - timedelta(days=1),
                        holder=self.holder,
                        family=True,
                        anniversary_md=anniversary_md(effective),
                    )
                    for index in range(due)
                ],
                batch_size=BULK_ROWS,
            )
            PolicyMember.objects.bulk_create(
                [
                    PolicyMember(policy=policy, person=person, ref=ref, relation=relation)
                    for policy in policies
                    for person, ref, relation in (
                        (self.holder, "M1", "self"),
                        (self.spouse, "M2", "spouse"),
                    )
                ],
                batch_size=BULK_ROWS,
            )
            first_year = anniversaries_run(effective)
            if first_year.policies != due:
                raise CommandError(f"{effective} 应有 {due} 张保单开始首个保单年度")

    def _timed(self, day: date, due: int) -> tuple[float, RunResult]:
        start = time.perf_counter()
        result = anniversaries_run(day)
        elapsed = time.perf_counter() - start
        if result.policies != due:
            raise CommandError(f"{day} 应有 {due} 张保单周年，实际 {result.policies}")
        return elapsed, result

    def _report(
        self,
        small: int,
        big: int,
        due: int,
        small_runs: list[tuple[float, RunResult]],
        big_runs: list[tuple[float, RunResult]],
        second_small: int,
        second_big: int,
    ) -> None:
        write = self.stdout.write
        self.write_header()
        medians = []
        for label, total, runs in (("小库", small, small_runs), ("大库", big, big_runs)):
            seconds = [elapsed for elapsed, _ in runs]
            medians.append(statistics.median(seconds))
            opened = sum(result.opened for _, result in runs)
            expired = sum(result.expired for _, result in runs)
            write(
                f"{label}：保单 {total:,} 张，每天周年 {due:,} 张 × {len(runs)} 天；"
                f"每次 {medians[-1]:.3f} 秒（中位数；各次 "
                + "、".join(f"{s:.3f}" for s in seconds)
                + f"）；共开通额度 {opened:,} 个，过期 {expired:,} 个"
            )
        self.write_verdict(*medians)
        second = second_small + second_big
        write(f"第二次运行改变 {second} 行（小库 {second_small}，大库 {second_big}）")
