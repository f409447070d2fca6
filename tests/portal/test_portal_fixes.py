"""Issue 15's fixes, as a policyholder meets them: Chinese error pages in the portal's layout
(JSON under /api/), the favicon, checkboxes beside their labels, colours that say what a
message means, the resend countdown and the preset cancellation reasons."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from bookings.models import ServiceRequest, Status
from portal.kernel.errors import DomainError
from portal.models import OneTimeCode
from portal.pages.otp import MAX_FAILED_ATTEMPTS, otp_request, otp_verify, resend_wait
from portal.site import errors
from tests.factories import policyholder_login
from tests.portal.test_hardening import csp_directives
from tests.portal.test_login import wrong
from tests.portal.test_portal_pages import family, submit

CSS = Path(finders.find("portal/portal.css")).read_text(encoding="utf-8")


def css_rule(selector: str) -> dict[str, str]:
    """The declarations of the stylesheet's rule for exactly ``selector`` (the last one)."""
    found: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        names = [
            " ".join(s.split()) for s in re.sub(r"/\*.*?\*/", "", selectors, flags=re.S).split(",")
        ]
        if selector in names:
            for declaration in body.split(";"):
                if ":" in declaration:
                    key, value = declaration.split(":", 1)
                    found[key.strip()] = value.strip()
    assert found, f"no CSS rule for {selector}"
    return found


# --- error pages --------------------------------------------------------------------------


def test_an_unknown_portal_url_is_the_chinese_404_page_in_the_portal_layout(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.text
    assert "页面不存在" in page and "返回首页" in page
    assert 'class="topbar"' in page and "portal/portal.css" in page  # the portal's layout
    assert "Not Found" not in page


@pytest.mark.django_db
def test_an_unknown_api_url_answers_json_not_a_page(client):
    response = client.get("/api/staff/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "未找到"}


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/broken/", 500, "系统出现错误"),
        ("/forbidden/", 403, "没有访问权限"),
        ("/suspicious/", 400, "请求无法处理"),
    ],
)
def test_errors_are_chinese_pages_in_the_portal_layout(url, status, title):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == status
    assert title in response.text and 'class="topbar"' in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text


@override_settings(ROOT_URLCONF="tests.portal.error_urls")
@pytest.mark.django_db
def test_an_api_error_that_escapes_the_api_is_json_500():
    response = Client(raise_request_exception=False).get("/api/broken/")
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "message": "服务器内部错误，请稍后重试"}


def test_the_500_page_needs_neither_the_database_nor_the_request_context():
    # No django_db mark: any query here fails the test ("Database access not allowed").
    request = RequestFactory().get("/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = errors.server_error(request)
    assert response.status_code == 500
    assert "系统出现错误" in response.content.decode()


# --- favicon -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_favicon_is_linked_and_favicon_ico_redirects_to_it(client):
    login = client.get(reverse("portal:login"))
    assert '<link rel="icon" href="/static/portal/favicon.svg" type="image/svg+xml">' in login.text
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/portal/favicon.svg")
    icon = Path(finders.find("portal/favicon.svg")).read_text(encoding="utf-8")
    assert icon.startswith("<svg") and 'viewBox="0 0 32 32"' in icon


# --- checkboxes beside their labels ----------------------------------------------------------


@pytest.mark.django_db
def test_unsuitable_conditions_are_checkboxes_beside_their_labels_under_a_clear_heading(client):
    policy = policy_with_members(
        number="FIX-DMM-1",
        product="manulife.dmm",
        members=[("赵三", date(1970, 3, 3), "self")],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000701"},
    )
    policyholder_login(client, policy.holder)
    member = policy.members.get()
    page = client.get(
        reverse("portal:request_new", args=[member.pk, "manulife.dmm.proton_heavy_ion"])
    )
    assert page.status_code == 200
    text = page.text
    assert '<legend class="field__label">以下情况不在服务范围内，如有请勾选</legend>' in text
    # each box inside its own label, before the text: beside it, not a full-width box above
    assert re.search(r'<label class="choice" for="id_conditions_0"><input type="checkbox"', text)
    box = css_rule('.field input[type="checkbox"]')
    assert box["width"] == "1.375rem" and box["display"] == "inline-block"
    assert css_rule(".choice")["display"] == "flex"


# --- colours by meaning ------------------------------------------------------------------------


def test_the_stylesheet_colours_success_green_warning_amber_error_red():
    assert css_rule(":root")["--success"] == "#067647"
    assert css_rule(":root")["--warning-surface"] == "#fffaeb"
    for kind, colour in (("ok", "success"), ("warning", "warning"), ("error", "danger")):
        assert css_rule(f".alert--{kind}")["color"] == f"var(--{colour})"
    assert css_rule(".message--success")["color"] == "var(--success)"
    assert css_rule(".message--warning")["background"] == "var(--warning-surface)"
    # what is left is green; a used-up pool is plain grey words, neither green nor alarming
    assert css_rule(".tile__left")["color"] == "var(--success)"
    assert css_rule(".tile__left--empty")["color"] == "var(--muted)"
    destructive = css_rule(".button--destructive")
    assert (destructive["color"], destructive["background"]) == ("var(--danger)", "var(--surface)")
    # the white outline button is the green top bar's only
    assert ".button--quiet {" not in CSS.replace(".topbar .button--quiet {", "")


@pytest.fixture
def owner(client, db):
    policy = family("FIX-1", "13800000702")
    policyholder_login(client, policy.holder)
    return policy


def test_a_used_up_pool_is_not_green_and_the_cancel_button_is_visible(client, owner):
    request = submit(owner)
    home = client.get(reverse("portal:home")).text
    assert '<p class="tile__left tile__left--empty">本年度已用完 <span class="tile__tag">' in home
    detail = client.get(reverse("portal:request_detail", args=[request.ref])).text
    cancel_url = reverse("portal:request_cancel", args=[request.ref])
    assert f'<a class="button button--destructive" href="{cancel_url}">取消申请</a>' in detail


def test_a_passing_check_is_a_green_alert(client, owner):
    member = owner.members.get(ref="M1")
    url = reverse("portal:request_new", args=[member.pk, "pingan.health.outpatient_assist"])
    key = client.get(url).context["form"].initial["submission_key"]
    check = client.post(url, {"submission_key": key, "region": "上海市", "check": "1"})
    assert '<div class="alert alert--ok" role="status"><strong>符合申请条件。' in check.text


# --- the resend countdown -------------------------------------------------------------------


def code_page(client, phone: str) -> str:
    client.post(reverse("portal:login"), {"phone": phone})
    return client.get(reverse("portal:login_code")).text


@pytest.mark.django_db
def test_the_code_page_counts_down_the_servers_seconds_before_a_resend(client):
    page = client.get(reverse("portal:login_code"))  # no phone yet: back to the first step
    assert page.status_code == 302
    text = code_page(client, "13800000703")
    seconds = int(re.search(r'data-resend-wait="(\d+)"', text).group(1))
    assert 55 <= seconds <= 60
    # stated without JavaScript
    assert f"<span data-resend-seconds>{seconds}</span> 秒后可重新获取验证码" in text
    # the script carries this response's CSP nonce
    response = client.get(reverse("portal:login_code"))
    nonce = re.search(r'<script nonce="([^"]+)">', response.text).group(1)
    assert f"'nonce-{nonce}'" in csp_directives(response)["script-src"]
    # a minute later the button works and neither countdown nor script is there
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    later = client.get(reverse("portal:login_code")).text
    assert "data-resend-wait" not in later and "<script" not in later
    assert "重新获取验证码" in later


@pytest.mark.django_db
def test_a_locked_phone_shows_the_minutes_left():
    phone, now = "13800000704", timezone.now()
    otp_request(phone, None, now=now - timedelta(minutes=2))
    for _attempt in range(MAX_FAILED_ATTEMPTS):  # each wrong code raises; the last one locks
        with pytest.raises(DomainError):
            otp_verify(phone, wrong("000000"), None, now=now)
    assert resend_wait(phone, now=now) == 15 * 60
    assert resend_wait("13800000705", now=now) == 0


# --- cancellation reasons -------------------------------------------------------------------


def test_the_cancel_page_offers_common_reasons_and_records_the_chosen_one(client, owner):
    request = submit(owner)
    url = reverse("portal:request_cancel", args=[request.ref])
    page = client.get(url).text
    assert '<legend class="field__label">取消原因</legend>' in page
    for label in ("时间冲突", "已自行就医", "不再需要", "其他"):
        assert re.search(
            rf'<input type="radio" name="preset" value="\w+"[^>]*>'
            rf'<span class="choice__label">{label}</span>',
            page,
        )
    assert '<div class="alert alert--info" role="status">' in page  # nothing is lost: not red
    client.post(url, {"preset": "schedule_conflict", "reason": "改天再约"})
    request.refresh_from_db()
    assert request.status == Status.CANCELLED
    timeline = client.get(reverse("portal:request_detail", args=[request.ref])).text
    assert "取消申请（客户本人取消）：时间冲突，改天再约" in timeline


def test_other_needs_a_few_words_and_cancels_nothing_without_them(client, owner):
    request = submit(owner)
    url = reverse("portal:request_cancel", args=[request.ref])
    page = client.post(url, {"preset": "other", "reason": " "})
    assert page.status_code == 200
    assert "选择“其他”时请说明取消原因" in page.text
    assert ServiceRequest.objects.get(pk=request.pk).status != Status.CANCELLED
