"""The portal in a real Chromium (Debian's package, driven by Playwright through its
executable path) at phone width: log in with the SMS code from the outbox, bind the ID
number, see the benefits, request a service, upload a PDF, see it on the timeline, cancel.
Screenshots of every step are kept in ``test-artifacts/screenshots/flow/`` (CI keeps
``test-artifacts/`` as an artifact; git ignores it)."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from bookings.models import ServiceRequest, Status
from portal.management.commands.load_demo import DEMO_PHONE, HOLDER
from portal.models import SmsMessage
from tests.factories import MINIMAL_PDF

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "flow"
# Flags for a root, offline machine: no sandbox, no background calls to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]


@pytest.fixture
def page(live_server, settings, tmp_path):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between steps are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=live_server.url,
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_log_in_request_upload_and_cancel_at_phone_width(page, catalogue, tmp_path):
    call_command("load_demo", stdout=io.StringIO())

    page.goto("/")
    assert "/login/" in page.url  # anonymous visitors are sent to log in
    page.get_by_label("手机号").fill(DEMO_PHONE)
    shot(page, "01-login")
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url(re.compile(r"/login/code/"))
    code = re.search(r"\d{6}", SmsMessage.objects.latest("id").body).group(0)
    # The countdown's inline script ran under the CSP: the resend button waits its seconds.
    assert page.get_by_role("button", name="重新获取验证码").is_disabled()
    assert page.get_by_text("秒后可重新获取验证码").is_visible()
    page.get_by_label("验证码").fill(code)
    shot(page, "02-code")
    page.get_by_role("button", name="登录").click()

    page.wait_for_url(re.compile(r"/login/bind/"))
    page.get_by_label("证件号码").fill(HOLDER.id_number)
    shot(page, "03-bind")
    page.get_by_role("button", name="验证并继续").click()

    # The separate consent to process health information (PIPL art. 29), asked once.
    page.wait_for_url(re.compile(r"/privacy/consent/"))
    assert page.get_by_text("接收健康信息的服务商").is_visible()
    shot(page, "03b-consent")
    page.get_by_role("button", name="同意处理我的健康信息").click()

    page.wait_for_url(re.compile(r"/$"))
    # One screen per member and policy; choose the holder on the 平安 policy.
    chooser = page.get_by_role("navigation", name="选择保单和被保险人")
    chooser.get_by_role("link", name="王小明").nth(1).click()
    page.wait_for_url(re.compile(r"\?member="))
    assert page.get_by_text("保单号 DEMO-PA-0001").is_visible()
    outpatient = page.locator("li.tile", has_text="门诊协助").first
    assert "剩余1次（共1次）" in outpatient.inner_text()
    shot(page, "04-benefits")
    outpatient.get_by_role("link", name="门诊协助").click()
    assert page.get_by_role("heading", name="剩余额度").is_visible()
    page.get_by_role("link", name="申请服务").click()
    page.get_by_label("服务所在城市").fill("上海市")
    page.get_by_role("button", name="检查是否符合条件").click()
    assert page.get_by_text("符合申请条件").is_visible()
    shot(page, "05-request-checked")
    page.get_by_role("button", name="提交申请").click()

    page.wait_for_url(re.compile(r"/requests/SR"))
    assert page.get_by_text("申请已提交").is_visible()
    pdf = tmp_path / "门诊病历.pdf"
    pdf.write_bytes(MINIMAL_PDF)
    page.get_by_label("选择文件").set_input_files([str(pdf)])
    page.get_by_role("button", name="上传资料").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="门诊病历.pdf").is_visible()
    assert page.locator("ol.timeline").get_by_text("提交申请").is_visible()
    shot(page, "06-request-with-record")

    page.get_by_role("link", name="取消申请").click()
    assert page.get_by_text("现在取消不扣减权益次数").is_visible()
    shot(page, "07-cancel-consequence")
    page.get_by_role("button", name="确认取消").click()
    page.wait_for_url(re.compile(r"/requests/SR"))
    assert page.get_by_text("已取消").first.is_visible()
    shot(page, "08-cancelled")
    request = ServiceRequest.objects.get()
    assert request.status == Status.CANCELLED
    assert request.documents.get().display_name == "门诊病历.pdf"
