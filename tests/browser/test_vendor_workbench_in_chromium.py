"""The vendor workbench in a real Chromium at phone width: a vendor's staff member logs in
with password and SMS code, opens the assigned request, reports each step and completes it.
Screenshots in ``test-artifacts/browser/vendor-*.png``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from benefits.models import Vendor
from bookings.models import QuotaOutcome, Status, VendorAccount
from portal.models import SmsMessage
from tests.bookings.test_vendor_api import assigned_request
from tests.browser.test_portal_in_chromium import CHROMIUM, page, shot  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]
PASSWORD = "Fw-2026-bench!"
PHONE = "13912345678"


def test_a_vendor_completes_an_assigned_request_at_phone_width(page, catalogue):  # noqa: F811
    vendor = Vendor.objects.get(code="pingan_team")
    user = get_user_model().objects.create_user(username="zhang.wei", password=PASSWORD)
    VendorAccount.objects.create(user=user, vendor=vendor, phone=PHONE)
    request = assigned_request("PA-BROWSER-1", vendor)

    page.goto("/vendor/")
    assert "/vendor/login/" in page.url
    assert page.get_by_role("heading", name="服务商工作台登录").is_visible()
    page.get_by_label("登录名").fill("zhang.wei")
    page.get_by_label("密码").fill(PASSWORD)
    shot(page, "vendor-01-login")
    page.get_by_role("button", name="下一步：获取验证码").click()
    page.wait_for_url(re.compile(r"/vendor/login/code/"))
    code = re.search(r"\d{6}", SmsMessage.objects.filter(phone=PHONE).latest("id").body).group(0)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()

    page.wait_for_url(re.compile(r"/vendor/$"))
    card = page.locator("li.card", has_text=request.ref)
    assert card.get_by_text("最近截止").is_visible()
    shot(page, "vendor-02-list")
    card.get_by_role("link", name="门诊协助").click()
    page.wait_for_url(re.compile(rf"/vendor/requests/{request.ref}/"))
    assert page.get_by_role("link", name="13800138000").is_visible()  # tap to call
    # Nothing wider than the phone: no sideways scrolling on the request page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "vendor-03-request")

    for step in ("服务商已联系客户", "服务开始"):
        page.get_by_role("button", name=step).click()
        page.wait_for_load_state()
        assert page.get_by_text(f"已报告：{step}").is_visible()
    page.get_by_role("button", name="服务完成").click()
    page.wait_for_load_state()
    assert page.get_by_text("已报告：服务完成").is_visible()
    shot(page, "vendor-04-completed")

    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.quota_outcome == QuotaOutcome.USED


def test_the_api_docs_render_with_nothing_from_another_host(page, live_server, superuser):  # noqa: F811
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/vendor/v1/docs")
    page.locator(".opblock").first.wait_for()  # Swagger UI drew the operations
    assert page.get_by_text("X-Signature").first.is_visible()
    shot(page, "docs-01-vendor")
    page.goto("/api/docs")  # the staff docs: through the admin login first
    page.get_by_label("用户名").fill("root")
    page.get_by_label("密码").fill("root-password-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/api/docs$"))
    page.locator(".opblock").first.wait_for()
    shot(page, "docs-02-staff")

    foreign = [url for url in requested if not url.startswith((live_server.url, "data:"))]
    assert foreign == []
    assert any(url.endswith("swagger-ui-bundle.js") for url in requested)
