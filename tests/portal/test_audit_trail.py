"""Every staff change to policies, people, the catalogue, coverage lists, vendors, tokens and
requests is recorded — who, when, before, after — with phones masked and ID numbers nowhere;
the history is read in admin, per insurer, and bulk annex imports write no history rows."""

from __future__ import annotations

import copy
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from benefits.models import Benefit, Insurer, Person, Policy, Vendor
from bookings.models import VendorToken
from bookings.vendors.services import vendor_token_issue
from coverage.models import CoverageList, CoverageListMember, ListEntry
from coverage.services import annex_import
from portal.kernel.identity import mask_phone
from portal.kernel.staff_auth import staff_token_issue
from portal.models import StaffToken
from tests.factories import axa_policy, pingan_policy, staff_member

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:auditlog_logentry_changelist")
HOLDER_ID = "11010519491231002X"
OLD_PHONE = "13800138000"
NEW_PHONE = "13912345678"


def entry_url(entry: LogEntry) -> str:
    return reverse("admin:auditlog_logentry_change", args=[entry.pk])


def entries_for(obj, action: int) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).filter(action=action).order_by("id"))


def every_entry_as_text() -> str:
    return json.dumps(
        list(
            LogEntry.objects.values(
                "object_repr", "changes", "changes_text", "serialized_data", "additional_data"
            )
        ),
        ensure_ascii=False,
        default=str,
    )


def benefit_form(benefit: Benefit, **changes) -> dict:
    return {
        "code": benefit.code,
        "name": benefit.name,
        "product": benefit.product_id,
        "service": benefit.service_id,
        "parent": benefit.parent_id or "",
        "position": benefit.position,
        "vendor": benefit.vendor_id,
        "active": "on" if benefit.active else "",
        "backup_vendors": list(benefit.backup_vendors.values_list("pk", flat=True)),
        "terms": json.dumps(benefit.terms, ensure_ascii=False),
        "source_file": benefit.source_file,
        "source_section": benefit.source_section,
        "_save": "1",
        **changes,
    }


def policy_body(phone: str) -> dict:
    return {
        "number": "PA-AUDIT-API",
        "product": "pingan.health",
        "signed_on": "2026-01-01",
        "effective_on": "2026-01-02",
        "expires_on": "2027-01-01",
        "holder": {"name": "王大明", "id_number": HOLDER_ID, "phone": phone},
        "members": [{"ref": "M1", "name": "王大明", "id_number": HOLDER_ID, "relation": "self"}],
    }


# --- what is recorded ------------------------------------------------------------------------


def test_a_benefits_terms_edited_in_admin_are_recorded_with_the_editor_before_and_after(client):
    # given a supervisor of 中宏 and one of its benefits (30 days a policy year)
    supervisor = staff_member("supervisor", insurers=["manulife"])
    benefit = Benefit.objects.get(code="manulife.dmm.inpatient_carer")
    terms = copy.deepcopy(benefit.terms)
    assert terms["quota"]["amount"] == "30"  # amounts are Decimal, as strings in JSON
    terms["quota"]["amount"] = "20"
    client.force_login(supervisor)

    # when they change the quota in the benefit's admin form and confirm the diff shown
    url = reverse("admin:benefits_benefit_change", args=[benefit.pk])
    body = benefit_form(benefit, terms=json.dumps(terms, ensure_ascii=False))
    shown = client.post(url, body)
    assert not entries_for(benefit, LogEntry.Action.UPDATE)  # nothing saved before the diff
    body["terms_confirmed"] = shown.context["adminform"].form.data["terms_confirmed"]
    response = client.post(url, body)

    # then one entry says who and holds the terms before and after
    assert response.status_code == 302, response.context["adminform"].form.errors
    (entry,) = entries_for(benefit, LogEntry.Action.UPDATE)
    assert entry.actor == supervisor
    before, after = entry.changes_dict["terms"]
    assert json.loads(before)["quota"]["amount"] == "30"
    assert json.loads(after)["quota"]["amount"] == "20"
    assert entry.additional_data["insurers"] == {str(benefit.product.insurer_id): True}


def test_a_phone_changed_through_the_staff_api_is_recorded_under_the_tokens_user_masked(client):
    # given a supervisor of 平安 calling the staff API with their token
    supervisor = staff_member("supervisor", insurers=["pingan"])
    _, raw = staff_token_issue(user=supervisor, name="core")

    def post(phone: str):
        return client.post(
            "/api/staff/v1/policies",
            json.dumps(policy_body(phone)),
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}"},
        )

    assert post(OLD_PHONE).status_code == 201

    # when the holder's phone is changed by posting the policy again
    assert post(NEW_PHONE).status_code == 200

    # then the change is recorded under the token's user, masked like everywhere else
    person = Person.objects.get(name="王大明")
    (created,) = entries_for(person, LogEntry.Action.CREATE)
    (changed,) = entries_for(person, LogEntry.Action.UPDATE)
    assert created.actor == supervisor and changed.actor == supervisor
    assert changed.changes_dict["phone"] == [mask_phone(OLD_PHONE), mask_phone(NEW_PHONE)]
    assert "id_number" not in created.changes_dict and "id_digest" not in created.changes_dict
    assert created.changes_dict["id_masked"][1] == "110105********002X"
    # and no full phone, ID number or its digest is in any row of the history
    text = every_entry_as_text()
    for secret in (OLD_PHONE, NEW_PHONE, HOLDER_ID, person.id_digest):
        assert secret not in text


def test_revoking_a_vendor_token_in_admin_is_recorded_without_its_digest(client, superuser):
    # given a vendor's token
    token, raw = vendor_token_issue(vendor=Vendor.objects.get(code="fuli"), name="对接")
    client.force_login(superuser)

    # when a superuser revokes it in admin
    client.post(
        reverse("admin:bookings_vendortoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    # then the revocation is one entry of its own, by that user, and no secret is anywhere
    token.refresh_from_db()
    assert token.revoked_at is not None
    (created,) = entries_for(token, LogEntry.Action.CREATE)
    (revoked,) = entries_for(token, LogEntry.Action.UPDATE)
    assert revoked.actor == superuser
    assert set(revoked.changes_dict) == {"revoked_at"}
    assert set(created.changes_dict) <= {"name", "hint", "revoked_at"}
    text = every_entry_as_text()
    assert raw not in text and token.digest not in text


def test_a_staff_token_is_recorded_by_name_and_hint_only():
    # when a staff token is issued (by a command: no actor)
    token, raw = staff_token_issue(user=staff_member("operator"), name="核心系统")

    # then its entry shows what identifies it, not its secret
    (entry,) = entries_for(token, LogEntry.Action.CREATE)
    assert entry.actor is None
    assert set(entry.changes_dict) <= {"name", "hint", "revoked_at"}
    text = every_entry_as_text()
    assert raw not in text and token.digest not in text


def test_a_policyholders_first_login_records_no_user():
    from portal.pages.accounts import account_for_phone

    account = account_for_phone(OLD_PHONE)

    assert not LogEntry.objects.get_for_object(account.user).exists()


def test_the_seed_annexes_loaded_with_the_catalogue_wrote_no_history_rows_for_their_entries():
    # load_catalogue ran once for the session, importing every seed annex
    assert ListEntry.objects.count() > 200 and CoverageListMember.objects.count() > 200
    bulk = ContentType.objects.get_for_models(ListEntry, CoverageListMember).values()

    assert not LogEntry.objects.filter(content_type__in=bulk).exists()


def test_an_annex_import_writes_no_history_rows_for_its_entries():
    # given a city list and a file of six cities
    coverage_list = CoverageList.objects.get(code="pingan.health.escort_cities")
    rows = ["省份,城市,区县,医院数量,备注"] + [
        f"江苏,{city},,1," for city in ("南京", "无锡", "苏州", "常州", "南通", "扬州")
    ]
    content = ("\n".join(rows) + "\n").encode()
    before = LogEntry.objects.count()

    # when it is imported
    annex_import(coverage_list=coverage_list, content=content, filename="cities.csv")

    # then the entries and members have no history; the list itself records when it changed
    assert CoverageListMember.objects.filter(coverage_list=coverage_list).count() >= 6
    bulk = ContentType.objects.get_for_models(ListEntry, CoverageListMember).values()
    assert not LogEntry.objects.filter(content_type__in=bulk).exists()
    assert LogEntry.objects.count() - before <= 1
    assert set(LogEntry.objects.get_for_object(coverage_list).latest("id").changes_dict) == {
        "imported_at"
    }


# --- reading it in admin ---------------------------------------------------------------------


def test_a_superuser_reads_every_entry_in_chinese(client, superuser):
    pingan, axa = pingan_policy("PA-AUDIT-1"), axa_policy("AXA-AUDIT-1")
    client.force_login(superuser)

    page = client.get(CHANGELIST)

    assert page.status_code == 200
    assert pingan.number in page.text and axa.number in page.text
    for header in ("时间", "操作人", "对象", "操作", "变更"):
        assert header in page.text
    (entry,) = entries_for(pingan, LogEntry.Action.CREATE)
    detail = client.get(entry_url(entry))
    assert detail.status_code == 200
    assert "新增" in detail.text and "系统" in detail.text and "平安" in detail.text
    assert 'name="_save"' not in detail.text  # read only


def test_the_history_is_read_only(client, superuser):
    (entry,) = entries_for(pingan_policy("PA-AUDIT-1"), LogEntry.Action.CREATE)
    client.force_login(superuser)

    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    deleted = client.post(
        reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403 and LogEntry.objects.filter(pk=entry.pk).exists()


def test_an_auditor_of_one_insurer_sees_only_its_entries_and_gets_404_for_another(client):
    # given 平安's and 安盛's policies, a staff token and an alias, and an auditor of 平安
    pingan, axa = pingan_policy("PA-AUDIT-1"), axa_policy("AXA-AUDIT-1")
    token, _ = staff_token_issue(user=staff_member("operator", insurers=["pingan"]), name="t")
    auditor = staff_member("auditor", insurers=["pingan"])
    client.force_login(auditor)

    # when they read the history
    page = client.get(CHANGELIST, {"q": "AUDIT"})

    # then 平安's policy is there and 安盛's is not, nor are staff tokens (superusers only)
    assert page.status_code == 200
    assert pingan.number in page.text and axa.number not in page.text
    (mine,) = entries_for(pingan, LogEntry.Action.CREATE)
    (theirs,) = entries_for(axa, LogEntry.Action.CREATE)
    (token_entry,) = entries_for(token, LogEntry.Action.CREATE)
    assert client.get(entry_url(mine)).status_code == 200
    assert client.get(entry_url(theirs)).status_code == 404
    assert client.get(entry_url(token_entry)).status_code == 404
    assert str(StaffToken._meta.verbose_name_plural) not in _filter_choices(page)


def test_shared_reference_data_is_in_every_auditors_history(client):
    from coverage.models import Region, RegionAlias

    alias = RegionAlias.objects.create(
        alias="审计测试别名", region=Region.objects.get(code="420600"), kind="renamed"
    )
    client.force_login(staff_member("auditor", insurers=["axa"]))

    (entry,) = entries_for(alias, LogEntry.Action.CREATE)
    assert client.get(entry_url(entry)).status_code == 200


def test_a_deleted_policys_history_stays_with_its_insurer(client):
    # given a 平安 policy, deleted
    policy = pingan_policy("PA-AUDIT-DEL")
    pk = policy.pk
    policy.delete()
    pingan_auditor = staff_member("auditor", insurers=["pingan"])
    axa_auditor = staff_member("auditor", insurers=["axa"])
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Policy), object_id=pk
    )
    assert {e.action for e in entries} == {LogEntry.Action.CREATE, LogEntry.Action.DELETE}
    pingan_id = str(Insurer.objects.get(code="pingan").pk)
    assert all(e.additional_data["insurers"] == {pingan_id: True} for e in entries)

    # then 平安's auditor still reads its whole history, 安盛's none of it
    client.force_login(pingan_auditor)
    assert all(client.get(entry_url(e)).status_code == 200 for e in entries)
    client.force_login(axa_auditor)
    assert all(client.get(entry_url(e)).status_code == 404 for e in entries)


def test_a_staff_user_without_the_history_permission_is_refused(client):
    (entry,) = entries_for(pingan_policy("PA-AUDIT-1"), LogEntry.Action.CREATE)
    client.force_login(staff_member("operator", insurers=["pingan"]))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(entry_url(entry)).status_code == 403


def _filter_choices(page) -> str:
    return "".join(
        str(label) for _value, label in page.context["cl"].filter_specs[0].lookup_choices
    )


def test_vendor_token_history_needs_the_vendor_token_view_permission(client):
    token, _ = vendor_token_issue(vendor=Vendor.objects.get(code="pingan_team"), name="t")
    client.force_login(staff_member("auditor", insurers=["pingan"]))

    (entry,) = entries_for(token, LogEntry.Action.CREATE)
    assert client.get(entry_url(entry)).status_code == 200
    assert str(VendorToken._meta.verbose_name_plural) in _filter_choices(client.get(CHANGELIST))


@pytest.mark.parametrize("policies", [1, 10])
def test_the_history_page_costs_the_same_queries_for_few_and_many_entries(
    client, policies, django_assert_num_queries
):
    for number in range(policies):
        pingan_policy(f"PA-AUDIT-Q{number}")
    client.force_login(staff_member("auditor", insurers=["pingan"]))
    client.get(CHANGELIST)  # fills the access memos (portal.kernel.tenancy)

    # session, user, the user's own and group permissions (admin's has_perm), the filtered
    # count and one page of entries with content type and actor; no query per row
    with django_assert_num_queries(6):
        response = client.get(CHANGELIST)

    assert response.status_code == 200
