"""Every portal page in Debian's chromium at phone size (390×844) and desktop size
(1280×800): a screenshot of each in ``test-artifacts/screenshots/<width>/`` (kept by CI as
an artifact, ignored by git), and axe-core run on each: no ``serious`` or ``critical``
violation anywhere.

axe-core is vendored as one file (``tests/browser/vendor/``, MPL-2.0, see
THIRD_PARTY_NOTICES.md) so the test needs no registry: CI may run offline."""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from benefits.models import Benefit, Person, Policy
from bookings.documents.services import document_add
from bookings.models import ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.management.commands.load_demo import DEMO_PHONE
from portal.models import PolicyholderAccount
from tests.browser.test_portal_in_chromium import CHROMIUM, CHROMIUM_ARGS
from tests.factories import MINIMAL_PDF, OUTPATIENT_ASSIST, outpatient_request, policyholder_login

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
VIEWPORTS = {"390": (390, 844), "1280": (1280, 800)}
BLOCKING = ("serious", "critical")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 110, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


def _world() -> dict[str, str]:
    """The demo family with an open request (a PDF and a photo attached), a completed one
    to rate; returns the session cookies of the holder and of a not yet bound account."""
    call_command("load_demo", stdout=io.StringIO())
    holder = Person.objects.get(phone=DEMO_PHONE)
    policy = Policy.objects.get(number="DEMO-PA-0001")
    browser = Client()
    user = policyholder_login(browser, holder)
    actor = Actor(user=user, label="policyholder")
    open_one = outpatient_request(policy=policy, member_ref="M1", at=timezone.now())
    document_add(open_one, name="门诊病历.pdf", data=MINIMAL_PDF, actor=actor)
    document_add(open_one, name="处方照片.png", data=_png(), actor=actor)
    # A service delivered earlier (the family pool is held by the open one): to rate.
    spouse = policy.members.get(ref="M2")
    done = ServiceRequest.objects.create(
        ref="SRWALKDONE01",
        policy=policy,
        member=spouse,
        recipient=spouse,
        benefit=Benefit.objects.get(code="pingan.health.escort"),
        status=Status.COMPLETED,
        vendor=Benefit.objects.get(code="pingan.health.escort").vendor,
        hospital="复旦大学附属华山医院",
        created_at=timezone.now() - timedelta(days=3),
    )
    unbound = Client()
    new_user = _user("walk-unbound")
    PolicyholderAccount.objects.create(user=new_user, phone="13900009999")
    unbound.force_login(new_user)
    name = django_settings.SESSION_COOKIE_NAME
    member = policy.members.get(ref="M2")
    return {
        "holder": browser.cookies[name].value,
        "unbound": unbound.cookies[name].value,
        "open_ref": open_one.ref,
        "done_ref": done.ref,
        "member": str(policy.members.get(ref="M1").pk),
        "other_member": str(member.pk),
    }


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username)


def _pages(world: dict[str, str]) -> list[tuple[str, str, str]]:
    """(screenshot name, who, path): every page of the portal."""
    member, other = world["member"], world["other_member"]
    return [
        ("01-login", "anonymous", "/login/"),
        ("02-bind", "unbound", "/login/bind/"),
        ("03-home", "holder", "/"),
        ("04-home-other-member", "holder", f"/?member={other}"),
        ("05-benefit", "holder", f"/members/{member}/benefits/{OUTPATIENT_ASSIST}/"),
        ("06-request-form", "holder", f"/members/{other}/benefits/pingan.health.escort/request/"),
        ("07-requests", "holder", "/requests/"),
        ("08-request-open", "holder", f"/requests/{world['open_ref']}/"),
        ("09-request-done-rate", "holder", f"/requests/{world['done_ref']}/"),
        ("10-cancel", "holder", f"/requests/{world['open_ref']}/cancel/"),
        ("11-notifications", "holder", "/notifications/"),
        ("12-not-found", "holder", "/no-such-page/"),
        ("14-where", "holder", "/where/"),
        ("15-where-benefit", "holder", f"/where/{OUTPATIENT_ASSIST}/"),
        ("16-consent", "holder", "/privacy/consent/"),
        ("17-complaints", "holder", "/complaints/"),
        ("18-complaint-new", "holder", "/complaints/new/"),
    ]


def _audit(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
    return [v for v in json.loads(result) if v["impact"] in BLOCKING]


def test_every_page_at_phone_and_desktop_width_has_no_serious_axe_violation(
    live_server, settings, catalogue
):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    world = _world()
    problems: dict[str, list[dict]] = {}
    heights: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width_name, (width, height) in VIEWPORTS.items():
            folder = SCREENSHOTS / width_name
            folder.mkdir(parents=True, exist_ok=True)
            contexts = {}
            for who in ("anonymous", "unbound", "holder"):
                # bypass_csp: axe is injected as an inline script, which the CSP refuses.
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    is_mobile=width < 600,
                    has_touch=width < 600,
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                    base_url=live_server.url,
                    bypass_csp=True,
                )
                if who in world:
                    context.add_cookies(
                        [
                            {
                                "name": settings.SESSION_COOKIE_NAME,
                                "value": world[who],
                                "url": live_server.url,
                            }
                        ]
                    )
                contexts[who] = context
            for name, who, path in _pages(world):
                page = contexts[who].new_page()
                response = page.goto(path)
                assert response is not None
                expected = 404 if name == "12-not-found" else 200
                assert response.status == expected, (name, path, response.status, page.url)
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
                heights[f"{width_name}/{name}"] = page.evaluate(
                    "document.documentElement.scrollHeight"
                )
                found = _audit(page)
                if found:
                    problems[f"{width_name}/{name}"] = found
                page.close()
            # a form posted without its token: the Chinese CSRF page, in the layout
            page = contexts["holder"].new_page()
            page.goto("/requests/")
            with page.expect_navigation():
                page.evaluate(
                    "() => { const f = document.createElement('form'); f.method = 'post';"
                    " f.action = '/logout/'; document.body.append(f); f.submit(); }"
                )
            assert "页面已过期" in page.content()
            page.screenshot(path=str(folder / "13-csrf-failure.png"), full_page=True)
            if found := _audit(page):
                problems[f"{width_name}/13-csrf-failure"] = found
            page.close()
            for context in contexts.values():
                context.close()
        browser.close()
    (SCREENSHOTS / "heights.json").write_text(json.dumps(heights, indent=1, ensure_ascii=False))
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
