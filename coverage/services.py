"""Writes for coverage: importing an annex file into a list, and loading the seed annexes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage.annex import AnnexFileError, read_table
from coverage.annex_apply import ApplyResult, apply_import
from coverage.annex_plan import Plan, plan_import
from coverage.models import CoverageList
from coverage.regions import aliases_load, region_index, regions_load
from coverage.resolver import RegionIndex
from portal.kernel.memo import reference_data_changed

ANNEX_DIR = Path(__file__).resolve().parent / "annexes"


@dataclass
class ImportOutcome:
    plan: Plan
    result: ApplyResult | None  # None for a dry run

    def report(self) -> dict[str, Any]:
        return self.plan.report(
            applied=self.result.applied if self.result else None,
            changed=self.result.changed if self.result else None,
        )


def annex_import(
    *,
    coverage_list: CoverageList,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    index: RegionIndex | None = None,
) -> ImportOutcome:
    """Read, resolve and (unless ``dry_run``) apply one annex file. Raises
    ``AnnexFileError`` for a file that cannot be read; nothing is written then."""
    table = read_table(content, filename, coverage_list.kind)
    plan = plan_import(coverage_list, table, index or region_index())
    return ImportOutcome(plan, None if dry_run else apply_import(coverage_list, plan))


def regions_and_aliases_load() -> tuple[int, int]:
    loaded = regions_load(), aliases_load()
    # Bulk writes send no model signals: tell the reference-data memos themselves.
    reference_data_changed()
    return loaded


def seed_annexes_load(directory: Path = ANNEX_DIR) -> list[tuple[str, ImportOutcome | str]]:
    """Import every annex file shipped in the repo into the list of the same code."""
    index = region_index()
    outcomes: list[tuple[str, ImportOutcome | str]] = []
    lists = {cl.code: cl for cl in CoverageList.objects.all()}
    for path in sorted(directory.glob("*.csv")):
        code = path.stem
        coverage_list = lists.get(code)
        if coverage_list is None:
            outcomes.append((code, "目录中没有这个名单"))
            continue
        try:
            outcomes.append(
                (
                    code,
                    annex_import(
                        coverage_list=coverage_list,
                        content=path.read_bytes(),
                        filename=path.name,
                        index=index,
                    ),
                )
            )
        except AnnexFileError as exc:
            outcomes.append((code, str(exc)))
    return outcomes
