"""The catalogue goes out to Excel and back, matched by code, never by primary key; a sheet
with a bad row imports nothing."""

import json

import pytest
import tablib

from benefits.catalogue.resources import BenefitResource, VendorResource
from benefits.models import Benefit, Vendor


@pytest.mark.django_db
def test_benefits_export_with_codes_not_primary_keys():
    dataset = BenefitResource().export()
    assert "id" not in dataset.headers
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    benefit = Benefit.objects.get(code=row["code"])
    assert row["product"] == benefit.product.code
    assert row["vendor"] == benefit.vendor.code
    assert json.loads(row["terms"]) == benefit.terms


@pytest.mark.django_db
def test_an_edited_sheet_updates_the_benefit_with_that_code_through_xlsx():
    # given an export where an admin renamed one benefit and moved it to another vendor
    dataset = BenefitResource().export()
    codes = dataset.get_col(dataset.headers.index("code"))
    index = codes.index("pingan.health.escort")
    row = list(dataset[index])
    row[dataset.headers.index("name")] = "就医陪诊（新版）"
    row[dataset.headers.index("vendor")] = "meixin"
    dataset[index] = tuple(row)
    xlsx = dataset.export("xlsx")
    pks_before = dict(Benefit.objects.values_list("code", "pk"))

    # when the workbook is imported
    result = BenefitResource().import_data(
        tablib.Dataset().load(xlsx, format="xlsx"), dry_run=False
    )

    # then exactly that benefit changed, keeping its primary key
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["update"] == 1
    benefit = Benefit.objects.get(code="pingan.health.escort")
    assert benefit.name == "就医陪诊（新版）"
    assert benefit.vendor.code == "meixin"
    assert dict(Benefit.objects.values_list("code", "pk")) == pks_before


@pytest.mark.django_db
def test_a_sheet_with_invalid_terms_imports_nothing():
    dataset = BenefitResource().export()
    code_col = dataset.headers.index("code")
    first, second = list(dataset[0]), list(dataset[1])
    first[dataset.headers.index("name")] = "改名但不应生效"
    terms = json.loads(second[dataset.headers.index("terms")])
    terms["quota"] = {"unit": "times"}
    second[dataset.headers.index("terms")] = json.dumps(terms, ensure_ascii=False)
    sheet = tablib.Dataset(tuple(first), tuple(second), headers=dataset.headers)

    result = BenefitResource().import_data(sheet, dry_run=False)

    assert result.has_validation_errors()
    messages = str([e.error for e in result.invalid_rows])
    assert "有限次权益必须给出数量" in messages
    assert Benefit.objects.get(code=first[code_col]).name != "改名但不应生效"


@pytest.mark.django_db
def test_a_vendor_sheet_row_with_an_unknown_insurer_code_is_reported():
    sheet = tablib.Dataset(
        ("new_vendor", "新服务商", "nobody", "1"), headers=["code", "name", "insurer", "active"]
    )
    result = VendorResource().import_data(sheet, dry_run=False)
    assert result.has_errors() or result.has_validation_errors()
    assert not Vendor.objects.filter(code="new_vendor").exists()
