"""Benefit terms edited in admin through the form generated from their schema: Chinese
labels and messages at the field, a diff to confirm before saving, the change audited,
engineering notes hidden, another insurer's benefit answering 404."""

from __future__ import annotations

import json
import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from benefits.catalogue.terms_form import editor_data, form_schema
from benefits.models import Benefit
from tests.factories import staff_member

BENEFIT = "manulife.dmm.inpatient_carer"  # 宏利: 住院护工
OTHER_INSURERS_BENEFIT = "pingan.health.escort"
# session, user, staff memberships, benefit + its product/service/vendor, coverage lists,
# autocomplete values, the change history link, savepoints ...
CHANGE_PAGE_BUDGET = 12


def change_url(benefit: Benefit) -> str:
    return reverse("admin:benefits_benefit_change", args=[benefit.pk])


def form_post(page_content: str, benefit: Benefit, terms: dict, **extra: str) -> dict:
    data = {
        "code": benefit.code,
        "name": benefit.name,
        "product": str(benefit.product_id),
        "service": str(benefit.service_id),
        "parent": str(benefit.parent_id or ""),
        "position": str(benefit.position),
        "vendor": str(benefit.vendor_id or ""),
        "backup_vendors": [str(v) for v in benefit.backup_vendors.values_list("pk", flat=True)],
        "active": "on" if benefit.active else "",
        "source_file": benefit.source_file,
        "source_section": benefit.source_section,
        "terms": json.dumps(terms, ensure_ascii=False),
        "_save": "保存",
    }
    data.update(extra)
    return data


@pytest.fixture
def manulife_supervisor(client):
    user = staff_member("supervisor", insurers=["manulife"])
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_the_terms_are_a_form_in_chinese_without_engineering_notes(
    client, manulife_supervisor, django_assert_max_num_queries
):
    benefit = Benefit.objects.get(code=BENEFIT)
    benefit.terms = {**benefit.terms, "notes": ["说明：工程备注，见 issue 12"]}
    benefit.save()

    with django_assert_max_num_queries(CHANGE_PAGE_BUDGET):
        page = client.get(change_url(benefit)).content.decode()

    assert "data-django-jsonform" in page
    assert "django_jsonform/react-json-form.js" in page
    assert "字段说明见" not in page
    assert "工程备注" not in page  # neither in the summary nor in the form's data
    config = json.loads(
        re.search(r'data-django-jsonform="([^"]*)"', page).group(1).replace("&quot;", '"')
    )
    schema = config["schema"]
    assert schema["properties"]["quota"]["title"] == "次数与额度"
    assert schema["properties"]["rules"]["title"] == "使用规则"
    assert "notes" not in schema["properties"]
    assert all(
        re.search(r"[A-Za-z]{4}", str(p.get("title", ""))) is None
        for p in schema["properties"].values()
    )
    # and so does every nested field, rule kind and value an operator picks
    english = re.findall(
        r'"title": "([^"]*[A-Za-z]{4}[^"]*)"', json.dumps(schema, ensure_ascii=False)
    )
    assert english == []


@pytest.mark.django_db
def test_the_form_schema_follows_the_terms_models():
    from benefits.terms.benefit_terms import BenefitTerms

    expected = set(BenefitTerms.model_fields) - {"notes"}
    assert set(form_schema()["properties"]) == expected


@pytest.mark.django_db
def test_an_invalid_change_is_refused_with_a_chinese_message_at_its_field(
    client, manulife_supervisor
):
    benefit = Benefit.objects.get(code=BENEFIT)
    terms = editor_data(benefit.terms)
    terms["summary"] = ""
    before = dict(benefit.terms)

    response = client.post(change_url(benefit), form_post("", benefit, terms))

    assert response.status_code == 200
    page = response.content.decode()
    assert "摘要：不能为空" in page
    error_map = response.context["adminform"].form.fields["terms"].widget.error_map
    assert error_map == {"summary": ["不能为空"]}
    benefit.refresh_from_db()
    assert benefit.terms == before


@pytest.mark.django_db
def test_a_change_shows_its_diff_and_saves_only_once_confirmed_and_audited(
    client, manulife_supervisor
):
    benefit = Benefit.objects.get(code=BENEFIT)
    stored_notes = benefit.terms.get("notes")
    terms = editor_data(benefit.terms)
    terms["summary"] = "住院期间护工服务（新版）"

    # when: saved a first time
    first = client.post(change_url(benefit), form_post("", benefit, terms))

    # then: nothing is saved, the diff is shown
    assert first.status_code == 200
    page = first.content.decode()
    assert "条款变更（与现行条款对比）" in page
    assert "住院期间护工服务（新版）" in page
    form = first.context["adminform"].form
    assert [row[0] for row in form.terms_diff] == ["摘要"]
    benefit.refresh_from_db()
    assert benefit.terms["summary"] != "住院期间护工服务（新版）"

    # when: confirmed
    digest = form.data["terms_confirmed"]
    second = client.post(change_url(benefit), form_post("", benefit, terms, terms_confirmed=digest))

    # then: saved, with the hidden notes kept, and recorded in the change history
    assert second.status_code == 302
    benefit.refresh_from_db()
    assert benefit.terms["summary"] == "住院期间护工服务（新版）"
    assert benefit.terms.get("notes") == stored_notes
    entry = LogEntry.objects.get_for_object(benefit).latest("timestamp")
    assert entry.actor == manulife_supervisor
    assert "terms" in entry.changes_dict


@pytest.mark.django_db
def test_an_unchanged_save_needs_no_confirmation(client, manulife_supervisor):
    benefit = Benefit.objects.get(code=BENEFIT)
    response = client.post(change_url(benefit), form_post("", benefit, editor_data(benefit.terms)))
    assert response.status_code == 302


@pytest.mark.django_db
def test_another_insurers_benefit_answers_404(client, manulife_supervisor):
    other = Benefit.objects.get(code=OTHER_INSURERS_BENEFIT)
    assert client.get(change_url(other)).status_code == 404


@pytest.mark.django_db
def test_every_catalogue_benefit_round_trips_through_the_form_unchanged():
    from benefits.catalogue.terms_form import check_terms, submitted_terms

    for benefit in Benefit.objects.all():
        stored, _map, messages = check_terms(benefit.terms)
        assert not messages, benefit.code
        again, _map, messages = check_terms(
            submitted_terms(editor_data(benefit.terms), benefit.terms)
        )
        assert (benefit.code, again) == (benefit.code, stored)


@pytest.mark.django_db
def test_an_optional_section_left_blank_in_the_form_is_no_section():
    from benefits.catalogue.terms_form import submitted_terms

    benefit = Benefit.objects.get(code=BENEFIT)
    data = editor_data(benefit.terms)
    # the widget fills an absent optional section with its blanks and defaults
    data["exclusive_choice"] = {"group": "", "choose": 1, "options": [], "period": "policy_year"}
    raw = submitted_terms(data, benefit.terms)
    assert "exclusive_choice" not in raw


@pytest.mark.django_db
def test_an_error_inside_a_rule_is_placed_at_that_rules_field():
    from benefits.catalogue.terms_form import check_terms, submitted_terms

    benefit = Benefit.objects.filter(terms__rules__0__kind__isnull=False).first()
    terms = editor_data(benefit.terms)
    terms["rules"][0]["clause"] = ""

    canonical, error_map, messages = check_terms(submitted_terms(terms, benefit.terms))

    assert canonical is None
    assert error_map == {"rules§0§clause": ["不能为空"]}
    assert messages == ["使用规则 › 第1项 › 条款原文：不能为空"]


@pytest.mark.django_db
def test_unset_text_reaches_the_widget_as_empty_text_so_each_rule_shows_as_its_kind():
    # The widget tells a rule's kind by its keys and their types: a null text field made a
    # 保障疾病 rule show as the first kind of the list (保单有效).
    benefit = Benefit.objects.get(code=BENEFIT)
    rule = next(
        r for r in editor_data(benefit.terms)["rules"] if r["kind"] == "condition_not_covered"
    )
    assert rule["disease_list"] == ""
    labels = {option["title"] for option in form_schema()["properties"]["rules"]["items"]["oneOf"]}
    assert {"保障疾病", "须住院", "服务对象"} <= labels


@pytest.mark.django_db
def test_a_new_benefit_starts_from_an_empty_terms_form(client):
    client.force_login(staff_member("admin", insurers=["manulife"]))  # supervisors add none
    response = client.get(reverse("admin:benefits_benefit_add"))
    assert response.status_code == 200
    assert "data-django-jsonform" in response.content.decode()
    assert not response.context["adminform"].form.terms_diff


def test_the_diff_names_fields_and_values_in_chinese():
    from benefits.catalogue.terms_form import terms_diff

    old = {"quota": {"period": "policy_year", "amount": "30"}, "applicants": ["insured"]}
    new = {"quota": {"period": "whole_policy", "amount": "30"}, "applicants": ["insured", "family"]}
    assert terms_diff(old, new) == [
        ("可申请人 › 第2项", "（空）", "家属"),
        ("次数与额度 › 期间", "每保单年度", "整个保单期间"),
    ]
