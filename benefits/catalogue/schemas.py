from typing import Any

from ninja import Schema


class PartyOut(Schema):
    code: str
    name: str


class ServiceOut(Schema):
    code: str
    name: str
    category: str


class SourceOut(Schema):
    file: str
    section: str
    text: str | None = None


class BenefitOut(Schema):
    code: str
    name: str
    service: ServiceOut
    parent: str | None
    vendor: PartyOut
    active: bool
    summary: list[str]
    reason_codes: list[str]
    coverage_lists: list[str]
    terms: dict[str, Any]
    source: SourceOut


class ProductOut(Schema):
    code: str
    name: str
    insurer: PartyOut
    handbook_title: str
    active: bool
    benefits: list[BenefitOut]


class CatalogueOut(Schema):
    products: list[ProductOut]
