"""Staff roles and per-insurer tenancy: what each role may do, and that a staff user of one
insurer sees nothing of another's — through the staff API, admin, imports and the SLA
dashboard."""

import io
import json

import pytest
import tablib
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from benefits.catalogue.resources import BenefitResource
from benefits.models import Benefit, Policy
from bookings.models import Milestone
from portal.kernel.staff_auth import staff_token_issue
from portal.kernel.tenancy import insurer_ids
from portal.models import StaffMembership
from portal.site.roles import role_table, roles_sync
from tests.clock import at
from tests.factories import axa_policy, outpatient_request, pingan_policy, staff_member

pytestmark = pytest.mark.django_db


def bearer(user) -> dict[str, str]:
    _, raw = staff_token_issue(user=user, name="tests")
    return {"authorization": f"Bearer {raw}"}


# --- roles -----------------------------------------------------------------------------


def test_the_four_roles_exist_after_migrate_as_groups():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"坐席/运营", "主管", "审计", "管理员"} <= names


def test_only_supervisors_and_administrators_may_assign_and_reject():
    roles = role_table()
    for code in ("supervisor", "admin"):
        assert "bookings.assign_servicerequest" in roles[code].permissions
        assert "bookings.reject_servicerequest" in roles[code].permissions
    for code in ("operator", "auditor"):
        assert "bookings.assign_servicerequest" not in roles[code].permissions
    assert "bookings.change_servicerequest" in roles["operator"].permissions


def test_auditors_read_everything_but_change_nothing_and_open_no_record():
    auditor = role_table()["auditor"].permissions
    assert "bookings.view_documentaccess" in auditor
    assert "benefits.view_policy" in auditor
    assert not [perm for perm in auditor if ".change_" in perm or ".add_" in perm]
    assert "bookings.open_document" not in auditor


def test_no_role_reads_the_sms_outbox_or_manages_staff():
    for role in role_table().values():
        assert "portal.view_smsmessage" not in role.permissions  # login codes are in it
        assert "portal.change_staffmembership" not in role.permissions
        assert "auth.change_user" not in role.permissions


def test_a_permission_added_by_hand_to_a_role_is_removed_at_the_next_sync():
    group = Group.objects.get(name="坐席/运营")
    group.permissions.add(Permission.objects.get(codename="assign_servicerequest"))
    roles_sync()
    assert not group.permissions.filter(codename="assign_servicerequest").exists()


# --- the staff_access command ------------------------------------------------------------


def test_staff_access_creates_the_user_with_their_insurer_and_role():
    out = io.StringIO()
    call_command("staff_access", "op1", "--insurer", "pingan", "--role", "operator", stdout=out)
    membership = StaffMembership.objects.select_related("user", "insurer").get()
    assert membership.user.username == "op1" and membership.insurer.code == "pingan"
    assert membership.user.is_staff and not membership.user.has_usable_password()
    assert list(membership.user.groups.values_list("name", flat=True)) == ["坐席/运营"]
    assert "changepassword op1" in out.getvalue()


def test_staff_access_replaces_the_insurers_and_the_role():
    call_command("staff_access", "op1", "--insurer", "pingan", "--role", "operator")
    call_command(
        "staff_access", "op1", "--insurer", "axa", "--insurer", "manulife", "--role", "auditor"
    )
    codes = set(StaffMembership.objects.values_list("insurer__code", flat=True))
    assert codes == {"axa", "manulife"}
    assert list(Group.objects.filter(user__username="op1").values_list("name", flat=True)) == [
        "审计"
    ]


def test_staff_access_refuses_an_unknown_insurer_in_chinese():
    with pytest.raises(CommandError, match="未知保险公司代码：nosuch"):
        call_command("staff_access", "op1", "--insurer", "nosuch", "--role", "operator")
    assert not StaffMembership.objects.exists()


def test_a_new_membership_takes_effect_on_the_next_call():
    user = staff_member("operator", ["pingan"])
    assert insurer_ids(user) == {user.staff_memberships.get().insurer_id}
    axa = StaffMembership.objects.create(user=user, insurer_id=_insurer("axa"))
    assert axa.insurer_id in insurer_ids(user)


def _insurer(code: str) -> int:
    from benefits.models import Insurer

    return Insurer.objects.get(code=code).pk


# --- staff API ---------------------------------------------------------------------------


def test_staff_without_a_role_get_403_from_the_api_even_for_me(client):
    from tests.factories import StaffFactory

    response = client.get("/api/staff/v1/me", headers=bearer(StaffFactory()))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_catalogue_lists_only_the_users_insurers_products(client):
    user = staff_member("operator", ["pingan"])
    response = client.get("/api/staff/v1/catalogue", headers=bearer(user))
    assert response.status_code == 200
    assert {p["insurer"]["code"] for p in response.json()["products"]} == {"pingan"}


def test_entitlements_of_another_insurers_policy_answer_404(client):
    pingan_policy("PA-T-1"), axa_policy("AXA-T-1")
    headers = bearer(staff_member("operator", ["pingan"]))
    mine = client.get("/api/staff/v1/policies/PA-T-1/entitlements?on=2026-03-01", headers=headers)
    theirs = client.get(
        "/api/staff/v1/policies/AXA-T-1/entitlements?on=2026-03-01", headers=headers
    )
    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert theirs.json() == {"code": "not_found", "message": "保单不存在"}


def test_eligibility_of_another_insurers_policy_is_a_policy_that_does_not_exist(client):
    axa_policy("AXA-T-1")
    response = client.post(
        "/api/staff/v1/eligibility",
        json.dumps(
            {
                "policy": "AXA-T-1",
                "member": "M1",
                "benefit": "axa.zysh.special_drug_domestic",
                "at": "2026-03-01T10:00:00+08:00",
            }
        ),
        content_type="application/json",
        headers=bearer(staff_member("operator", ["pingan"])),
    )
    assert response.status_code == 404
    assert response.json()["message"] == "保单不存在"


def test_a_policy_cannot_be_created_on_another_insurers_product(client):
    user = staff_member("supervisor", ["pingan"])
    response = client.post(
        "/api/staff/v1/policies",
        json.dumps(
            {
                "number": "AXA-NEW-1",
                "product": "axa.zysh",
                "signed_on": "2026-01-01",
                "effective_on": "2026-01-02",
                "expires_on": "2027-01-01",
                "holder": {"name": "甲", "id_number": "11010519491231002X"},
                "members": [],
            }
        ),
        content_type="application/json",
        headers=bearer(user),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_product"
    assert not Policy.objects.filter(number="AXA-NEW-1").exists()


def test_an_operator_cannot_write_policies(client):
    response = client.post(
        "/api/staff/v1/policies",
        "{}",
        content_type="application/json",
        headers=bearer(staff_member("operator", ["pingan"])),
    )
    assert response.status_code == 403


def test_coverage_lists_of_another_insurer_are_neither_listed_nor_answered(client):
    headers = bearer(staff_member("operator", ["pingan"]))
    listed = client.get("/api/staff/v1/coverage/lists", headers=headers).json()
    assert listed and {cl["insurer"] for cl in listed} == {"pingan"}
    response = client.get(
        "/api/staff/v1/coverage/lists/axa.zysh.drug_cities/covers?region=上海市", headers=headers
    )
    assert response.status_code == 404


# --- admin -------------------------------------------------------------------------------


def test_admin_lists_and_opens_only_the_users_insurers_policies(client):
    mine, theirs = pingan_policy("PA-T-1"), axa_policy("AXA-T-1")
    client.force_login(staff_member("operator", ["pingan"]))
    listing = client.get(reverse("admin:benefits_policy_changelist"))
    assert mine.number in listing.text and theirs.number not in listing.text
    change = reverse("admin:benefits_policy_change", args=[theirs.pk])
    assert client.get(change).status_code == 404
    assert client.get(reverse("admin:benefits_policy_change", args=[mine.pk])).status_code == 200


def test_admin_index_is_403_for_staff_without_any_permission(client):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    assert client.get(reverse("admin:index")).status_code == 403
    assert client.get(reverse("admin:app_list", args=["benefits"])).status_code == 403


def test_the_sla_dashboard_counts_only_the_users_insurers_requests(client):
    request = outpatient_request(at=at(2026, 3, 2, 10), number="PA-SLA-1")
    assert Milestone.objects.filter(request=request, state=Milestone.State.PENDING).exists()
    client.force_login(staff_member("operator", ["axa"]))
    page = client.get(reverse("admin:bookings_dashboard"))
    assert page.status_code == 200
    assert request.ref not in page.text
    client.force_login(staff_member("operator", ["pingan"]))
    assert request.ref in client.get(reverse("admin:bookings_dashboard")).text


def test_a_benefit_import_row_of_another_insurer_is_refused_in_chinese():
    benefit = Benefit.objects.select_related("product").get(code="axa.zysh.special_drug_domestic")
    dataset = BenefitResource().export(queryset=Benefit.objects.filter(pk=benefit.pk))
    dataset.dict = [{**row, "name": "改名"} for row in dataset.dict]
    resource = BenefitResource(insurer_ids=frozenset({_insurer("pingan")}))
    result = resource.import_data(tablib.Dataset(*dataset, headers=dataset.headers), dry_run=False)
    assert result.has_validation_errors()
    messages = [str(e) for row in result.invalid_rows for e in row.error.messages]
    assert any("不属于您所在的保险公司" in m for m in messages)
    assert Benefit.objects.get(pk=benefit.pk).name == benefit.name
