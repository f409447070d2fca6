"""The vendor workbench at /vendor/ as vendor staff use it: a Chinese login (password, then
an SMS code), their assigned requests with deadlines, each step of the service in the
browser through the vendor API's services, nothing of another vendor's, and a double
submit that applies once."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from benefits.models import Benefit, Vendor
from bookings.documents.services import document_add
from bookings.models import (
    Consumption,
    Document,
    DocumentAccess,
    QuotaOutcome,
    RequestEvent,
    ServiceRequest,
    Status,
    VendorAccount,
)
from tests.bookings.test_vendor_api import OPS, assigned_request, pdf
from tests.portal.test_login import code_from_outbox, wrong

pytestmark = pytest.mark.django_db
STAFF_PHONE = "13912345678"
PASSWORD = "Fw-2026-bench!"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def vendor_account(vendor, username: str = "zhang.wei", phone: str = STAFF_PHONE):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    return VendorAccount.objects.create(user=user, vendor=vendor, phone=phone)


def log_in(client: Client, account: VendorAccount) -> None:
    """The whole login as a person does it: name and password, then the SMS code."""
    response = client.post(
        reverse("vendor:login"), {"username": account.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("vendor:login_code")
    response = client.post(reverse("vendor:login_code"), {"code": code_from_outbox(account.phone)})
    assert response.status_code == 302
    assert response["Location"] == reverse("vendor:home")


def keys(html: str) -> dict[str, str]:
    """The idempotency key of each action form on a request page, by its action and event."""
    found = {}
    for action, body in re.findall(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S):
        key = re.search(r'name="idempotency_key" value="([^"]+)"', body)
        event = re.search(r'name="event" value="([^"]+)"', body)
        if key:
            found[event.group(1) if event else action.rstrip("/").rsplit("/", 1)[-1]] = key.group(1)
    return found


def act(client: Client, ref: str, event: str, **fields: str):
    page = client.get(reverse("vendor:request_detail", args=[ref]))
    key = keys(page.content.decode())[event]
    data = {"event": event, "idempotency_key": key, **fields}
    return client.post(reverse("vendor:request_event", args=[ref]), data), data


@pytest.fixture
def vendor_a() -> Vendor:
    return Vendor.objects.get(code="pingan_team")  # 平安 门诊协助's vendor


@pytest.fixture
def vendor_b() -> Vendor:
    # A backup vendor of the same benefit: it may hold requests vendor A must not see.
    vendor = Vendor.objects.get(code="fuli")
    Benefit.objects.get(code="pingan.health.outpatient_assist").backup_vendors.add(vendor)
    return vendor


@pytest.fixture
def account_a(vendor_a):
    return vendor_account(vendor_a)


@pytest.fixture
def bench(client, account_a):
    log_in(client, account_a)
    return client


# --- login --------------------------------------------------------------------------------


def test_the_workbench_greets_a_visitor_with_a_chinese_login_page(client):
    response = client.get("/vendor/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/vendor/login/?next=/vendor/")
    page = response.content.decode()
    assert '<html lang="zh-Hans">' in page
    assert "服务商工作台登录" in page
    assert "登录名" in page and "密码" in page
    assert 'name="viewport"' in page  # the portal's phone layout


def test_a_vendor_user_logs_in_with_password_and_the_sms_code(client, account_a):
    wrong_password = client.post(
        reverse("vendor:login"), {"username": "zhang.wei", "password": "nope"}
    )
    assert wrong_password.status_code == 200
    assert "登录名或密码不正确" in wrong_password.content.decode()

    client.post(reverse("vendor:login"), {"username": "zhang.wei", "password": PASSWORD})
    assert client.get("/vendor/").status_code == 302  # the password alone is not a login
    code_page = client.get(reverse("vendor:login_code")).content.decode()
    assert "139****5678" in code_page
    refused = client.post(
        reverse("vendor:login_code"), {"code": wrong(code_from_outbox(STAFF_PHONE))}
    )
    assert "验证码不正确" in refused.content.decode()
    client.post(reverse("vendor:login_code"), {"code": code_from_outbox(STAFF_PHONE)})

    home = client.get("/vendor/")
    assert home.status_code == 200
    assert "服务商工作台" in home.content.decode()


def test_staff_and_deactivated_accounts_do_not_get_in(client, account_a, staff_user):
    staff_user.set_password(PASSWORD)
    staff_user.save()
    for username in (staff_user.username, account_a.user.username):
        if username == account_a.user.username:
            VendorAccount.objects.filter(pk=account_a.pk).update(active=False)
        response = client.post(
            reverse("vendor:login"), {"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200
        assert "未开通服务商工作台" in response.content.decode()


def test_a_deactivated_account_loses_the_workbench_at_its_next_page(bench, account_a):
    VendorAccount.objects.filter(pk=account_a.pk).update(active=False)
    assert bench.get("/vendor/").status_code == 302


def test_wrong_passwords_lock_the_workbench_login_as_the_admin_login(client, account_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("vendor:login"), {"username": "zhang.wei", "password": "nope"})
    locked = client.post(reverse("vendor:login"), {"username": "zhang.wei", "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()
    assert "Retry-After" in locked


def test_a_complete_login_forgets_the_wrong_passwords(client, account_a):
    from axes.models import AccessAttempt

    client.post(reverse("vendor:login"), {"username": "zhang.wei", "password": "nope"})
    assert AccessAttempt.objects.filter(username="zhang.wei").exists()
    log_in(client, account_a)
    assert not AccessAttempt.objects.filter(username="zhang.wei").exists()


def test_an_account_is_created_in_admin_with_its_password(client, superuser, vendor_a):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:bookings_vendoraccount_add"),
        {
            "username": "li.na",
            "password": PASSWORD,
            "vendor": vendor_a.pk,
            "phone": "+86 139-1234-5678",
            "active": "on",
        },
    )
    errors = re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S)
    assert response.status_code == 302, errors
    account = VendorAccount.objects.get(user__username="li.na")
    assert account.phone == STAFF_PHONE
    assert account.user.check_password(PASSWORD)
    assert not account.user.is_staff


# --- the work -----------------------------------------------------------------------------


def test_a_vendor_user_completes_an_assigned_request_in_the_browser(bench, vendor_a):
    request = assigned_request("PA-BENCH-1", vendor_a)
    ref = request.ref
    document_add(request, name="病历.pdf", data=pdf(), actor=OPS)

    listing = bench.get("/vendor/").content.decode()
    assert ref in listing and "门诊协助" in listing
    assert "最近截止" in listing
    page = bench.get(reverse("vendor:request_detail", args=[ref])).content.decode()
    assert "13800138000" in page  # the client's phone while the vendor must call
    assert {"contacted", "scheduled", "in_service", "completed", "failed"} <= set(keys(page))

    steps = [
        ("contacted", {}),
        ("scheduled", {"at": "2026-03-10T09:30", "place": "华山医院门诊楼"}),
        ("in_service", {}),
    ]
    for event, fields in steps:
        response, _ = act(bench, ref, event, **fields)
        assert response.status_code == 302, response.content.decode()
    page = bench.get(reverse("vendor:request_detail", args=[ref])).content.decode()
    upload = bench.post(
        reverse("vendor:request_deliverable", args=[ref]),
        {
            "idempotency_key": keys(page)["deliverables"],
            "file": SimpleUploadedFile("二诊报告.pdf", pdf(), "application/pdf"),
            "requirement": "二诊报告",
        },
    )
    assert upload.status_code == 302
    done, _ = act(bench, ref, "completed")
    final = bench.get(done["Location"]).content.decode()

    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.quota_outcome == QuotaOutcome.USED
    assert request.scheduled_at.isoformat() == "2026-03-10T01:30:00+00:00"  # Beijing 09:30
    assert "已报告：" in final
    assert Document.objects.filter(request=request, from_vendor=True).count() == 1
    events = RequestEvent.objects.filter(request=request, event="completed").get()
    assert events.actor_label == "vendor:pingan_team"
    assert events.actor.username == "zhang.wei"  # who at the vendor acted


def test_a_vendor_user_sees_nothing_of_another_vendors_request(bench, vendor_b):
    other = assigned_request("PA-BENCH-2", vendor_b)
    document = document_add(other, name="病历.pdf", data=pdf(), actor=OPS)

    assert other.ref not in bench.get("/vendor/").content.decode()
    assert other.ref not in bench.get("/vendor/?show=all").content.decode()
    detail = bench.get(reverse("vendor:request_detail", args=[other.ref]))
    event = bench.post(
        reverse("vendor:request_event", args=[other.ref]),
        {"event": "contacted", "idempotency_key": "k1"},
    )
    consumption = bench.post(
        reverse("vendor:request_consumption", args=[other.ref]),
        {"measure": "times", "amount": "1", "idempotency_key": "k2"},
    )
    file = bench.get(reverse("vendor:document_file", args=[other.ref, document.pk]))

    assert [detail.status_code, event.status_code, consumption.status_code] == [404, 404, 404]
    assert file.status_code == 404
    assert "PA-BENCH-2" not in detail.content.decode()
    other.refresh_from_db()
    assert other.status == Status.ASSIGNED
    assert not RequestEvent.objects.filter(request=other, event="contacted").exists()
    assert not DocumentAccess.objects.filter(document=document).exists()


def test_a_double_submit_applies_once(bench, vendor_a):
    request = assigned_request("PA-BENCH-3", vendor_a)
    first, data = act(bench, request.ref, "contacted")
    second = bench.post(reverse("vendor:request_event", args=[request.ref]), data)

    assert first.status_code == second.status_code == 302
    assert RequestEvent.objects.filter(request=request, event="contacted").count() == 1
    assert "未重复执行" in bench.get(second["Location"]).content.decode()

    page = bench.get(reverse("vendor:request_detail", args=[request.ref])).content.decode()
    consumption = {"measure": "times", "amount": "1", "idempotency_key": keys(page)["consumption"]}
    url = reverse("vendor:request_consumption", args=[request.ref])
    bench.post(url, consumption)
    bench.post(url, consumption)
    assert Consumption.objects.filter(request=request).count() == 1


def test_a_refused_step_shows_the_services_reason_in_chinese(bench, vendor_a):
    request = assigned_request("PA-BENCH-4", vendor_a)
    response, data = act(bench, request.ref, "scheduled", place="华山医院")

    assert response.status_code == 422
    page = response.content.decode()
    assert "预约事件必须提供预约时间" in page
    assert "华山医院" in page  # the input is kept
    assert data["idempotency_key"] not in page  # a fresh key for the corrected attempt
    retried, _ = act(bench, request.ref, "scheduled", at="2026-03-10T09:30", place="华山医院")
    assert retried.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == Status.SCHEDULED


def test_opening_a_record_is_logged_with_the_user(bench, vendor_a):
    request = assigned_request("PA-BENCH-5", vendor_a)
    document = document_add(request, name="病历.pdf", data=pdf(), actor=OPS)
    response = bench.get(reverse("vendor:document_file", args=[request.ref, document.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    access = DocumentAccess.objects.get(document=document)
    assert (access.actor_label, access.actor.username) == ("vendor:pingan_team", "zhang.wei")


def test_the_list_costs_the_same_queries_for_one_or_many_requests(
    bench,
    vendor_a,
    django_assert_num_queries,
):
    assigned_request("PA-BENCH-6", vendor_a)
    bench.get("/vendor/")
    # session, user, account+vendor, count, page
    with django_assert_num_queries(5):
        one = bench.get("/vendor/")
    for number in range(7, 10):
        assigned_request(f"PA-BENCH-{number}", vendor_a)
    with django_assert_num_queries(5):
        many = bench.get("/vendor/")
    assert one.content.decode().count("/vendor/requests/") == 1
    assert many.content.decode().count("/vendor/requests/") == 4


def test_a_request_page_costs_the_same_queries_however_long_its_history(
    bench, vendor_a, django_assert_num_queries
):
    request = assigned_request("PA-BENCH-10", vendor_a)
    url = reverse("vendor:request_detail", args=[request.ref])
    bench.get(url)
    # session, user, account+vendor, request, whether the member's records are withheld
    # (bookings.documents.sharing), documents, milestones, events, consumptions
    with django_assert_num_queries(9):
        bench.get(url)
    for number in range(3):
        document_add(request, name=f"病历{number}.pdf", data=pdf(), actor=OPS)
    act(bench, request.ref, "contacted")
    with django_assert_num_queries(9):
        page = bench.get(url).content.decode()
    assert page.count("/documents/") == 3


def test_a_policyholder_or_staff_session_is_sent_to_the_workbench_login(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/vendor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/vendor/login/")


def test_the_demo_has_a_workbench_login(client, settings):
    settings.DEBUG = True  # a developer's machine: the well-known demo password
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())  # idempotent

    account = VendorAccount.objects.get(user__username="demo-vendor")
    assert account.vendor.code == "pingan_team"  # the vendor of the demo's 门诊协助
    client.post(
        reverse("vendor:login"), {"username": "demo-vendor", "password": "demo-vendor-2026"}
    )
    client.post(reverse("vendor:login_code"), {"code": code_from_outbox(account.phone)})
    assert client.get("/vendor/").status_code == 200


def test_a_tampered_form_key_is_refused_in_the_form_not_with_a_500(bench, vendor_a):
    request = assigned_request("PA-BENCH-11", vendor_a)
    url = reverse("vendor:request_event", args=[request.ref])
    for key in ("", "k" * 100):
        response = bench.post(url, {"event": "contacted", "idempotency_key": key})
        assert response.status_code == 422
    assert not RequestEvent.objects.filter(request=request, event="contacted").exists()


def test_an_insurers_supervisor_may_not_open_a_shared_vendors_workbench(client, vendor_a):
    # given 抚理, which delivers both 中宏 and 小康 benefits, and 中宏's supervisor
    from tests.factories import staff_member

    shared = Vendor.objects.get(code="fuli")
    client.force_login(staff_member("supervisor", ["manulife"]))
    # when they create a workbench login for it
    response = client.post(
        reverse("admin:bookings_vendoraccount_add"),
        {"username": "spy", "password": PASSWORD, "vendor": shared.pk, "phone": "13912345678"},
    )
    # then it is refused with the reason: that login would see 小康's requests too
    assert response.status_code == 200
    assert "只能由平台管理员设置" in response.content.decode()
    assert not VendorAccount.objects.filter(user__username="spy").exists()
    # and an existing login of that vendor is read-only to them (no password reset)
    existing = vendor_account(shared, username="fuli.staff", phone="13912340000")
    change = reverse("admin:bookings_vendoraccount_change", args=[existing.pk])
    client.post(change, {"password": "N3w-pass-word!", "vendor": shared.pk, "phone": "13912349999"})
    existing.refresh_from_db()
    assert existing.phone == "13912340000"
    assert not existing.user.check_password("N3w-pass-word!")


def test_a_supervisor_of_the_only_insurer_a_vendor_serves_creates_its_login(client, vendor_a):
    # given 平安's own team, which serves 平安 only, and 平安's supervisor
    from tests.factories import staff_member

    client.force_login(staff_member("supervisor", ["pingan"]))
    response = client.post(
        reverse("admin:bookings_vendoraccount_add"),
        {
            "username": "pa.staff",
            "password": PASSWORD,
            "vendor": vendor_a.pk,
            "phone": "13912345678",
        },
    )
    assert response.status_code == 302
    assert VendorAccount.objects.filter(user__username="pa.staff", vendor=vendor_a).exists()


def test_away_from_a_developers_machine_the_demo_login_gets_a_random_password(settings):
    settings.DEBUG = False
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    account = VendorAccount.objects.get(user__username="demo-vendor")
    assert not account.user.check_password("demo-vendor-2026")
    printed = re.search(r"密码 (\S+)，", out.getvalue()).group(1)
    assert account.user.check_password(printed)  # told once, to whoever ran the command
