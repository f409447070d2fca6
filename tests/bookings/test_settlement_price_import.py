"""Contract prices imported from a sheet: vendors and benefits by code, all or nothing, every
failing row reported, and only for the importing staff member's insurers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import tablib

from benefits.models import Insurer
from bookings.models import ContractPrice
from bookings.settlement.resources import ContractPriceResource

pytestmark = pytest.mark.django_db
HEADERS = [
    "vendor",
    "benefit",
    "basis",
    "unit_price",
    "fixed_fee",
    "pass_through",
    "tier_over",
    "tier_upto",
    "effective_from",
    "effective_until",
    "contract_ref",
]
OUTPATIENT = ("pingan_team", "pingan.health.outpatient_assist")
CARER = ("pingan_team", "pingan.health.inpatient_carer_7d")


def sheet(*rows: tuple) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=HEADERS)
    for row in rows:
        dataset.append(row)
    return dataset


def row(codes: tuple[str, str], start: str, fee: str = "120", basis: str = "times") -> tuple:
    return (*codes, basis, "0", fee, "0", "", "", start, "", "2026-合同-01")


def test_a_sheet_is_imported_by_code(catalogue):
    result = ContractPriceResource().import_data(
        sheet(row(OUTPATIENT, "2026-01-01"), row(CARER, "2026-01-01", "0", "days")), dry_run=False
    )
    assert not result.has_errors() and not result.has_validation_errors()
    price = ContractPrice.objects.get(benefit__code=OUTPATIENT[1])
    assert (price.fixed_fee, price.effective_from) == (Decimal(120), date(2026, 1, 1))


def test_one_bad_row_imports_nothing_and_each_bad_row_is_named(catalogue):
    # the second row overlaps the first; the third names no such benefit
    result = ContractPriceResource().import_data(
        sheet(
            row(OUTPATIENT, "2026-01-01"),
            row(OUTPATIENT, "2026-06-01", "130"),
            row(("pingan_team", "pingan.health.nope"), "2026-01-01"),
        ),
        dry_run=False,
    )
    assert [invalid.number for invalid in result.invalid_rows] == [2]  # the overlap
    assert [number for number, _errors in result.row_errors()] == [3]  # the unknown benefit
    assert "重叠" in str(result.invalid_rows[0].error_dict)
    assert not ContractPrice.objects.exists()


def test_a_staff_member_cannot_import_another_insurers_prices(catalogue):
    axa = frozenset({Insurer.objects.get(code="axa").pk})
    result = ContractPriceResource(insurer_ids=axa).import_data(
        sheet(row(OUTPATIENT, "2026-01-01")), dry_run=False
    )
    assert [invalid.number for invalid in result.invalid_rows] == [1]
    assert "不属于您所在的保险公司" in str(result.invalid_rows[0].error_dict)
    assert not ContractPrice.objects.exists()
