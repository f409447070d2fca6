"""Annex import, step 3: replace a list's rows with a plan's, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from coverage.annex_plan import Plan
from coverage.models import CoverageList, CoverageListMember, ListEntry, Region, UnresolvedName

# One bulk insert per this many rows: large enough to keep a 50,000-row list to a few dozen
# statements, small enough for SQLite's variable limit.
BULK_BATCH = 2000


@dataclass
class ApplyResult:
    applied: bool
    changed: bool
    message: str


def record_unresolved(coverage_list: CoverageList, plan: Plan) -> None:
    """Put names nobody could resolve on the admin's review list (once each)."""
    for name, province in dict.fromkeys(plan.unresolved_names):
        UnresolvedName.objects.update_or_create(
            coverage_list=coverage_list,
            name=name[:100],
            province=province[:60],
            defaults={"resolved": False},
        )


def apply_import(coverage_list: CoverageList, plan: Plan) -> ApplyResult:
    """Replace the list's rows with the plan's, all or nothing."""
    if plan.has_unresolved:
        record_unresolved(coverage_list, plan)
        return ApplyResult(
            False, False, f"有{plan.counts()['unresolved']}行无法识别，未导入任何数据"
        )
    # Every name of this file resolved, so the list's open review items are settled.
    UnresolvedName.objects.filter(coverage_list=coverage_list, resolved=False).update(resolved=True)
    digest = plan.digest()
    if digest == coverage_list.content_digest:
        return ApplyResult(True, False, "内容与上次导入相同，未作修改")
    with transaction.atomic():
        locked = CoverageList.objects.select_for_update().get(pk=coverage_list.pk)
        ids = dict(
            Region.objects.filter(
                code__in={m["region"] for m in plan.members}
                | {m["county"] for m in plan.members if m["county"]}
                | {e["region"] for e in plan.entries if e["region"]}
            ).values_list("code", "id")
        )
        CoverageListMember.objects.filter(coverage_list=locked).delete()
        ListEntry.objects.filter(coverage_list=locked).delete()
        CoverageListMember.objects.bulk_create(
            [
                CoverageListMember(
                    coverage_list=locked,
                    region_id=ids[m["region"]],
                    county_id=ids[m["county"]] if m["county"] else None,
                    hospital_count=m["hospital_count"],
                    note=m["note"][:200],
                    printed_name=m["printed_name"][:100],
                    line=m["line"],
                )
                for m in plan.members
            ],
            batch_size=BULK_BATCH,
        )
        ListEntry.objects.bulk_create(
            [
                ListEntry(
                    coverage_list=locked,
                    name=e["name"][:200],
                    code=e["code"][:40],
                    region_id=ids.get(e["region"]) if e["region"] else None,
                    attributes=e["attributes"],
                    line=e["line"],
                )
                for e in plan.entries
            ],
            batch_size=BULK_BATCH,
        )
        locked.content_digest = digest
        locked.imported_at = timezone.now()
        locked.save(update_fields=["content_digest", "imported_at"])
        coverage_list.content_digest = digest
    return ApplyResult(True, True, f"已导入{len(plan.members) + len(plan.entries)}条")
