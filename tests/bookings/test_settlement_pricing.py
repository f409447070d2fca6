"""A month's vendor statement prices every completed (or counted-as-used) service at the
price in force on its completion day in Asia/Shanghai, in every unit a contract uses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benefits.models import Benefit
from bookings.models import StatementLine, VendorStatement
from bookings.settlement.statements import statement_confirm, statement_price, statement_rows
from tests.bookings.settlement_support import ended, price, shanghai
from tests.factories import OUTPATIENT_ASSIST, pingan_policy

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)
CARER = "pingan.health.inpatient_carer_7d"
TRANSPORT = "pingan.health.discharge_transport"
ADVANCE = "pingan.health.inpatient_advance"


@pytest.fixture
def policy(catalogue):
    return pingan_policy("PA-SETTLE-1")


def run(benefit: Benefit, month: date = MARCH) -> VendorStatement:
    return statement_price(insurer=benefit.product.insurer, vendor=benefit.vendor, month=month)


def amounts(statement: VendorStatement) -> dict[str, Decimal | None]:
    return {row.request_ref: row.amount for row in statement_rows(statement)}


def test_a_price_change_mid_month_prices_each_service_at_its_own_day(policy):
    # given 120 元 until 15 March, 150 元 from the 16th
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), effective_until=date(2026, 3, 15), fixed_fee=Decimal(120))
    price(benefit, date(2026, 3, 16), fixed_fee=Decimal(150))
    before = ended(policy, benefit, shanghai(date(2026, 3, 15), 23, 59))
    after = ended(policy, benefit, shanghai(date(2026, 3, 16), 0, 1))
    # when
    statement = run(benefit)
    # then
    assert amounts(statement) == {before.ref: Decimal(120), after.ref: Decimal(150)}
    assert statement.total == Decimal(270)


def test_a_service_ending_at_the_stroke_of_midnight_is_priced_on_the_new_day(policy):
    # Prices are matched by the instants their days begin and end in Shanghai: the last
    # microsecond of the 15th is the old price, midnight itself the new one.
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), effective_until=date(2026, 3, 15), fixed_fee=Decimal(120))
    price(benefit, date(2026, 3, 16), fixed_fee=Decimal(150))
    last = shanghai(date(2026, 3, 16), 0, 0) - timedelta(microseconds=1)
    before = ended(policy, benefit, last)
    at_midnight = ended(policy, benefit, shanghai(date(2026, 3, 16), 0, 0))

    rows = {row.request_ref: row for row in statement_rows(run(benefit))}

    assert rows[before.ref].amount == Decimal(120)
    assert rows[before.ref].completed_on == date(2026, 3, 15)
    assert rows[at_midnight.ref].amount == Decimal(150)
    assert rows[at_midnight.ref].completed_on == date(2026, 3, 16)


def test_the_day_is_the_shanghai_day_not_the_utc_one(policy):
    # 1 April 00:30 in Shanghai is 31 March 16:30 UTC: an April service, at April's price.
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), effective_until=date(2026, 3, 31), fixed_fee=Decimal(100))
    price(benefit, date(2026, 4, 1), fixed_fee=Decimal(110))
    april_first = ended(policy, benefit, shanghai(date(2026, 4, 1), 0, 30))
    march_last = ended(policy, benefit, shanghai(date(2026, 3, 31), 23, 30))

    assert amounts(run(benefit, MARCH)) == {march_last.ref: Decimal(100)}
    assert amounts(run(benefit, date(2026, 4, 1))) == {april_first.ref: Decimal(110)}


def test_counted_as_used_is_priced_and_a_failure_or_a_free_cancellation_is_not(policy):
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(80))
    late = ended(policy, benefit, shanghai(date(2026, 3, 3)), event="cancelled")
    no_show = ended(policy, benefit, shanghai(date(2026, 3, 4)), event="no_show")
    ended(policy, benefit, shanghai(date(2026, 3, 5)), event="cancelled", outcome="released")
    ended(policy, benefit, shanghai(date(2026, 3, 6)), event="failed")

    statement = run(benefit)

    assert amounts(statement) == {late.ref: Decimal(80), no_show.ref: Decimal(80)}
    assert {row.outcome for row in statement_rows(statement)} == {
        StatementLine.Outcome.COUNTED_AS_USED
    }


def test_per_day_per_km_tier_rate_and_pass_through(policy):
    carer = Benefit.objects.get(code=CARER)
    transport = Benefit.objects.get(code=TRANSPORT)
    advance = Benefit.objects.get(code=ADVANCE)
    price(carer, date(2026, 1, 1), basis="days", unit_price=Decimal("260.00"))
    price(
        transport,
        date(2026, 1, 1),
        basis="km",
        tier_upto=Decimal(200),
        fixed_fee=Decimal(300),
        unit_price=Decimal("6.5"),
    )
    price(transport, date(2026, 1, 1), basis="km", tier_over=Decimal(200), fixed_fee=Decimal(1500))
    price(
        advance,
        date(2026, 1, 1),
        basis="cny",
        unit_price=Decimal("0.0150"),
        fixed_fee=Decimal(50),
        pass_through=True,
    )
    day = shanghai(date(2026, 3, 10))
    five_days = ended(policy, carer, day, consumed={"days": Decimal(5)})
    near = ended(policy, transport, day, consumed={"km": Decimal(200)})  # 200 km: "以内（含）"
    far = ended(policy, transport, day, consumed={"km": Decimal("200.5")})
    advanced = ended(policy, advance, day, consumed={"cny": Decimal("12345.67")})

    # 平安's own service team delivers all four: one statement
    assert amounts(run(carer)) == {
        five_days.ref: Decimal("1300.00"),  # 5 days × 260
        near.ref: Decimal("1600.00"),  # 300 + 200 km × 6.5
        far.ref: Decimal(1500),  # over 200 km: the flat tier
        # 50 + 1.5 % of 12,345.67 (185.185 → 185.19) + the 12,345.67 advanced, to the fen
        advanced.ref: Decimal("12580.86"),
    }


def test_a_service_without_a_price_in_force_is_listed_unpriced_not_free(policy):
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 3, 20), fixed_fee=Decimal(120))
    early = ended(policy, benefit, shanghai(date(2026, 3, 2)))
    ended(policy, benefit, shanghai(date(2026, 3, 25)))

    statement = run(benefit)

    assert amounts(statement)[early.ref] is None
    assert (statement.line_count, statement.unpriced_count, statement.total) == (2, 1, 120)


def test_overlapping_prices_are_refused(policy):
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    with pytest.raises(ValidationError):
        price(benefit, date(2026, 6, 1), fixed_fee=Decimal(130))


def test_rerunning_a_draft_gives_the_same_lines(policy):
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    for day in (2, 9, 30):
        ended(policy, benefit, shanghai(date(2026, 3, day)))
    first = statement_rows(run(benefit))

    again = run(benefit)

    assert statement_rows(again) == first and len(first) == 3
    assert VendorStatement.objects.count() == 1 and again.total == 360


def _services(policy, benefit, count: int) -> None:
    for index in range(count):
        ended(
            policy, benefit, shanghai(date(2026, 3, 1 + index % 28)), consumed={"times": Decimal(1)}
        )


def test_the_query_count_does_not_grow_with_the_services(policy):
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    run(benefit)  # the statement row exists from here on
    _services(policy, benefit, 3)
    with CaptureQueriesContext(connection) as few:
        run(benefit)
    _services(policy, benefit, 60)
    with CaptureQueriesContext(connection) as many:
        statement = run(benefit)
    # savepoint, get-or-create's SELECT, the row lock, (PostgreSQL: SET LOCAL work_mem,) the
    # priced aggregate, UPDATE the statement, release.
    assert len(few) == len(many) == (7 if connection.vendor == "postgresql" else 6)
    assert statement.line_count == 63
    with CaptureQueriesContext(connection) as confirming:
        confirmed = statement_confirm(statement, user=None)
    # savepoint, lock, (SET LOCAL,) INSERT … SELECT the 63 lines, their totals, UPDATE, release
    # + the audit trail of the state change: the stored version, the entry, its insurers
    assert len(confirming) == (11 if connection.vendor == "postgresql" else 10)
    assert confirmed.lines.count() == 63 and confirmed.total == 63 * 120


def test_a_request_completed_through_the_lifecycle_is_priced_on_its_completion_day(
    catalogue, monkeypatch
):
    # given a 门诊协助 request submitted, approved, assigned, scheduled and completed on
    # 16 March at 00:10 Shanghai time (15 March in UTC), the day the price goes up
    from bookings.lifecycle.services import request_transition
    from portal.kernel.actor import Actor
    from tests.clock import Clock, at
    from tests.factories import outpatient_request

    clock = Clock(monkeypatch, at(2026, 3, 2, 10))
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), effective_until=date(2026, 3, 15), fixed_fee=Decimal(120))
    price(benefit, date(2026, 3, 16), fixed_fee=Decimal(150))
    request = outpatient_request(at=at(2026, 3, 2, 10), number="PA-LIFE-PRICE")
    ops = Actor(label="insurer:ops")
    request_transition(request, "approved", actor=ops)
    request_transition(request, "assigned", actor=ops, vendor=benefit.vendor)
    request_transition(request, "scheduled", actor=ops, at=at(2026, 3, 15, 9))
    clock.set(at(2026, 3, 16, 0, 10))
    request_transition(request, "completed", actor=ops)
    # when
    statement = run(benefit)
    # then
    assert amounts(statement) == {request.ref: Decimal(150)}
