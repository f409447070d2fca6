"""Benchmark: a synthetic hospital list through the annex import path against a raw insert.

Side A is what the admin does with one file: ``annex_import(dry_run=True)`` (preview) then
``annex_import(dry_run=False)`` (confirm), i.e. read + resolve + plan twice and write once.
Side B is ``ListEntry.objects.bulk_create`` of the same rows from an already parsed list.
The goal (issue): A/B ≤ 4× for 50,000 rows, with no database query per row. The command
prints the figures and a verdict; it asserts nothing.

    python manage.py benchmark_annex_import [--rows 50000] [--repeat 3] [--keep]
"""

from __future__ import annotations

import csv
import gc
import io
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from benefits.models import Insurer
from coverage.annex import HEADERS, NAME_COLUMN
from coverage.annex_apply import BULK_BATCH
from coverage.models import CoverageList, ListEntry, Region
from coverage.regions import region_index, regions_load
from coverage.services import annex_import

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

LIST_CODE = "bench.hospitals"
INSURER_CODE = "bench"
KIND = "hospital"
GOAL_RATIO = 4.0
SMALL_ROWS = 1000
GRADES = ("三级甲等", "三级乙等", "二级甲等", "二级乙等", "一级")


@dataclass
class Synthetic:
    content: bytes  # the CSV file side A imports
    parsed: list[dict[str, Any]]  # the same rows as ListEntry fields, for side B


def synthetic(rows: int, cities: list[tuple[str, str, int]]) -> Synthetic:
    """``rows`` hospitals spread over real prefecture-level cities, each name unique."""
    headers = HEADERS[KIND]
    name_column = NAME_COLUMN[KIND]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    parsed = []
    for i in range(rows):
        province, city, region_id = cities[i % len(cities)]
        cells = [
            province,
            city,
            f"{city}第{i + 1}人民医院",
            f"{city}健康路{i + 1}号",
            GRADES[i % len(GRADES)],
            "含分院" if i % 10 == 0 else "",
        ]
        writer.writerow(cells)
        row = dict(zip(headers, cells, strict=True))
        parsed.append(
            {
                "name": row[name_column],
                "code": "",
                "region_id": region_id,
                "attributes": {k: v for k, v in row.items() if k != name_column and v},
                "line": i + 2,  # line 1 is the header
            }
        )
    return Synthetic(buffer.getvalue().encode("utf-8"), parsed)


class Command(BaseCommand):
    help = (
        "基准测试：合成医院名单经导入流程（预览+确认）与直接 bulk_create 同样行数的耗时之比，"
        "以及导入流程的查询次数。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=50000, help="行数（默认 50000）")
        parser.add_argument(
            "--repeat", type=int, default=3, help="每一侧重复次数，取最快一次（默认 3）"
        )
        parser.add_argument("--keep", action="store_true", help="保留临时名单及其条目")

    def handle(self, *args: Any, rows: int, repeat: int, keep: bool, **options: Any) -> None:
        if rows < 1 or repeat < 1:
            raise CommandError("--rows 与 --repeat 必须为正整数")
        if not Region.objects.exists():
            self.stdout.write("Region table empty: loading regions …")
            regions_load()
        created_insurer = False
        insurer = Insurer.objects.order_by("pk").first()
        if insurer is None:
            insurer = Insurer.objects.create(code=INSURER_CODE, name="基准测试", short_name="基准")
            created_insurer = True
        coverage_list, _ = CoverageList.objects.update_or_create(
            code=LIST_CODE,
            defaults={
                "title": "基准测试医院名单",
                "kind": KIND,
                "insurer": insurer,
                "source": "benchmark_annex_import",
                "content_digest": "",
                "imported_at": None,
            },
        )
        try:
            self.run(coverage_list, rows, repeat)
        finally:
            if keep:
                self.stdout.write(f"kept list {LIST_CODE} (id {coverage_list.pk}) and its entries")
            else:
                ListEntry.objects.filter(coverage_list=coverage_list).delete()
                coverage_list.delete()
                if created_insurer:
                    insurer.delete()

    # --- the benchmark ------------------------------------------------------------------------

    def run(self, coverage_list: CoverageList, rows: int, repeat: int) -> None:
        cities = self.cities()
        self.stdout.write(
            f"benchmark_annex_import — database: {database_label()} — {rows:,} {KIND} rows over "
            f"{len(cities)} cities, best of {repeat}, bulk batch {BULK_BATCH}"
        )
        data = synthetic(rows, cities)

        best_a: tuple[float, float, float] | None = None
        best_b: float | None = None
        # Query logging (DEBUG=1) would format every bulk INSERT's SQL on both sides: off
        # while timing; the queries are counted in separate, untimed runs below.
        with override_settings(DEBUG=False):
            for _ in range(repeat):
                preview, confirm = self.side_a(coverage_list, data.content, rows)
                if best_a is None or preview + confirm < best_a[0]:
                    best_a = (preview + confirm, preview, confirm)
                raw = self.side_b(coverage_list, data.parsed)
                best_b = raw if best_b is None else min(best_b, raw)
        assert best_a is not None and best_b is not None

        queries, inserts = self.count_queries(coverage_list, data.content, rows)
        small = synthetic(SMALL_ROWS, cities)
        small_queries, small_inserts = self.count_queries(coverage_list, small.content, SMALL_ROWS)

        total, preview, confirm = best_a
        ratio = total / best_b
        self.stdout.write(
            f"A import path (preview + confirm): {total:.3f} s "
            f"(preview {preview:.3f} s, confirm {confirm:.3f} s)"
        )
        self.stdout.write(f"B raw bulk_create:                 {best_b:.3f} s")
        verdict = "OK" if ratio <= GOAL_RATIO else "NOT MET"
        self.stdout.write(f"ratio A/B = {ratio:.2f} (goal ≤ {GOAL_RATIO:.2f}): {verdict}")
        self.stdout.write(
            f"queries on the import path: {queries} for {rows:,} rows "
            f"(goal: not proportional to rows)"
        )
        self.stdout.write(
            f"  {rows:,} rows: {queries} queries = {queries - inserts} fixed + {inserts} "
            f"INSERT batches of ≤{BULK_BATCH} rows"
        )
        self.stdout.write(
            f"  {SMALL_ROWS:,} rows: {small_queries} queries = {small_queries - small_inserts} "
            f"fixed + {small_inserts} INSERT batches of ≤{BULK_BATCH} rows"
        )

    def cities(self) -> list[tuple[str, str, int]]:
        """(province name, city name, region id) of every prefecture-level city whose name
        resolves as ``ok`` under its province, so that every synthetic row imports."""
        index = region_index()
        provinces = dict(Region.objects.filter(level=1).values_list("code", "name"))
        cities = []
        for region_id, code, name, province_code in Region.objects.filter(level=2).values_list(
            "id", "code", "name", "province_code"
        ):
            province_name = provinces.get(province_code)
            if province_name is None:
                continue
            province = index.resolve_province(province_name)
            result = index.resolve(name, column="city", province=province)
            if result.status == "ok" and result.region_code == code:
                cities.append((province_name, name, region_id))
        if not cities:
            raise CommandError("no prefecture-level city resolves; load the regions first")
        return cities

    def clear(self, coverage_list: CoverageList) -> None:
        ListEntry.objects.filter(coverage_list=coverage_list).delete()
        CoverageList.objects.filter(pk=coverage_list.pk).update(content_digest="", imported_at=None)
        coverage_list.content_digest = ""

    def import_path(self, coverage_list: CoverageList, content: bytes) -> float:
        """Preview then confirm, as the admin does; returns the preview's duration."""
        start = time.perf_counter()
        annex_import(
            coverage_list=coverage_list, content=content, filename="bench.csv", dry_run=True
        )
        preview = time.perf_counter() - start
        outcome = annex_import(
            coverage_list=coverage_list, content=content, filename="bench.csv", dry_run=False
        )
        if outcome.result is None or not outcome.result.changed:
            summary = outcome.plan.counts()
            raise CommandError(f"the import wrote nothing ({summary}); the benchmark is void")
        return preview

    def side_a(self, coverage_list: CoverageList, content: bytes, rows: int) -> tuple[float, float]:
        self.clear(coverage_list)
        gc.collect()
        start = time.perf_counter()
        preview = self.import_path(coverage_list, content)
        total = time.perf_counter() - start
        written = ListEntry.objects.filter(coverage_list=coverage_list).count()
        if written != rows:
            raise CommandError(f"the import wrote {written} rows, not {rows}")
        return preview, total - preview

    def side_b(self, coverage_list: CoverageList, parsed: list[dict[str, Any]]) -> float:
        self.clear(coverage_list)
        gc.collect()
        start = time.perf_counter()
        ListEntry.objects.bulk_create(
            [ListEntry(coverage_list=coverage_list, **row) for row in parsed],
            batch_size=BULK_BATCH,
        )
        return time.perf_counter() - start

    def count_queries(
        self, coverage_list: CoverageList, content: bytes, rows: int
    ) -> tuple[int, int]:
        """(all queries, INSERT INTO coverage_listentry queries) of one preview + confirm."""
        self.clear(coverage_list)
        table = ListEntry._meta.db_table
        with CaptureQueriesContext(connection) as captured:
            self.import_path(coverage_list, content)
        inserts = sum(
            1
            for query in captured.captured_queries
            if query["sql"].lstrip().upper().startswith("INSERT") and table in query["sql"]
        )
        return len(captured), inserts


def database_label() -> str:
    vendor = connection.vendor
    # Each vendor is its Django backend, whose wrapper has the attribute read below.
    if vendor == "sqlite":
        return f"sqlite {cast('SQLiteWrapper', connection).Database.sqlite_version}"
    if vendor == "postgresql":
        connection.ensure_connection()
        version = cast("PostgreSQLWrapper", connection).pg_version
        return f"postgresql {version // 10000}.{version % 10000}"
    return vendor
