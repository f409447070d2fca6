"""Writes to the catalogue: loading the files in the repo into the database.

The load is all-or-nothing (one transaction) and idempotent: a row whose data matches the
files is not written. A row an admin edited since the last load is reported, field by
field, and kept unless the caller asks to overwrite it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from benefits.catalogue.files import Catalogue, read_catalogue
from benefits.models import Benefit, CatalogueRecord, Insurer, Product, Service, Vendor
from benefits.terms.benefit_terms import terms_to_json
from coverage.models import CoverageList

# The rows the files load: matched by code, with the digest of the file data at the last load.
LoadedRecord = (CatalogueRecord, CoverageList)


def record_digest(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Change:
    model: str
    code: str
    action: str  # created | updated | edited_kept | overwritten | not_in_files
    fields: list[str] = field(default_factory=list)

    def describe(self) -> str:
        labels = {
            "created": "新建",
            "updated": "按文件更新",
            "edited_kept": "管理员已修改，保留数据库版本（未覆盖）",
            "overwritten": "管理员已修改，已按文件覆盖",
            "not_in_files": "数据库中有、文件中没有（未删除）",
        }
        suffix = f"；不同字段：{'、'.join(self.fields)}" if self.fields else ""
        return f"[{self.model}] {self.code}：{labels[self.action]}{suffix}"


@dataclass
class LoadReport:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def wrote_anything(self) -> bool:
        return any(c.action in ("created", "updated", "overwritten") for c in self.changes)


@dataclass(frozen=True)
class _Row:
    """One record as the files describe it: comparable values plus how to set them."""

    code: str
    values: dict[str, Any]  # comparable form: related records by code, terms as JSON
    assign: dict[str, Any]  # model field -> value to set (related records as instances)


def _snapshot(instance: models.Model, keys: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in keys:
        value = getattr(instance, key)
        values[key] = value.code if isinstance(value, LoadedRecord) else value
    return values


def _sync(
    model: type[models.Model],
    rows: list[_Row],
    report: LoadReport,
    *,
    overwrite_edited: bool,
    existing: dict[str, Any] | None = None,
) -> dict[str, models.Model]:
    """Create or update ``rows``; with ``existing`` given, sync only those rows (no
    "not in files" report), since the caller goes row by row."""
    keys = list(rows[0].values) if rows else []
    report_missing = existing is None
    if existing is None:
        existing = {obj.code: obj for obj in model._default_manager.all()}  # type: ignore[attr-defined]  # every loaded model has a code (CatalogueRecord, CoverageList)
    label = str(model._meta.verbose_name)
    result: dict[str, models.Model] = {}
    for row in rows:
        wanted = record_digest(row.values)
        obj = existing.get(row.code)
        if obj is None:
            obj = model(code=row.code, loaded_digest=wanted, **row.assign)
            obj.save()
            report.changes.append(Change(label, row.code, "created"))
            result[row.code] = obj
            continue
        current = _snapshot(obj, keys)
        current_digest = record_digest(current)
        if current_digest == wanted:
            if obj.loaded_digest != wanted:
                model._default_manager.filter(pk=obj.pk).update(loaded_digest=wanted)
            report.unchanged += 1
        elif current_digest == obj.loaded_digest or overwrite_edited:
            edited = current_digest != obj.loaded_digest
            differing = [k for k in keys if current[k] != row.values[k]]
            for name, value in row.assign.items():
                setattr(obj, name, value)
            obj.loaded_digest = wanted
            obj.save()
            report.changes.append(
                Change(label, row.code, "overwritten" if edited else "updated", differing)
            )
        else:
            differing = [k for k in keys if current[k] != row.values[k]]
            report.changes.append(Change(label, row.code, "edited_kept", differing))
        result[row.code] = obj
    if report_missing:
        for code in sorted(set(existing) - {row.code for row in rows}):
            report.changes.append(Change(label, code, "not_in_files"))
    return result


def _plain_rows(
    items: Iterable[Any], fields: tuple[str, ...], related: dict[str, Any]
) -> list[_Row]:
    rows = []
    for item in items:
        values: dict[str, Any] = {}
        assign: dict[str, Any] = {}
        for name in fields:
            raw = getattr(item, name)
            values[name] = raw
            assign[name] = related[name][raw] if name in related and raw is not None else raw
        rows.append(_Row(item.code, values, assign))
    return rows


@transaction.atomic
def catalogue_load(
    *, catalogue: Catalogue | None = None, overwrite_edited: bool = False
) -> LoadReport:
    """Load the catalogue files; raises ``CatalogueError`` before writing if any is invalid."""
    catalogue = catalogue or read_catalogue()
    report = LoadReport()

    def sync(model: type[models.Model], rows: list[_Row]) -> dict[str, models.Model]:
        return _sync(model, rows, report, overwrite_edited=overwrite_edited)

    insurers = sync(Insurer, _plain_rows(catalogue.insurers, ("name", "short_name", "hotline"), {}))
    vendors = sync(
        Vendor,
        _plain_rows(catalogue.vendors, ("name", "insurer", "hotline"), {"insurer": insurers}),
    )
    services = sync(Service, _plain_rows(catalogue.services, ("name", "category"), {}))
    products = sync(Product, _product_rows(catalogue, insurers))
    sync(CoverageList, _coverage_list_rows(catalogue, insurers))
    _benefits_load(
        catalogue,
        products=products,
        services=services,
        vendors=vendors,
        report=report,
        overwrite_edited=overwrite_edited,
    )
    return report


def _product_rows(catalogue: Catalogue, insurers: dict[str, models.Model]) -> list[_Row]:
    return [
        _Row(
            p.code,
            {
                "name": p.name,
                "insurer": p.insurer,
                "handbook_title": p.handbook_title,
                "seed_file": p.seed,
            },
            {
                "name": p.name,
                "insurer": insurers[p.insurer],
                "handbook_title": p.handbook_title,
                "seed_file": p.seed,
            },
        )
        for p in catalogue.products
    ]


def _coverage_list_rows(catalogue: Catalogue, insurers: dict[str, models.Model]) -> list[_Row]:
    product_insurer = {p.code: p.insurer for p in catalogue.products}
    list_rows = []
    for product_code, cl in catalogue.coverage_lists:
        insurer = product_insurer[product_code]
        values: dict[str, Any] = {
            "title": cl.title,
            "kind": cl.kind,
            "insurer": insurer,
            "source": cl.source,
            "scope": cl.scope or "",
            "printed": cl.printed,
        }
        list_rows.append(_Row(cl.code, values, {**values, "insurer": insurers[insurer]}))
    return list_rows


def _benefit_rows(catalogue: Catalogue) -> list[_Row]:
    """The benefits as the files describe them, parents before their components."""
    return [
        _Row(
            b.code,
            {
                "product": b.product,
                "service": b.service,
                "parent": b.parent,
                "position": b.position,
                "name": b.name,
                "vendor": b.vendor,
                "terms": terms_to_json(b.terms),
                "source_file": b.source_file,
                "source_section": b.source_section,
                "clause_text": b.clause_text,
            },
            {},
        )
        for b in catalogue.benefits
    ]


def _benefits_load(
    catalogue: Catalogue,
    *,
    products: dict[str, models.Model],
    services: dict[str, models.Model],
    vendors: dict[str, models.Model],
    report: LoadReport,
    overwrite_edited: bool,
) -> None:
    # Parents come before their components in the flattened list, so a component's parent
    # is always saved first.
    benefit_rows = _benefit_rows(catalogue)
    saved: dict[str, models.Model] = {}
    existing_benefits = {
        obj.code: obj
        for obj in Benefit.objects.select_related("product", "service", "parent", "vendor")
    }
    for row in benefit_rows:
        values = row.values
        parent = saved.get(values["parent"]) or existing_benefits.get(values["parent"] or "")
        assign = {
            **values,
            "product": products[values["product"]],
            "service": services[values["service"]],
            "parent": parent,
            "vendor": vendors[values["vendor"]],
        }
        # One at a time: a component's parent must be saved before the component.
        saved.update(
            _sync(
                Benefit,
                [_Row(row.code, values, assign)],
                report,
                overwrite_edited=overwrite_edited,
                existing=existing_benefits,
            )
        )
    label = str(Benefit._meta.verbose_name)
    for code in sorted(set(existing_benefits) - {row.code for row in benefit_rows}):
        report.changes.append(Change(label, code, "not_in_files"))
