"""The whole catalogue of the five handbooks loads with exactly the codes of DOMAIN.md §4,
idempotently, and never silently overwrites an admin's edit."""

import io

import pytest
from django.core.management import call_command

from benefits.catalogue.files import read_catalogue
from benefits.catalogue.loading import catalogue_load
from benefits.models import Benefit, Product, Vendor
from coverage.models import CoverageList

PRODUCT_CODES = {
    "xiaokang.rsyj",
    "manulife.dmm",
    "axa.zysh",
    "pingan.health",
    "manulife.hywj",
    "kangning.anxin",  # the synthetic sixth handbook
}

# DOMAIN.md §4, verbatim: the public benefit codes.
BENEFIT_CODES = {
    "xiaokang.rsyj": [
        "discharge_transport_escort",
        "rehab_guide",
        "home_rehab_visit",
        "remote_rehab_tracking",
        "medical_consult",
    ],
    "manulife.dmm": [
        "phone_consult",
        "deposit_advance",
        "case_management",
        "expert_outpatient",
        "admission_arrangement",
        "surgery_arrangement",
        "exam_expedite",
        "escort",
        "travel_subsidy",
        "psych_hotline",
        "second_opinion_global",
        "proton_heavy_ion",
        "drug_sourcing",
        "inpatient_carer",
        "post_discharge_care",
        "post_discharge_care.transport",
        "post_discharge_care.guide",
        "post_discharge_care.home_guidance",
        "post_discharge_care.home_nursing",
        "post_discharge_care.remote_followup",
        "post_discharge_care.rehab_escort",
    ],
    "axa.zysh": ["special_drug_domestic", "device_direct_pay", "special_drug_boao", "charity_drug"],
    "pingan.health": [
        "outpatient_assist",
        "second_opinion",
        "escort",
        "tumor_mdt",
        "admission_assist",
        "inpatient_carer_7d",
        "inpatient_advance",
        "hospital_visit",
        "discharge_transport",
        "rehab_followup",
        "drug_service",
        "vitality_go",
    ],
    "manulife.hywj": [
        "case_management",
        "ci_outpatient",
        "ci_admission",
        "ci_surgery",
        "ci_exam_expedite",
        "proton_heavy_ion",
        "second_opinion_global",
        "psych_counselling",
        "travel_subsidy",
        "second_opinion_domestic",
        "phone_doctor",
        "inpatient_advance",
        "kids_dental",
    ],
    # The synthetic sixth handbook (benefits/catalogue/handbooks/kangning.anxin.md).
    "kangning.anxin": [
        "expert_outpatient",
        "exam_expedite",
        "escort",
        "admission_arrangement",
        "inpatient_advance",
    ],
}
ALL_BENEFIT_CODES = {f"{p}.{s}" for p, services in BENEFIT_CODES.items() for s in services}


def snapshot() -> dict[str, tuple]:
    return {
        b.code: (b.name, b.terms, b.vendor_id, b.parent_id, b.updated_at, b.clause_text)
        for b in Benefit.objects.all()
    }


@pytest.mark.django_db
def test_every_product_and_benefit_code_of_the_domain_guide_is_loaded():
    assert set(Product.objects.values_list("code", flat=True)) == PRODUCT_CODES
    assert set(Benefit.objects.values_list("code", flat=True)) == ALL_BENEFIT_CODES


@pytest.mark.django_db
def test_bundle_components_belong_to_their_bundle():
    bundle = Benefit.objects.get(code="manulife.dmm.post_discharge_care")
    parts = set(bundle.components.values_list("code", flat=True))
    assert parts == {c for c in ALL_BENEFIT_CODES if c.startswith(bundle.code + ".")}
    assert len(parts) == 6


@pytest.mark.django_db
def test_every_benefit_keeps_its_source_and_the_handbook_text():
    seeds = dict(Product.objects.values_list("code", "seed_file"))
    for benefit in Benefit.objects.select_related("product"):
        assert benefit.source_file == seeds[benefit.product.code]
        assert benefit.source_section.strip()
        assert len(benefit.clause_text) > 20, benefit.code


@pytest.mark.django_db
def test_clause_texts_are_quoted_from_the_seed_handbooks(settings):
    """The clause shown to admins and policyholders is the handbook's own words."""
    seeds = settings.BASE_DIR.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("shared/seeds is not beside the checkout")

    def squeeze(text: str) -> str:
        # Whitespace and table rulers differ between the PDF extraction and the transcription.
        for mark in "|#*\\":
            text = text.replace(mark, " ")
        return "".join(text.split())

    texts = {p.name: squeeze(p.read_text(encoding="utf-8")) for p in seeds.glob("*.txt")}
    # A handbook written for the catalogue (no seed PDF) is kept beside it.
    handbooks = settings.BASE_DIR / "benefits" / "catalogue" / "handbooks"
    texts |= {p.name: squeeze(p.read_text(encoding="utf-8")) for p in handbooks.glob("*.md")}
    for benefit in Benefit.objects.all():
        seed = texts[benefit.source_file]
        # Compare a few sentences, whitespace removed (the PDF extraction breaks lines).
        parts = [
            squeeze(part)
            for line in benefit.clause_text.splitlines()
            for cell in line.split("|")
            for part in cell.split("。")
        ]
        # A table cell the PDF wrapped across rows is joined in the transcription, so each
        # sentence is checked by its opening words.
        for part in [p for p in parts if len(p) > 12]:
            assert part[:15] in seed, (benefit.code, part)


@pytest.mark.django_db
def test_benefits_link_the_coverage_lists_their_terms_name():
    benefit = Benefit.objects.get(code="xiaokang.rsyj.discharge_transport_escort")
    assert list(benefit.coverage_lists.values_list("code", flat=True)) == [
        "xiaokang.rsyj.cities_331"
    ]
    qr_only = CoverageList.objects.get(code="manulife.hywj.kids_dental_network")
    assert qr_only.printed is False


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    before = snapshot()

    report = catalogue_load()

    assert not report.wrote_anything
    assert report.changes == []
    assert snapshot() == before


@pytest.mark.django_db
def test_an_admin_edit_is_reported_and_kept_not_overwritten():
    # given an admin changed the vendor and a quota in admin
    benefit = Benefit.objects.get(code="pingan.health.escort")
    benefit.vendor = Vendor.objects.get(code="meixin")
    benefit.terms = {**benefit.terms, "summary": "管理员改过的摘要"}
    benefit.save()

    # when the catalogue is loaded again
    out = io.StringIO()
    call_command("load_catalogue", stdout=out)

    # then the edit survives and the report names the fields that differ
    benefit.refresh_from_db()
    assert benefit.vendor.code == "meixin"
    assert benefit.terms["summary"] == "管理员改过的摘要"
    text = out.getvalue()
    assert "pingan.health.escort：管理员已修改，保留数据库版本" in text
    assert "vendor" in text and "terms" in text


@pytest.mark.django_db
def test_overwrite_edited_makes_the_files_win():
    benefit = Benefit.objects.get(code="pingan.health.escort")
    original_summary = benefit.terms["summary"]
    benefit.terms = {**benefit.terms, "summary": "管理员改过的摘要"}
    benefit.save()

    report = catalogue_load(overwrite_edited=True)

    benefit.refresh_from_db()
    assert benefit.terms["summary"] == original_summary
    assert [c.action for c in report.changes] == ["overwritten"]


@pytest.mark.django_db
def test_a_record_missing_from_the_files_is_reported_not_deleted():
    extra = Benefit.objects.get(code="pingan.health.escort")
    extra.pk = None
    extra.code = "pingan.health.escort_copy"
    extra.save()

    report = catalogue_load()

    assert Benefit.objects.filter(code="pingan.health.escort_copy").exists()
    assert [(c.code, c.action) for c in report.changes] == [
        ("pingan.health.escort_copy", "not_in_files")
    ]


def test_the_files_validate_without_a_database():
    catalogue = read_catalogue()
    assert {b.code for b in catalogue.benefits} == ALL_BENEFIT_CODES
