"""The benefit terms form in a real Chromium: django-jsonform's scripts load from our static
files and run under the Content-Security-Policy, the stored terms appear as fields, and
saving without touching anything changes nothing (the form's filled-in blanks are dropped
again, so no diff is asked for)."""

from __future__ import annotations

import re

from django.urls import reverse

from benefits.models import Benefit
from tests.browser.test_portal_in_chromium import (
    page,  # noqa: F401  (fixture)
    shot,
)
from tests.browser.test_portal_in_chromium import pytestmark as chromium_marks
from tests.factories import staff_member

pytestmark = chromium_marks

BENEFIT = "manulife.dmm.inpatient_carer"


def test_the_terms_form_renders_under_the_csp_and_saves_unchanged(page, catalogue):  # noqa: F811
    user = staff_member("supervisor", insurers=["manulife"])
    user.set_password("a-long-password-1")
    user.save()
    benefit = Benefit.objects.get(code=BENEFIT)
    before = dict(benefit.terms)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(reverse("admin:login"))
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("a-long-password-1")
    page.get_by_role("button", name="登录").click()
    page.goto(reverse("admin:benefits_benefit_change", args=[benefit.pk]))

    form = page.locator(".rjf-form-wrapper")
    form.wait_for()
    assert "次数与额度" in form.inner_text()
    assert "使用规则" in form.inner_text()
    # the widget's own buttons are relabelled in Chinese, also those drawn later
    assert "添加一项" in form.inner_text() and "Add item" not in form.inner_text()
    assert page.locator(".rjf-form-wrapper [title='Remove']").count() == 0
    shot(page, "admin-terms-form")
    assert not [p for p in problems if "Content Security Policy" in p or "Error" in p]

    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/benefits/benefit/$"))
    benefit.refresh_from_db()
    assert benefit.terms == before
