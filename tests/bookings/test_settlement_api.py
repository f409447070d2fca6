"""The staff API reads and the commands of settlement: a vendor's monthly statement and a
product's cost ratio, scoped by tenancy (another insurer's vendor or product is 404)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from benefits.models import Benefit, Product
from bookings.models import ProductPremium, VendorStatement
from portal.kernel.staff_auth import staff_token_issue
from tests.bookings.settlement_support import ended, price, shanghai
from tests.factories import OUTPATIENT_ASSIST, pingan_policy, staff_member

pytestmark = pytest.mark.django_db
BASE = "/api/staff/v1"


@pytest.fixture
def march(catalogue):
    """Two 平安 门诊协助 services in March 2026 at 120 元, by 平安's own service team."""
    benefit = Benefit.objects.get(code=OUTPATIENT_ASSIST)
    price(benefit, date(2026, 1, 1), fixed_fee=Decimal(120))
    policy = pingan_policy("PA-API-1")
    for day in (3, 4):
        ended(policy, benefit, shanghai(date(2026, 3, day)))
    ProductPremium.objects.create(product=benefit.product, year=2026, net_premium=Decimal(2400))
    return benefit


def bearer(role: str, insurers: list[str]) -> dict[str, str]:
    token = staff_token_issue(user=staff_member(role, insurers), name="对账系统")[1]
    return {"authorization": f"Bearer {token}"}


def test_the_statement_reads_back_with_its_lines_and_total(march):
    answer = Client().get(
        f"{BASE}/vendor-statements/{march.vendor.code}/2026-03", headers=bearer("admin", ["pingan"])
    )
    assert answer.status_code == 200
    [statement] = answer.json()
    assert (statement["insurer"], statement["total"], statement["line_count"]) == (
        "pingan",
        "240.00",
        2,
    )
    assert [line["amount"] for line in statement["lines"]] == ["120.00", "120.00"]


def test_another_insurers_vendor_and_product_answer_404(march):
    headers = bearer("admin", ["axa"])
    client = Client()
    vendor = client.get(f"{BASE}/vendor-statements/{march.vendor.code}/2026-03", headers=headers)
    product = client.get(f"{BASE}/cost-ratio/pingan.health/2026", headers=headers)
    assert (vendor.status_code, vendor.json()["code"]) == (404, "not_found")
    assert (product.status_code, product.json()["code"]) == (404, "not_found")


def test_an_operator_without_the_permission_gets_403(march):
    answer = Client().get(
        f"{BASE}/cost-ratio/pingan.health/2026", headers=bearer("operator", ["pingan"])
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "permission_denied")


def test_a_bad_month_is_a_structured_422(march):
    answer = Client().get(
        f"{BASE}/vendor-statements/{march.vendor.code}/2026-13", headers=bearer("admin", ["pingan"])
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_month")


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1999-12", "2101-01"])
def test_a_month_outside_the_years_is_a_structured_422_in_chinese(march, month):
    answer = Client().get(
        f"{BASE}/vendor-statements/{march.vendor.code}/{month}", headers=bearer("admin", ["pingan"])
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_month")
    assert "2000至2100年" in answer.json()["message"]
    with pytest.raises(CommandError, match="2000至2100年"):
        call_command("vendor_statement", vendor=march.vendor.code, month=month)


def test_reading_a_month_that_has_not_begun_creates_no_statement(march):
    # given an auditor (read-only) and next month
    following = timezone.localdate().replace(day=1) + relativedelta(months=1)
    url = f"{BASE}/vendor-statements/{march.vendor.code}/{following:%Y-%m}"
    # when they read it, or the command is run for it
    answer = Client().get(url, headers=bearer("auditor", ["pingan"]))
    with pytest.raises(CommandError, match="该月尚未开始"):
        call_command("vendor_statement", vendor=march.vendor.code, month=f"{following:%Y-%m}")
    # then it is refused and no draft statement was written
    assert (answer.status_code, answer.json()) == (
        422,
        {"code": "invalid_month", "message": "该月尚未开始"},
    )
    assert not VendorStatement.objects.exists()
    # while this month (begun) is priced as a draft so far
    this_month = Client().get(
        f"{BASE}/vendor-statements/{march.vendor.code}/{timezone.localdate():%Y-%m}",
        headers=bearer("auditor", ["pingan"]),
    )
    assert this_month.status_code == 200 and this_month.json()[0]["state"] == "draft"


def test_the_cost_ratio_reads_back(march):
    answer = Client().get(
        f"{BASE}/cost-ratio/pingan.health/2026", headers=bearer("auditor", ["pingan"])
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["cost"], body["net_premium"], body["ratio"]) == ("240.00", "2400.00", "0.1000")
    assert body["projection_method"] == "linear_by_elapsed_days"


def test_the_statement_command_prints_lines_whose_sum_is_the_total(march):
    out = io.StringIO()
    call_command("vendor_statement", vendor=march.vendor.code, month="2026-03", stdout=out)
    text = out.getvalue()
    assert "合计 240.00 元（明细之和 240.00 元）" in text
    assert text.count("  120.00") == 2


def test_the_statement_command_in_json(march):
    out = io.StringIO()
    call_command(
        "vendor_statement", vendor=march.vendor.code, month="2026-03", json=True, stdout=out
    )
    [statement] = json.loads(out.getvalue())
    assert sum(Decimal(line["amount"]) for line in statement["lines"]) == Decimal(
        statement["total"]
    )


def test_the_statement_command_reconciles_the_vendors_sheet(march, tmp_path):
    sheet = tmp_path / "vendor.csv"
    sheet.write_text("申请编号,金额\nT-NOT-OURS,99\n", encoding="utf-8")
    out = io.StringIO()
    call_command(
        "vendor_statement",
        vendor=march.vendor.code,
        month="2026-03",
        reconcile=str(sheet),
        stdout=out,
    )
    text = out.getvalue()
    assert text.count("对账差异 missing") == 2 and "对账差异 extra: T-NOT-OURS" in text


def test_the_commands_refuse_bad_input_in_chinese(catalogue):
    with pytest.raises(CommandError, match="月份格式"):
        call_command("vendor_statement", month="March")
    with pytest.raises(CommandError, match="产品不存在"):
        call_command("cost_ratio", product="nope", year=2026)


def test_the_cost_ratio_command_prints_a_ratio_per_product(march):
    out = io.StringIO()
    call_command("cost_ratio", year=2026, stdout=out)
    text = out.getvalue()
    assert text.count("成本占比") == Product.objects.count()
    assert "成本 240.00 元" in text and "成本占比 10.00%" in text
