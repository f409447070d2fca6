"""The awkward place names in a real Chromium at phone width (Debian's package through
Playwright's executable path, as ``test_portal_in_chromium``): typed into the request form
("上海市浦东新区", "北京市朝阳区", "杭州市上城区", "朝阳区" with 北京 chosen, "帝都"), each
gets a useful answer and no page answers 500; the 省/市/区 choices load their next level
through htmx under the site's CSP. Screenshots in ``test-artifacts/browser/places-*.png``."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from tests.browser.test_portal_in_chromium import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    pytestmark,  # noqa: F401  (the same skip when chromium is missing, a transactional db)
)
from tests.factories import policyholder_login

OUTPATIENT = "pingan.health.outpatient_assist"


@pytest.fixture
def browser_page(live_server, catalogue):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    policy = policy_with_members(
        number="BROWSER-PLACES-1",
        product="pingan.health",
        members=[("王一", date(1985, 1, 1), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000095"},
    )
    client = Client()
    policyholder_login(client, policy.holder)  # a bound account; its session goes to Chromium
    session = client.cookies["sessionid"].value
    url = reverse("portal:request_new", args=[policy.members.get(ref="M1").pk, OUTPATIENT])
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
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.failures = []  # answers of 500 and up, and CSP refusals in the console
        page.on(
            "response",
            lambda r: r.status >= 500 and page.failures.append(f"{r.status} {r.url}"),
        )
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and page.failures.append(m.text),
        )
        page.form_url = url
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"places-{name}.png"), full_page=True)


def open_form(page) -> None:
    """The form, once htmx has taken charge of the picker (a choice made before would post
    nothing: the page looks ready to the user a moment before it is)."""
    page.goto(page.form_url)
    picker_ready(page)


def picker_ready(page) -> None:
    """htmx has taken charge of the (new) picker: its handlers are on."""
    page.wait_for_function(
        "() => window.htmx && document.querySelector('#place-picker')['htmx-internal-data']"
    )


def check(page, typed: str) -> None:
    open_form(page)
    page.get_by_label("直接输入服务所在城市").fill(typed)
    page.get_by_role("button", name="检查是否符合条件").click()
    page.wait_for_load_state()


def test_awkward_place_names_get_useful_answers_at_phone_width(browser_page):
    page = browser_page
    for number, typed in enumerate(("上海市浦东新区", "北京市朝阳区", "杭州市上城区"), start=1):
        check(page, typed)
        assert page.get_by_text("符合申请条件").is_visible(), typed
        assert page.get_by_label("直接输入服务所在城市").input_value() == typed
        shot(page, f"0{number}-{typed}")

    check(page, "帝都")
    error = page.locator(".field__error")
    assert "无法识别“帝都”" in error.inner_text()
    assert "context.region" not in page.content()
    shot(page, "04-帝都")

    check(page, "朝阳区")  # alone: the places it could mean
    assert "北京市朝阳区" in page.locator(".field__error").inner_text()
    shot(page, "05-朝阳区")

    # 朝阳区 typed with 北京 chosen in the picker: 北京市朝阳区
    open_form(page)
    with page.expect_response(lambda r: "/places/" in r.url and "province=110000" in r.url):
        page.get_by_label("省份").select_option(label="北京市")  # htmx asks for the cities
    page.locator('#id_city option[value="110000"]').wait_for(state="attached")  # and swaps
    page.get_by_label("直接输入服务所在城市").fill("朝阳区")
    page.get_by_role("button", name="检查是否符合条件").click()
    page.wait_for_load_state()
    assert page.get_by_text("符合申请条件").is_visible()
    shot(page, "06-朝阳区-北京")

    # the picker alone, down to the district, through htmx
    open_form(page)
    with page.expect_response(lambda r: "/places/" in r.url and "province=330000" in r.url):
        page.get_by_label("省份").select_option(label="浙江省")
    page.locator('#id_city option[value="330100"]').wait_for(state="attached")
    picker_ready(page)
    with page.expect_response(lambda r: "/places/" in r.url and "city=330100" in r.url):
        page.get_by_label("城市", exact=True).select_option(label="杭州市")
    page.locator('#id_county option[value="330102"]').wait_for(state="attached")
    picker_ready(page)
    page.get_by_label("区县").select_option(label="上城区")
    shot(page, "07-picker")
    page.get_by_role("button", name="检查是否符合条件").click()
    page.wait_for_load_state()
    assert page.get_by_text("符合申请条件").is_visible()
    assert page.get_by_label("区县").input_value() == "330102"
    shot(page, "08-picker-checked")

    # 我能在哪里用, from the form's link: the network's cities, searched on the phone
    page.get_by_role("link", name="我能在哪里用：查看可用城市与医院").click()
    page.get_by_label("查找城市").fill("杭州")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert page.get_by_text("浙江省 杭州市", exact=True).is_visible()  # not 建德市 under it
    shot(page, "09-where-杭州")

    assert page.failures == []
