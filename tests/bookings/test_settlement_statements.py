"""A statement's life: confirmed once (also when two people confirm at once), unchanged by
re-running its month, disputed line by line, settled; exported formula-safe; reconciled
with the vendor's own statement, every difference listed."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import tablib
from django.db import connection

from benefits.models import Benefit
from bookings.models import ContractPrice, StatementLine, VendorStatement
from bookings.settlement.statements import (
    line_dispute,
    line_resolve,
    statement_confirm,
    statement_dataset,
    statement_price,
    statement_reconcile,
    statement_settle,
    vendor_claims,
)
from portal.kernel.errors import DomainError
from portal.kernel.spreadsheet_formats import FormulaSafeCSV
from tests.bookings.settlement_support import ended, price, shanghai
from tests.factories import OUTPATIENT_ASSIST, pingan_policy, staff_member

MARCH = date(2026, 3, 1)
State = VendorStatement.State


def _month(policy, count: int = 2) -> tuple[Benefit, list[str]]:
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    refs = [ended(policy, benefit, shanghai(date(2026, 3, 2 + i))).ref for i in range(count)]
    return benefit, refs


def _run(benefit: Benefit) -> VendorStatement:
    return statement_price(insurer=benefit.product.insurer, vendor=benefit.vendor, month=MARCH)


@pytest.mark.django_db
def test_a_confirmed_month_does_not_change_when_run_again(catalogue):
    # given a confirmed March of two services
    policy = pingan_policy("PA-ST-1")
    benefit, refs = _month(policy)
    confirmed = statement_confirm(_run(benefit), user=staff_member())
    # when a late service of March appears, prices change and the month is run again
    ended(policy, benefit, shanghai(date(2026, 3, 30)))
    ContractPrice.objects.filter(benefit=benefit).update(fixed_fee=Decimal(999))
    again = _run(benefit)
    # then the statement is as confirmed
    assert again.state == State.CONFIRMED
    assert (again.line_count, again.total) == (2, Decimal(240))
    assert sorted(again.lines.values_list("request_ref", flat=True)) == sorted(refs)
    assert again.priced_at == confirmed.priced_at


@pytest.mark.django_db
def test_a_month_is_confirmed_only_once_it_has_ended_in_shanghai(catalogue):
    # given March's draft, read on its last evening
    benefit, _refs = _month(pingan_policy("PA-ST-OPEN"))
    statement = _run(benefit)
    # when it is confirmed a minute before midnight in Shanghai, then at midnight
    with pytest.raises(DomainError) as refused:
        statement_confirm(statement, user=staff_member(), now=shanghai(date(2026, 3, 31), 23, 59))
    assert (refused.value.code, refused.value.status) == ("statement_month_open", 409)
    assert "2026-04-01起" in refused.value.message
    assert not StatementLine.objects.exists()  # nothing frozen
    confirmed = statement_confirm(statement, user=staff_member(), now=shanghai(date(2026, 4, 1), 0))
    # then only the second confirms it
    assert confirmed.state == State.CONFIRMED and confirmed.line_count == 2


@pytest.mark.django_db
def test_a_statement_with_an_unpriced_service_cannot_be_confirmed(catalogue):
    policy = pingan_policy("PA-ST-2")
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    ended(policy, benefit, shanghai(date(2026, 3, 2)))
    with pytest.raises(DomainError) as refused:
        statement_confirm(_run(benefit), user=staff_member())
    assert "没有适用的合同价格" in refused.value.message
    assert not StatementLine.objects.exists()  # nothing frozen
    assert VendorStatement.objects.get().state == State.DRAFT


@pytest.mark.django_db
def test_a_disputed_line_holds_the_settlement_until_resolved(catalogue):
    policy = pingan_policy("PA-ST-3")
    benefit, refs = _month(policy)
    statement = statement_confirm(_run(benefit), user=staff_member())
    line = statement.lines.get(request_ref=refs[0])

    line_dispute(line, reason="服务商称实际陪同两次")
    statement.refresh_from_db()
    assert statement.state == State.DISPUTED
    with pytest.raises(DomainError) as refused:
        statement_settle(statement)
    assert refused.value.code == "statement_has_disputes"

    line_resolve(line, agreed_amount=Decimal(200))
    statement.refresh_from_db()
    assert (statement.state, statement.total) == (State.CONFIRMED, Decimal(320))
    statement_settle(statement)
    statement.refresh_from_db()
    assert statement.state == State.SETTLED


@pytest.mark.django_db
def test_reconciliation_lists_missing_extra_and_amount_differences(catalogue):
    policy = pingan_policy("PA-ST-4")
    benefit, refs = _month(policy, count=3)
    statement = _run(benefit)
    sheet = tablib.Dataset(headers=["申请编号", "金额"])
    sheet.append((refs[0], "120.00"))  # agrees
    sheet.append((refs[1], "150"))  # another amount
    sheet.append(("T99999999", "120"))  # not a service of ours
    # refs[2] is not billed: missing from their statement

    differences = statement_reconcile(statement, vendor_claims(sheet))

    assert [(d.ref, d.kind, d.ours, d.theirs) for d in differences] == [
        (refs[1], "amount", Decimal(120), Decimal(150)),
        (refs[2], "missing", Decimal(120), None),
        ("T99999999", "extra", None, Decimal(120)),
    ]
    statement.refresh_from_db()
    assert len(statement.reconciliation["differences"]) == 3


def test_a_vendor_sheet_with_bad_rows_is_refused_with_every_row_named():
    sheet = tablib.Dataset(headers=["申请编号", "金额"])
    sheet.append(("T1", "abc"))
    sheet.append(("T2", "10"))
    sheet.append(("T2", "11"))
    with pytest.raises(DomainError) as refused:
        vendor_claims(sheet)
    assert refused.value.details["problems"] == ["第2行金额无法识别", "第4行申请编号重复：T2"]


@pytest.mark.django_db
def test_the_excel_export_escapes_formulas(catalogue):
    policy = pingan_policy("PA-ST-5")
    benefit, _refs = _month(policy, count=1)
    statement = statement_confirm(_run(benefit), user=staff_member())
    StatementLine.objects.filter(statement=statement).update(dispute_reason="=HYPERLINK(1)")

    exported = FormulaSafeCSV().export_data(statement_dataset(statement))

    assert "'=HYPERLINK(1)" in exported
    assert "120" in exported


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_confirmations_at_once_confirm_it_once(catalogue):
    policy = pingan_policy("PA-ST-6")
    benefit, _refs = _month(policy)
    statement = _run(benefit)
    users = [staff_member(), staff_member()]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def confirm(user) -> None:
        try:
            barrier.wait()
            statement_confirm(VendorStatement.objects.get(pk=statement.pk), user=user)
            outcomes.append("confirmed")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["confirmed", "statement_state"]
    statement.refresh_from_db()
    assert statement.state == State.CONFIRMED and statement.confirmed_by in users
