"""The seed annexes, transcribed as printed (mistakes included), import without losing a row:
every reinterpretation is named, nothing is unresolved, and the sizes the handbooks print are
the sizes loaded."""

import csv
import io

import pytest
from django.db.models import Sum

from coverage.models import CoverageList, CoverageListMember, ListEntry, UnresolvedName
from coverage.services import ANNEX_DIR, annex_import, seed_annexes_load

pytestmark = pytest.mark.django_db

SEED_FILES = sorted(ANNEX_DIR.glob("*.csv"))
REINTERPRETED = ("alias", "historical", "duplicate")


@pytest.fixture(scope="module")
def plans(index, django_db_blocker):
    """A dry-run plan of every seed annex, by list code."""
    with django_db_blocker.unblock():
        lists = {cl.code: cl for cl in CoverageList.objects.all()}
        return {
            path.stem: annex_import(
                coverage_list=lists[path.stem],
                content=path.read_bytes(),
                filename=path.name,
                dry_run=True,
                index=index,
            ).plan
            for path in SEED_FILES
        }


def data_lines(path) -> list[int]:
    """Record numbers of the non-empty rows after the header, as the importer counts them."""
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return [
        n for n, cells in enumerate(records, start=1) if n > 1 and any(c.strip() for c in cells)
    ]


def test_every_seed_annex_belongs_to_a_list_of_the_catalogue():
    codes = set(CoverageList.objects.values_list("code", flat=True))
    assert len(SEED_FILES) == 17
    assert {path.stem for path in SEED_FILES} <= codes


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_a_dry_run_reports_every_row_of_the_seed_annex(plans, path):
    plan = plans[path.stem]
    lines = data_lines(path)

    # no row is lost: every line of the file has its row in the report …
    assert sorted({row.line for row in plan.rows}) == lines
    # … once, unless one cell held several counties and was split (and says so)
    split = [row for row in plan.rows if "一格中有" in row.message]
    assert len(plan.rows) == len(lines) + len(split) - len({row.line for row in split})


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_a_seed_annex_has_nothing_unresolved_and_names_every_reinterpretation(plans, path):
    plan = plans[path.stem]
    assert not plan.has_unresolved
    assert plan.unresolved_names == []
    for row in plan.rows:
        if row.status in REINTERPRETED:
            assert row.message, f"第{row.line}行 {row.input_name}"
            assert any("\u4e00" <= ch <= "\u9fff" for ch in row.message)
            assert row.region_code or plan.kind != "city"


def test_outpatient_hospitals_has_343_cities_and_3213_hospitals_with_no_total_discrepancy(plans):
    plan = plans["pingan.health.outpatient_hospitals"]
    assert len(plan.members) == 343
    assert sum(m["hospital_count"] or 0 for m in plan.members) == 3213
    assert plan.totals == []


def test_admission_hospitals_has_344_cities_and_3399_hospitals_with_no_total_discrepancy(plans):
    plan = plans["pingan.health.admission_hospitals"]
    assert len(plan.members) == 344
    assert sum(m["hospital_count"] or 0 for m in plan.members) == 3399
    assert plan.totals == []


def test_the_331_city_list_has_331_members(plans):
    plan = plans["xiaokang.rsyj.cities_331"]
    assert len(plan.members) == 331
    assert plan.totals == []


@pytest.mark.parametrize("code", ["manulife.dmm.advance_cities", "manulife.hywj.advance_network"])
def test_the_319_city_lists_report_the_headings_that_do_not_match_their_rows(plans, code):
    totals = plans[code].totals
    assert any("湖北" in t and "标明16城" in t and "实际列出15个城市" in t for t in totals), totals
    assert any("新疆" in t and "标明6城" in t and "实际列出7个城市" in t for t in totals), totals


def test_the_319_city_total_is_compared_with_the_cities_actually_listed(plans):
    assert (
        "第2行合计：标明319城，实际列出318个城市" in plans["manulife.hywj.advance_network"].totals
    )


@pytest.mark.parametrize("code", ["manulife.dmm.advance_cities", "manulife.hywj.advance_network"])
def test_xiangfan_beside_xiangyang_is_reported_historical_then_duplicate(plans, code):
    rows = [r for r in plans[code].rows if r.region_code == "420600"]
    assert [(r.input_name, r.status) for r in rows] == [
        ("襄樊市", "historical"),
        ("襄阳市", "duplicate"),
    ]
    assert "已更名" in rows[0].message
    assert f"与第{rows[0].line}行重复" in rows[1].message
    assert sum(m["region"] == "420600" for m in plans[code].members) == 1


def test_a_county_printed_under_the_wrong_prefecture_is_stored_under_its_own(plans):
    # pingan.health.carer_cities line 606 prints 都匀市 under 黔西南
    plan = plans["pingan.health.carer_cities"]
    row = next(r for r in plan.rows if r.line == 606)
    assert (row.status, row.region_code) == ("alias", "522701")
    assert "实属黔南布依族苗族自治州" in row.message
    member = next(m for m in plan.members if m["line"] == 606)
    assert (member["region"], member["county"]) == ("522700", "522701")


def test_two_counties_printed_in_one_cell_are_split_and_both_kept(plans):
    # pingan.health.visit_transport_cities line 186: "张北县康保县"
    plan = plans["pingan.health.visit_transport_cities"]
    rows = [r for r in plan.rows if r.line == 186]
    assert [(r.canonical_name, r.region_code) for r in rows] == [
        ("张北县", "130722"),
        ("康保县", "130723"),
    ]
    assert all("拆分为张北县、康保县" in r.message for r in rows)
    assert {m["county"] for m in plan.members if m["line"] == 186} == {"130722", "130723"}


# --- the database after load_catalogue --------------------------------------------------

MEMBERS_AFTER_LOAD = {
    "axa.zysh.drug_cities": 76,
    "manulife.dmm.advance_cities": 318,
    "manulife.hywj.advance_network": 318,
    "pingan.health.admission_hospitals": 344,
    "pingan.health.carer_cities": 894,
    "pingan.health.escort_cities": 240,
    "pingan.health.outpatient_hospitals": 343,
    "pingan.health.visit_transport_cities": 894,
    "xiaokang.rsyj.cities_331": 331,
}
ENTRIES_AFTER_LOAD = {
    "axa.zysh.boao_hospitals": 2,
    "axa.zysh.devices": 5,
    "axa.zysh.domestic_drugs": 103,
    "axa.zysh.drug_pharmacies": 69,
    "axa.zysh.overseas_drugs": 15,
    "manulife.hywj.critical_illnesses": 40,
    "pingan.health.critical_illnesses": 19,
    "pingan.health.mdt_hospitals": 8,
}


def test_load_catalogue_filled_every_city_list_with_its_members():
    for code, expected in MEMBERS_AFTER_LOAD.items():
        assert CoverageListMember.objects.filter(coverage_list__code=code).count() == expected, code


def test_load_catalogue_filled_every_other_list_with_its_entries():
    for code, expected in ENTRIES_AFTER_LOAD.items():
        assert ListEntry.objects.filter(coverage_list__code=code).count() == expected, code


def test_loaded_hospital_counts_add_up_to_the_printed_totals():
    totals = dict(
        CoverageListMember.objects.filter(
            coverage_list__code__in=[
                "pingan.health.outpatient_hospitals",
                "pingan.health.admission_hospitals",
            ]
        )
        .values_list("coverage_list__code")
        .annotate(total=Sum("hospital_count"))
    )
    assert totals == {
        "pingan.health.outpatient_hospitals": 3213,
        "pingan.health.admission_hospitals": 3399,
    }


def test_lists_without_a_seed_annex_stay_empty_and_unimported():
    seeded = {path.stem for path in SEED_FILES}
    empty = CoverageList.objects.exclude(code__in=seeded)
    assert empty.exists()
    for coverage_list in empty:
        assert not coverage_list.members.exists() and not coverage_list.entries.exists()
        assert coverage_list.imported_at is None


def test_the_seed_annexes_left_nothing_for_admin_review():
    assert not UnresolvedName.objects.exists()


def test_loading_the_seed_annexes_again_changes_nothing():
    member_ids = list(CoverageListMember.objects.order_by("id").values_list("id", flat=True))
    entry_ids = list(ListEntry.objects.order_by("id").values_list("id", flat=True))

    outcomes = seed_annexes_load()

    assert len(outcomes) == len(SEED_FILES)
    for code, outcome in outcomes:
        assert not isinstance(outcome, str), (code, outcome)
        assert outcome.result.applied and not outcome.result.changed, code
        assert outcome.result.message == "内容与上次导入相同，未作修改"
    assert list(CoverageListMember.objects.order_by("id").values_list("id", flat=True)) == (
        member_ids
    )
    assert list(ListEntry.objects.order_by("id").values_list("id", flat=True)) == entry_ids
