"""The settlement admin's refusals: confirming a month not yet ended, and a dispute edit
the statement's state does not allow, shown as the reason only (nothing saved or logged)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from benefits.models import Benefit
from bookings.models import StatementLine, VendorStatement
from bookings.settlement.statements import statement_confirm, statement_price, statement_settle
from tests.bookings.settlement_support import ended, price, shanghai
from tests.factories import OUTPATIENT_ASSIST, pingan_policy, staff_member

pytestmark = pytest.mark.django_db
State = VendorStatement.State


def _services(days: list) -> Benefit:
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    policy = pingan_policy("PA-ADM-1")
    for at in days:
        ended(policy, benefit, at)
    return benefit


def _statement(benefit: Benefit, month: date) -> VendorStatement:
    return statement_price(insurer=benefit.product.insurer, vendor=benefit.vendor, month=month)


def test_confirming_this_month_is_refused_until_it_has_ended(catalogue, client):
    # given this month's draft with a service so far
    benefit = _services([timezone.now()])
    statement = _statement(benefit, timezone.localdate().replace(day=1))
    client.force_login(staff_member("admin", ["pingan"]))
    # when the admin confirms it
    page = client.post(
        reverse("admin:bookings_vendorstatement_changelist"),
        {"action": "confirm", "_selected_action": [statement.pk]},
        follow=True,
    )
    # then they are told why and the statement stays a draft, no line frozen
    assert "尚未结束" in page.text and "才能确认结算单" in page.text
    statement.refresh_from_db()
    assert statement.state == State.DRAFT and not StatementLine.objects.exists()


def test_a_refused_dispute_edit_shows_only_the_reason(catalogue, client):
    # given a line of a settled March
    benefit = _services([shanghai(date(2026, 3, 3))])
    statement = statement_confirm(_statement(benefit, date(2026, 3, 1)), user=staff_member())
    statement_settle(statement)
    line = StatementLine.objects.get()
    client.force_login(staff_member("admin", ["pingan"]))
    # when someone marks it disputed in the admin
    response = client.post(
        reverse("admin:bookings_statementline_change", args=[line.pk]),
        {"disputed": "on", "dispute_reason": "金额不符"},
    )
    # then the form is shown again with the reason, and no success nor change is recorded
    assert response.status_code == 200
    assert "结算单当前状态为“已结算”，不能标记争议" in response.text
    assert "成功修改" not in response.text
    assert not LogEntry.objects.filter(object_id=str(line.pk)).exists()
    line.refresh_from_db()
    assert (line.disputed, line.dispute_reason) == (False, "")


def test_a_dispute_on_a_confirmed_statement_is_saved(catalogue, client):
    benefit = _services([shanghai(date(2026, 3, 3))])
    statement_confirm(_statement(benefit, date(2026, 3, 1)), user=staff_member())
    line = StatementLine.objects.get()
    client.force_login(staff_member("admin", ["pingan"]))
    response = client.post(
        reverse("admin:bookings_statementline_change", args=[line.pk]),
        {"disputed": "on", "dispute_reason": "金额不符"},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.disputed, line.dispute_reason) == (True, "金额不符")
    assert VendorStatement.objects.get().state == State.DISPUTED
