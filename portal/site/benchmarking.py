"""What the scale benchmarks share: a throwaway database of their own (a temporary SQLite
file, or a new PostgreSQL database beside the configured one), commands run against it in a
child process, and fast synthetic rows.

The benchmark commands never write their million rows into the configured database: the
parent creates the throwaway database, runs ``migrate``, ``load_catalogue`` and then itself
with ``--inside`` in children whose ``DATABASE_URL`` points there, and drops it at the end.
``--inside`` refuses to run unless the database it is connected to is the one the parent
created (``BENCHMARK_DATABASE``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

ENV_MARK = "BENCHMARK_DATABASE"


@contextmanager
def throwaway_database(label: str) -> Iterator[dict[str, str]]:
    """The environment of a child process whose default database is a new, empty one;
    the database is dropped (or the file deleted) on exit, also after a failure."""
    if connection.vendor == "postgresql":
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise CommandError("PostgreSQL 基准测试需要 DATABASE_URL 环境变量")
        name = f"bench_{label}_{os.getpid()}_{secrets.token_hex(3)}"
        quoted = connection.ops.quote_name(name)
        # A connection of its own, in autocommit: CREATE DATABASE cannot run inside the
        # caller's transaction (a test's, for one).
        admin = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {quoted}")
            try:
                yield _child_env(urlunsplit(urlsplit(url)._replace(path=f"/{name}")), name)
            finally:
                with admin.cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        finally:
            admin.close()
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as folder:
        path = Path(folder) / "bench.sqlite3"
        yield _child_env(f"sqlite:///{path}", str(path))


def _child_env(url: str, name: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env[ENV_MARK] = name
    return env


def run_manage(
    env: dict[str, str], args: Sequence[str], *, stdout: SupportsWrite[str] | None = None
) -> None:
    """``manage.py <args>`` in a child on the throwaway database; its output goes to
    ``stdout`` (or is dropped), a failure raises with the child's last error lines."""
    completed = subprocess.run(  # noqa: S603 — our own manage.py, fixed arguments
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-20:])
        raise CommandError(f"{' '.join(args[:1])} 失败：\n{tail}")
    if stdout is not None:
        stdout.write(completed.stdout)


def prepare(env: dict[str, str]) -> None:
    run_manage(env, ["migrate", "--noinput", "-v0"])
    run_manage(env, ["load_catalogue"])


def check_inside() -> None:
    """Refuse to fill a database the parent did not create for this run."""
    expected = os.environ.get(ENV_MARK)
    if not expected or str(connection.settings_dict["NAME"]) != expected:
        raise CommandError("--inside 只能由基准测试命令在它创建的临时数据库上调用")


def sequence_sql(first: int, last: int) -> str:
    """A FROM-clause source of rows ``n`` = first..last, generated in the database."""
    first, last = int(first), int(last)  # integers only: safe to format into SQL
    if connection.vendor == "postgresql":
        return f"generate_series({first}, {last}) AS seq(n)"
    step = f"SELECT {first} UNION ALL SELECT n + 1 FROM s WHERE n < {last}"  # noqa: S608
    return f"(WITH RECURSIVE s(n) AS ({step}) SELECT n FROM s WHERE n <= {last}) AS seq"  # noqa: S608


def json_sql(literal: str) -> str:
    """A JSON constant for an INSERT … SELECT (PostgreSQL will not cast text to jsonb)."""
    escaped = literal.replace("'", "''")
    return f"CAST('{escaped}' AS jsonb)" if connection.vendor == "postgresql" else f"'{escaped}'"


def analyze() -> None:
    """After a bulk load, before timing, the same for both sides: fresh planner statistics,
    and the load's background work done now rather than during a timed run (PostgreSQL's
    autovacuum of freshly inserted rows, SQLite's WAL checkpoint). Runs in autocommit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def fast_load() -> Iterator[None]:
    """SQLite: no fsync while loading the throwaway file; restored before anything is timed."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")


# A value a cursor binds as one SQL parameter (what ``execute`` accepts, lists aside).
SqlValue = bool | int | float | Decimal | str | bytes | date | datetime | UUID | None


class Param:
    """A bound value in ``insert_select`` (anything else there is trusted SQL)."""

    def __init__(self, value: SqlValue):
        self.value = value


def insert_select(
    model: type[Model],
    values: dict[str, str | Param],
    source: str,
    source_params: Sequence[SqlValue] = (),
) -> int:
    """``INSERT INTO <model> (every column) SELECT <values> FROM <source>``: millions of rows
    without a round trip each. ``values`` must name every column but the primary key, so a
    column added to the model later fails here loudly instead of going in empty."""
    # A concrete field always has a column; the test only narrows ``str | None`` for mypy.
    columns = [
        f.column for f in model._meta.concrete_fields if not f.primary_key and f.column is not None
    ]
    if set(values) != set(columns):
        raise CommandError(
            f"{model._meta.label} 的列与基准数据不一致：缺少 {sorted(set(columns) - set(values))}，"
            f"多出 {sorted(set(values) - set(columns))}"
        )
    quote = connection.ops.quote_name
    expressions: list[str] = []
    params: list[SqlValue] = []
    for column in columns:
        value = values[column]
        if isinstance(value, Param):
            expressions.append("%s")
            params.append(value.value)
        else:
            expressions.append(value)
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    # Names come from the model's metadata; every value is bound.
    sql = f"INSERT INTO {table} ({names}) SELECT {', '.join(expressions)} FROM {source}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *source_params])
        return cursor.rowcount


def db_date(value: date) -> str | None:
    return connection.ops.adapt_datefield_value(value)


def db_datetime(value: datetime) -> str | None:
    return connection.ops.adapt_datetimefield_value(value)


class SizeBenchmark(BaseCommand):
    """A benchmark timing the same work with a small and a big amount of data, ``--due``
    items due each time, ``--repeat`` times a side, on a throwaway database. Run without
    ``--inside`` it prepares that database and runs itself there with ``--inside``, which
    calls ``run``."""

    name: str  # the command's own name, to run again inside the throwaway database
    label: str  # part of the throwaway database's name
    goal: float  # the big side's median time over the small side's, at most
    # (default, help) of --small, --big, --due and --repeat
    sizes: dict[str, tuple[int, str]]

    def add_arguments(self, parser: CommandParser) -> None:
        for option in ("small", "big", "due", "repeat"):
            default, text = self.sizes[option]
            parser.add_argument(f"--{option}", type=int, default=default, help=text)
        parser.add_argument("--inside", action="store_true", help="（内部）在临时库中运行")

    def handle(
        self, *args: Any, small: int, big: int, due: int, repeat: int, inside: bool, **_: Any
    ) -> None:
        self.check_sizes(small=small, big=big, due=due, repeat=repeat)
        if inside:
            check_inside()
            self.run(small=small, big=big, due=due, repeat=repeat)
            return
        with throwaway_database(self.label) as env:
            prepare(env)
            run_manage(
                env,
                [
                    self.name,
                    "--inside",
                    f"--small={small}",
                    f"--big={big}",
                    f"--due={due}",
                    f"--repeat={repeat}",
                ],
                stdout=self.stdout,
            )

    def check_sizes(self, *, small: int, big: int, due: int, repeat: int) -> None:
        """Raise ``CommandError`` when the sizes cannot make a fair comparison."""
        raise NotImplementedError

    def run(self, *, small: int, big: int, due: int, repeat: int) -> None:
        """Fill, time and report; called inside the throwaway database."""
        raise NotImplementedError

    def write_header(self) -> None:
        self.stdout.write(
            f"数据库：{connection.vendor}（临时库，测完即删）；同一进程，先小库后扩为大库"
        )

    def write_verdict(self, small_median: float, big_median: float) -> None:
        ratio = big_median / small_median
        verdict = "达标" if ratio <= self.goal else "未达标"
        self.stdout.write(f"比值 {ratio:.2f}（大库/小库，目标 ≤ {self.goal}）：{verdict}")
