"""Changing a person's phone (staff API, policy import, admin) ends every portal binding the
old phone made, texts both numbers once committed, and is recorded masked; a phone or name
shared with another insurer's policy changes only for a platform administrator; the API and
the import accept only the phones the portal's login accepts, and the import refuses
formula-like cells."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benefits.models import Insurer, Person, PhoneChange, Policy
from benefits.policies.imports import import_actor, policies_import
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from portal.kernel.errors import DomainError
from portal.kernel.identity import mask_phone
from portal.kernel.staff_auth import staff_token_issue
from portal.models import PolicyholderAccount, SmsMessage

pytestmark = pytest.mark.django_db

URL = "/api/staff/v1/policies"
HOLDER_ID = "11010519491231002X"
OLD = "13800138000"
NEW = "13912345678"


def body(phone: str = OLD, **overrides) -> dict:
    data = {
        "number": "PA-PHONE-1",
        "product": "pingan.health",
        "signed_on": "2026-01-01",
        "effective_on": "2026-01-02",
        "expires_on": "2027-01-01",
        "holder": {"name": "王大明", "id_number": HOLDER_ID, "phone": phone},
        "members": [
            {"ref": "M1", "name": "王大明", "id_number": HOLDER_ID, "relation": "self"},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def post(client, staff_user):
    _, raw = staff_token_issue(user=staff_user, name="core")

    def send(payload: dict):
        return client.post(
            URL,
            json.dumps(payload),
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}"},
        )

    return send


@pytest.fixture
def holder(post) -> Person:
    assert post(body()).status_code == 201
    return Person.objects.get(name="王大明")


@pytest.fixture
def portal_browser(holder) -> Client:
    """The holder logged into the portal with the old phone, bound as account_bind binds."""
    user = get_user_model().objects.create_user(username="ph-old")
    PolicyholderAccount.objects.create(user=user, phone=OLD, person=holder, bound_at=timezone.now())
    browser = Client()
    browser.force_login(user)
    assert browser.get(reverse("portal:home")).status_code == 200
    return browser


def assert_logged_out(browser: Client) -> None:
    response = browser.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def assert_phone_change_told(holder: Person, *, channel: str, actor_label: str | None) -> None:
    account = PolicyholderAccount.objects.get(phone=OLD)
    assert (account.person, account.bound_at) == (None, None)
    (change,) = PhoneChange.objects.filter(person=holder)
    assert (change.old_masked, change.new_masked) == ("138****8000", "139****5678")
    assert change.channel == channel
    if actor_label is not None:
        assert change.actor_label == actor_label
    stored = " ".join(str(value) for value in vars(change).values())
    assert OLD not in stored and NEW not in stored
    texts = {sms.phone: sms for sms in SmsMessage.objects.all()}
    assert set(texts) == {OLD, NEW}
    assert texts[OLD].template == "phone_changed_old"
    assert "变更为139****5678，原绑定已解除" in texts[OLD].body
    assert "平安健康客服95511-7" in texts[OLD].body
    assert NEW not in texts[OLD].body
    assert texts[NEW].template == "phone_changed_new"
    assert "请用本号码重新登录" in texts[NEW].body


# --- staff API ---------------------------------------------------------------------------------


def test_an_api_phone_change_unbinds_the_old_phone_logs_it_out_and_texts_both_numbers(
    post, holder, portal_browser, django_capture_on_commit_callbacks, caplog
):
    # given the holder is logged into the portal with the old phone (fixture)
    # when the core system sends the policy with another phone
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        response = post(body(phone="139-1234-5678"))

    # then
    assert response.status_code == 200
    holder.refresh_from_db()
    assert holder.phone == NEW  # stored normalised
    # The actor is the API caller once benefits.api passes it (see policy_upsert's actor).
    assert_phone_change_told(holder, channel="api", actor_label=None)
    assert_logged_out(portal_browser)
    assert OLD not in caplog.text and NEW not in caplog.text


def test_the_same_phone_again_changes_nothing_and_texts_no_one(
    post, holder, portal_browser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(body(phone="+86 138 0013 8000")).status_code == 200

    assert not PhoneChange.objects.exists()
    assert not SmsMessage.objects.exists()
    assert PolicyholderAccount.objects.get(phone=OLD).person == holder
    assert portal_browser.get(reverse("portal:home")).status_code == 200


def test_a_rolled_back_change_ends_no_binding_and_sends_nothing(
    post, holder, portal_browser, django_capture_on_commit_callbacks
):
    # the new phone is valid and the holder is written first, but the second member's ID
    # number is not: the whole policy is refused
    wrong_check_digit = HOLDER_ID[:17] + "1"
    child = {"ref": "M2", "name": "王小宝", "id_number": wrong_check_digit, "relation": "child"}
    members = [*body()["members"], child]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(body(phone=NEW, members=members))

    assert response.status_code == 400
    assert Person.objects.get(pk=holder.pk).phone == OLD
    assert not PhoneChange.objects.exists() and not SmsMessage.objects.exists()
    assert PolicyholderAccount.objects.get(phone=OLD).person == holder


@pytest.mark.parametrize("phone", ["12345", "02161234567", "1380013800a", "=1+1"])
def test_an_invalid_phone_is_refused_with_invalid_phone_and_nothing_is_written(post, phone):
    response = post(body(phone=phone))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_phone"
    assert response.json()["message"] == "holder：手机号码格式不正确，请填写11位中国大陆手机号码"
    assert not Policy.objects.exists() and not Person.objects.exists()


def test_a_binding_the_phone_no_longer_backs_is_refused_even_without_the_signal(
    holder, portal_browser
):
    # given a phone written behind the service's back (a bulk update sends no signal)
    Person.objects.filter(pk=holder.pk).update(phone=NEW)

    # then the portal logs the old phone's browser out, and the person's pages are closed
    assert_logged_out(portal_browser)


# --- the rule for people shared between insurers ----------------------------------------------


@pytest.fixture
def shared_holder(holder) -> Person:
    """The holder also holds a 中宏 policy."""
    policy_upsert(
        PolicyInput(
            number="MA-PHONE-2",
            product="manulife.dmm",
            status="in_force",
            signed_on=date(2026, 1, 1),
            effective_on=date(2026, 1, 2),
            expires_on=date(2027, 1, 1),
            holder=PersonInput(name="王大明", id_number=HOLDER_ID, phone=OLD),
            members=[
                MemberInput(
                    ref="M1",
                    relation="self",
                    person=PersonInput(name="王大明", id_number=HOLDER_ID, phone=OLD),
                )
            ],
        )
    )
    return holder


def insurers(*codes: str) -> frozenset[int]:
    return frozenset(Insurer.objects.filter(code__in=codes).values_list("pk", flat=True))


@pytest.mark.parametrize("change", [{"phone": NEW}, {"name": "王小明"}], ids=["phone", "name"])
def test_a_person_on_another_insurers_policy_keeps_phone_and_name_for_a_restricted_caller(
    shared_holder, change
):
    given = {"name": "王大明", "id_number": HOLDER_ID, "phone": OLD, **change}
    with pytest.raises(DomainError) as refused:
        policy_upsert(
            PolicyInput(
                number="PA-PHONE-1",
                product="pingan.health",
                status="in_force",
                signed_on=date(2026, 1, 1),
                effective_on=date(2026, 1, 2),
                expires_on=date(2027, 1, 1),
                holder=PersonInput(**given),
                members=[],
            ),
            allowed_insurer_ids=insurers("pingan"),
        )

    assert refused.value.code == "person_shared_across_insurers"
    assert refused.value.status == 409
    assert "该人员在其他保险公司亦有保单，手机号或姓名须由平台管理员变更" in refused.value.message
    shared_holder.refresh_from_db()
    assert (shared_holder.name, shared_holder.phone) == ("王大明", OLD)
    assert not PhoneChange.objects.exists()


def test_a_caller_serving_every_insurer_of_the_person_may_change_the_phone(shared_holder):
    from benefits.policies.services import person_upsert

    person_upsert(
        PersonInput(name="王大明", id_number=HOLDER_ID, phone=NEW),
        field="holder",
        allowed_insurer_ids=insurers("pingan", "manulife"),
    )

    assert Person.objects.get(pk=shared_holder.pk).phone == NEW
    assert PhoneChange.objects.get().new_masked == mask_phone(NEW)


# --- policy import --------------------------------------------------------------------------------


def cells(**overrides: str) -> dict[str, str]:
    base = {
        "number": "PA-PHONE-1",
        "product": "pingan.health",
        "status": "有效",
        "signed_on": "2026-01-01",
        "effective_on": "2026-01-02",
        "expires_on": "2027-01-01",
        "holder_name": "王大明",
        "holder_id_number": HOLDER_ID,
        "holder_phone": OLD,
        "member_ref": "M1",
        "member_name": "王大明",
        "member_id_number": HOLDER_ID,
        "relation": "本人",
        "member_phone": OLD,
    }
    return {**base, **overrides}


def test_an_imported_phone_change_is_told_and_recorded_as_the_importing_user(
    holder, portal_browser, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = policies_import(
            rows=[cells(holder_phone=NEW, member_phone=NEW)],
            dry_run=False,
            actor=import_actor(staff_user),
        )

    assert report.ok and [p.number for p in report.updated] == ["PA-PHONE-1"]
    assert_phone_change_told(holder, channel="import", actor_label=f"import:{staff_user.username}")
    assert PhoneChange.objects.get().changed_by == staff_user
    assert_logged_out(portal_browser)


def test_the_import_preview_changes_and_texts_nothing(
    holder, portal_browser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = policies_import(rows=[cells(holder_phone=NEW, member_phone=NEW)], dry_run=True)

    assert report.ok
    assert Person.objects.get(pk=holder.pk).phone == OLD
    assert not PhoneChange.objects.exists() and not SmsMessage.objects.exists()
    assert portal_browser.get(reverse("portal:home")).status_code == 200


def test_an_import_row_changing_a_shared_persons_phone_is_refused_in_chinese(shared_holder):
    report = policies_import(
        rows=[cells(holder_phone=NEW, member_phone=NEW)],
        dry_run=False,
        allowed_insurer_ids=insurers("pingan"),
    )

    assert not report.ok
    assert report.rows[0].errors == {
        "投保人证件号码": ["该人员在其他保险公司亦有保单，手机号或姓名须由平台管理员变更"]
    }
    assert Person.objects.get(pk=shared_holder.pk).phone == OLD


def test_an_import_row_with_a_phone_the_portal_would_refuse_is_reported():
    report = policies_import(
        rows=[cells(number="PA-PHONE-9", member_phone="0571-8888")], dry_run=False
    )

    assert report.rows[0].errors == {
        "被保险人手机号": ["手机号码格式不正确，请填写11位中国大陆手机号码"]
    }
    assert not Policy.objects.filter(number="PA-PHONE-9").exists()


@pytest.mark.parametrize(
    ("column", "value", "header"),
    [
        ("member_name", '=HYPERLINK("http://x","王")', "被保险人姓名"),
        ("holder_name", "+王大明", "投保人姓名"),
        ("member_name", "@SUM(A1)", "被保险人姓名"),
        ("holder_name", "\t=1+1", "投保人姓名"),
        ("member_ref", "-M1", "被保险人编号"),
        ("home_city", "=cmd|' /C calc'!A0", "常住城市"),
    ],
)
def test_a_formula_like_cell_is_refused_in_chinese_and_nothing_is_imported(column, value, header):
    rows = [cells(number="PA-PHONE-8"), cells(number="PA-PHONE-9", **{column: value})]

    report = policies_import(rows=rows, dry_run=False)

    assert not report.ok
    (message,) = report.rows[1].errors[header]
    assert "疑似公式，出于安全原因拒绝导入" in message
    assert not Policy.objects.filter(number__in=["PA-PHONE-8", "PA-PHONE-9"]).exists()


# --- admin ----------------------------------------------------------------------------------------


def person_form(person: Person, **changes: str) -> dict[str, str]:
    return {
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "phone": person.phone,
        "mainland_citizen": "on",
        "home_city": "",
        "hukou_city": "",
        "_save": "1",
        **changes,
    }


def test_an_admin_phone_change_goes_through_the_same_service(
    client, superuser, holder, portal_browser, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    url = reverse("admin:benefits_person_change", args=[holder.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, person_form(holder, phone=f" {NEW} "))

    assert response.status_code == 302
    assert Person.objects.get(pk=holder.pk).phone == NEW
    assert_phone_change_told(holder, channel="admin", actor_label=f"staff:{superuser.username}")
    assert_logged_out(portal_browser)


def test_the_admin_form_refuses_a_phone_the_portal_would_refuse(client, superuser, holder):
    client.force_login(superuser)
    url = reverse("admin:benefits_person_change", args=[holder.pk])

    response = client.post(url, person_form(holder, phone="12345"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "phone": ["请输入正确的11位中国大陆手机号码"]
    }
    assert Person.objects.get(pk=holder.pk).phone == OLD


def test_the_phone_change_record_is_read_only_in_admin(client, superuser, holder):
    from benefits.policies.services import person_save

    holder.phone = NEW
    person_save(person=holder, channel="admin")
    change = PhoneChange.objects.get()
    client.force_login(superuser)

    page = client.get(reverse("admin:benefits_phonechange_changelist"))
    assert page.status_code == 200
    assert "138****8000" in page.text and OLD not in page.text
    assert client.get(reverse("admin:benefits_phonechange_add")).status_code == 403
    detail = client.get(reverse("admin:benefits_phonechange_change", args=[change.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.text
    deleted = client.post(
        reverse("admin:benefits_phonechange_delete", args=[change.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403 and PhoneChange.objects.filter(pk=change.pk).exists()
