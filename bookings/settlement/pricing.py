"""Pricing every completed (or counted-as-used) service at its vendor's contract price in
force on its completion day, in one statement for any number of services.

A service is priced when its request ended ``completed``, or ``cancelled`` / ``no_show``
with its quota counted as used (a late cancellation, a no-show: the vendor held the slot).
A ``failed`` request is never priced: the vendor did not deliver, whatever the quota did.
Its day is the day of that ending event in Asia/Shanghai.

The query joins requests to their consumption and to ``ContractPrice`` on vendor, benefit,
day and tier, so its cost grows with the rows the database reads, never with a query per
service. Every piece of the SQL is a constant of this module or a table name; values are
parameters. It is written in SQL because the ORM cannot join on a range condition nor insert
from a select; the backend-specific pieces are the local day of an instant and the instant
a local day begins (prices are matched by instants, bounds computed once per price)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import connection

from benefits.models import Benefit, Product
from bookings.models import (
    Consumption,
    ContractPrice,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    StatementLine,
)
from portal.kernel.clock import SHANGHAI

PRICED_ENDINGS = ("cancelled", "no_show")  # priced only when the quota was counted as used


def _local_day(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'Asia/Shanghai')::date"
    # SQLite keeps UTC text; Asia/Shanghai has been UTC+8 all year since 1991. Cut to the
    # second first: its date arithmetic rounds to the millisecond, so 15:59:59.9999 UTC
    # would otherwise land on the next local day.
    return f"date(substr({column}, 1, 19), '+8 hours')"


def _local_midnight(day: str, *, plus_days: int = 0) -> str:
    """The instant ``day`` (+ ``plus_days``) begins in Asia/Shanghai, comparable with a
    stored instant."""
    if connection.vendor == "postgresql":
        return f"(({day} + {plus_days})::timestamp AT TIME ZONE 'Asia/Shanghai')"
    return f"datetime({day}, '+{plus_days} days', '-8 hours')"


def _prices_sql() -> str:
    """The contract prices with the instants their days begin and end, computed once per
    price, so that a service is matched by its ending instant: converting each of 100,000
    instants to its local day for the range join cost a sixth of the pricing (measured).
    ``OFFSET 0`` keeps PostgreSQL from inlining the subquery, which would compute the
    instants again for every service."""
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    return (
        f"(SELECT p.*, {_local_midnight('p.effective_from')} AS starts_at, "  # noqa: S608
        f"{_local_midnight('p.effective_until', plus_days=1)} AS ends_at "
        f"FROM {ContractPrice._meta.db_table} p{fence})"
    )


def _quantity(s: str, p: str) -> str:
    """What was consumed in the price's unit. Without a report: one time; the days or the
    amount the request asked for (its hold was used whole); no kilometres."""
    return (
        f"CASE {p}.basis WHEN 'times' THEN COALESCE({s}.times, 1) "
        f"WHEN 'days' THEN COALESCE({s}.days, {s}.requested, 1) "
        f"WHEN 'cny' THEN COALESCE({s}.cny, {s}.requested, 0) "
        f"WHEN 'km' THEN COALESCE({s}.km, 0) ELSE 0 END"
    )


ENDED = (
    "(e.event = 'completed' OR (e.event IN ('cancelled', 'no_show') "
    f"AND r.quota_outcome = '{QuotaOutcome.USED.value}'))"
)


def _services_sql(where: str) -> str:
    """The priced services matching ``where`` (on ``e`` the ending event, ``r`` the request,
    ``b`` the benefit, ``pr`` the product), with their consumption per measure. Its first
    two parameters are the instants bounding the period, then those of ``where``.

    The consumption is summed per request in a derived table limited to the requests that
    ended in the period (a narrow aggregate, then one hash join), which measured twice as
    fast as grouping the wide joined rows. It is sorted by request: PostgreSQL then sums
    by streaming through the sorted rows instead of hashing 100,000 groups of four numeric
    sums (130 MB of aggregate state; measured 56 ms instead of 200 ms)."""
    sums = ", ".join(
        f"SUM(CASE WHEN c.measure = '{m}' THEN c.amount END) AS {m}"
        for m in ("times", "days", "cny", "km")
    )
    events = RequestEvent._meta.db_table
    consumed = (
        f"SELECT c.request_id, {sums} FROM {Consumption._meta.db_table} c "  # noqa: S608
        f"WHERE c.request_id IN (SELECT x.request_id FROM {events} x "
        "WHERE x.at >= %s AND x.at < %s "
        "AND x.event IN ('completed', 'cancelled', 'no_show')) "
        "GROUP BY c.request_id ORDER BY c.request_id"
    )
    return (
        f"SELECT r.id AS request_id, r.ref AS ref, r.benefit_id AS benefit_id, "  # noqa: S608
        f"r.vendor_id AS vendor_id, {_local_day('e.at')} AS done_on, e.at AS done_at, "
        "e.event AS event, "
        f"r.amount AS requested, k.times, k.days, k.cny, k.km "
        f"FROM {events} e "
        f"JOIN {ServiceRequest._meta.db_table} r ON r.id = e.request_id "
        f"JOIN {Benefit._meta.db_table} b ON b.id = r.benefit_id "
        f"JOIN {Product._meta.db_table} pr ON pr.id = b.product_id "
        f"LEFT JOIN ({consumed}) k ON k.request_id = r.id "
        f"WHERE {ENDED} AND ({where})"
    )


def _priced_sql(where: str) -> str:
    """Each service of ``_services_sql`` with the price in force on its day (NULL columns
    when none is: such a service is listed unpriced, never counted as free)."""
    qty = _quantity("s", "p")
    return (
        f"SELECT s.request_id, s.ref, s.benefit_id, s.done_on, "  # noqa: S608
        f"CASE s.event WHEN 'completed' THEN '{StatementLine.Outcome.COMPLETED.value}' "
        f"ELSE '{StatementLine.Outcome.COUNTED_AS_USED.value}' END AS outcome, "
        f"p.id AS price_id, COALESCE(p.basis, '') AS basis, {qty} AS quantity, "
        f"p.unit_price, p.fixed_fee, "
        f"CASE WHEN p.pass_through THEN COALESCE(s.cny, 0) ELSE 0 END AS pass_through_amount, "
        f"ROUND(p.fixed_fee + p.unit_price * ({qty}) "
        f"+ CASE WHEN p.pass_through THEN COALESCE(s.cny, 0) ELSE 0 END, 2) AS amount "
        f"FROM ({_services_sql(where)}) s "
        f"LEFT JOIN {_prices_sql()} p ON p.vendor_id = s.vendor_id "
        "AND p.benefit_id = s.benefit_id AND s.done_at >= p.starts_at "
        "AND (p.ends_at IS NULL OR s.done_at < p.ends_at) "
        f"AND (p.tier_over IS NULL OR ({qty}) > p.tier_over) "
        f"AND (p.tier_upto IS NULL OR ({qty}) <= p.tier_upto)"
    )


# A month of a big vendor joins ~100,000 requests in hashes and sorts their consumption:
# with PostgreSQL's default 4 MB they spill to disk (measured), so the pricing statements
# raise work_mem for their own transaction only. And they run without parallel workers:
# each worker would sum the whole month's consumption again for its own hash join
# (measured, 100,000 services on two cores: 430 ms with two workers, 350 ms without).
PRICING_WORK_MEM = "64MB"


def _roomy(cursor: Any) -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), "
            "set_config('max_parallel_workers_per_gather', '0', true)",
            [PRICING_WORK_MEM],
        )


def local_bounds(first: date, after: date) -> tuple[Any, Any]:
    """[first, after) as instants at midnight Asia/Shanghai, adapted for the backend."""
    start = datetime.combine(first, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(after, time.min, tzinfo=SHANGHAI)
    adapt = connection.ops.adapt_datetimefield_value
    return adapt(start), adapt(end)


LINE_COLUMNS = (
    "request_id",
    "request_ref",
    "benefit_id",
    "completed_on",
    "outcome",
    "price_id",
    "basis",
    "quantity",
    "unit_price",
    "fixed_fee",
    "pass_through_amount",
    "amount",
)


def insert_statement_lines(
    *, statement_id: int, insurer_id: int, vendor_id: int, first: date, after: date
) -> int:
    """Write the lines of one statement (the vendor's services of the insurer's products
    that ended in [first, after)) in one INSERT … SELECT; returns how many. A service already
    on another statement is skipped by the unique line per request (``ON CONFLICT DO
    NOTHING``), not by an anti-join: inside the INSERT an anti-join on a table planned as
    empty rescans the rows being written (measured: 128 s for 100,000 lines)."""
    start, end = local_bounds(first, after)
    columns = ", ".join(("statement_id", *LINE_COLUMNS, "disputed", "dispute_reason"))
    # "WHERE TRUE": SQLite needs it to read ON CONFLICT after INSERT … SELECT.
    sql = (
        f"INSERT INTO {StatementLine._meta.db_table} ({columns}) "  # noqa: S608
        f"SELECT %s, q.*, %s, '' FROM ({_priced_sql(_statement_where(billed=False))}) q "
        "WHERE TRUE ON CONFLICT (request_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        _roomy(cursor)
        params = [statement_id, False, start, end, vendor_id, insurer_id, start, end]
        cursor.execute(sql, params)
        return cursor.rowcount


def _statement_where(*, billed: bool = True) -> str:
    """The services of one statement: the vendor's, of the insurer's products, ended in the
    month, and (``billed``) not already on another statement: a service is paid once."""
    where = "r.vendor_id = %s AND pr.insurer_id = %s AND e.at >= %s AND e.at < %s"
    if not billed:
        return where
    return (
        f"{where} AND NOT EXISTS (SELECT 1 FROM {StatementLine._meta.db_table} l "  # noqa: S608
        "WHERE l.request_id = r.id AND l.statement_id <> %s)"
    )


def statement_totals(
    *, statement_id: int, insurer_id: int, vendor_id: int, first: date, after: date
) -> PricedTotals:
    """What ``insert_statement_lines`` would write, aggregated without writing it: the
    services, how many are priced and their sum, in one query."""
    start, end = local_bounds(first, after)
    priced = _priced_sql(_statement_where())
    sql = f"SELECT COUNT(*), COUNT(q.amount), SUM(q.amount) FROM ({priced}) q"  # noqa: S608
    with connection.cursor() as cursor:
        _roomy(cursor)
        cursor.execute(sql, [start, end, vendor_id, insurer_id, start, end, statement_id])
        services, priced, cost = cursor.fetchone()
    return PricedTotals(services, priced, Decimal(str(cost or 0)).quantize(Decimal("0.01")))


@dataclass(frozen=True)
class PricedLine:
    request_id: int
    request_ref: str
    benefit_id: int
    completed_on: date
    outcome: str
    basis: str
    quantity: Decimal
    amount: Decimal | None
    disputed: bool = False
    dispute_reason: str = ""


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def statement_lines(
    *, statement_id: int, insurer_id: int, vendor_id: int, first: date, after: date
) -> list[PricedLine]:
    """The lines ``insert_statement_lines`` would write, read without writing them (a
    draft's lines), in one query, by day and ref."""
    start, end = local_bounds(first, after)
    priced = _priced_sql(_statement_where())
    sql = (
        "SELECT q.request_id, q.ref, q.benefit_id, q.done_on, q.outcome, q.basis, "  # noqa: S608
        f"q.quantity, q.amount FROM ({priced}) q ORDER BY q.done_on, q.ref"
    )
    with connection.cursor() as cursor:
        _roomy(cursor)
        cursor.execute(sql, [start, end, vendor_id, insurer_id, start, end, statement_id])
        rows = cursor.fetchall()
    return [
        PricedLine(
            request_id=request_id,
            request_ref=ref,
            benefit_id=benefit_id,
            completed_on=day if isinstance(day, date) else date.fromisoformat(str(day)),
            outcome=outcome,
            basis=basis,
            quantity=_decimal(quantity) or Decimal("0.00"),
            amount=_decimal(amount),
        )
        for request_id, ref, benefit_id, day, outcome, basis, quantity, amount in rows
    ]


@dataclass(frozen=True)
class PricedTotals:
    services: int
    priced: int
    cost: Decimal


def products_cost(*, product_ids: list[int], first: date, after: date) -> dict[int, PricedTotals]:
    """Per product of ``product_ids``: the services that ended in [first, after) and what
    they cost at the contract prices, in one aggregate query for all of them."""
    if not product_ids:
        return {}
    start, end = local_bounds(first, after)
    marks = ", ".join(["%s"] * len(product_ids))
    where = f"b.product_id IN ({marks}) AND e.at >= %s AND e.at < %s"
    sql = (
        f"SELECT b.product_id, COUNT(*), COUNT(q.amount), SUM(q.amount) "  # noqa: S608
        f"FROM ({_priced_sql(where)}) q JOIN {Benefit._meta.db_table} b ON b.id = q.benefit_id "
        f"GROUP BY b.product_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, *product_ids, start, end])
        rows = cursor.fetchall()
    found = {
        product: PricedTotals(services, priced, Decimal(str(cost or 0)).quantize(Decimal("0.01")))
        for product, services, priced, cost in rows
    }
    return {pk: found.get(pk, PricedTotals(0, 0, Decimal("0.00"))) for pk in product_ids}
