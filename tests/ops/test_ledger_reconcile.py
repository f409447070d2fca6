"""manage.py ledger_reconcile: passes on a ledger the services wrote, fails naming the
balance that differs from its entries and the closed request that still holds quota."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from benefits.models import QuotaBalance
from bookings.models import ServiceRequest
from tests.clock import at
from tests.factories import outpatient_request

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = io.StringIO()
    call_command("ledger_reconcile", stdout=out)
    return out.getvalue()


def test_a_ledger_written_by_the_services_reconciles():
    outpatient_request(at=at(2026, 3, 2, 10), number="RECONCILE-1")
    output = reconcile()
    assert "发现问题 0 个" in output and "对账一致" in output


def test_a_balance_that_differs_from_its_entries_fails_and_is_named():
    request = outpatient_request(at=at(2026, 3, 2, 10), number="RECONCILE-2")
    balance = QuotaBalance.objects.get(policy=request.policy)
    QuotaBalance.objects.filter(pk=balance.pk).update(granted=F("granted") + 1)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_reconcile", stdout=out)
    assert f"余额 {balance.pk}：记录 2/1/0，流水 1/1/0" in out.getvalue()
    assert "发现问题 1 个" in out.getvalue()


def test_a_closed_request_still_holding_quota_fails_and_is_named():
    request = outpatient_request(at=at(2026, 3, 2, 10), number="RECONCILE-3")
    ServiceRequest.objects.filter(pk=request.pk).update(status="cancelled")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_reconcile", stdout=out)
    assert f"申请 {request.ref}（cancelled）已结束，仍占用 1" in out.getvalue()
