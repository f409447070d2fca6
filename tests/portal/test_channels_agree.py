"""Acceptance: the staff API, the portal and submission give the same answer for the same
facts. Each case of the table is a use of a benefit after a history made through the
channels themselves (the hotline's staff request API, the vendor API's deliverables), and is
asked of every channel:

1. the staff eligibility API (POST /api/staff/v1/eligibility);
2. the portal: the overview line of the member and benefit on 我的权益 (usable or not, the
   reasons, the date it can be applied for) and, where the case names the use, the request
   form's check as the logged-in policyholder;
3. submission: the hotline's POST /api/staff/v1/requests and the portal form's submit (each
   undone afterwards, so every channel answers on the same history).

Every channel must answer the same outcome with the same reason codes or missing facts:
submission 201 when eligible, 422 ``not_eligible`` with the codes, 422 ``incomplete`` with
the facts. Then the query budgets: the staff API and the overview cost the same number of
queries for a family of one and of eight, and for a short and a long history."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benefits.demo import policy_with_members
from benefits.models import Benefit, Delivery, Policy, PolicyMember, Vendor
from bookings.models import ServiceRequest, Status
from bookings.vendors.services import vendor_token_issue
from coverage.models import Region
from portal.kernel.memo import Memo
from portal.kernel.staff_auth import staff_token_issue
from tests.benefits.eligibility_support import ledger
from tests.clock import Clock, at
from tests.factories import MINIMAL_PDF, policyholder_login, staff_member

pytestmark = pytest.mark.django_db

ELIGIBILITY = "/api/staff/v1/eligibility"
REQUESTS = "/api/staff/v1/requests"
VENDOR = "/api/vendor/v1"
_keys = itertools.count(1)
_serial = itertools.count(1)
_phones = itertools.count(13900000001)


@pytest.fixture(autouse=True)
def fresh_state(settings, tmp_path):
    # Reference-data memos and the vendor API's throttle outlive a test's transaction.
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    Memo.clear_all()
    cache.clear()
    yield
    Memo.clear_all()
    cache.clear()


# --- the channels -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a channel said, in the terms every channel shares."""

    outcome: str  # eligible / ineligible / incomplete
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    next_eligible_on: date | None = None


def key() -> str:
    return f"agree-{next(_keys)}"


class Hotline:
    """A staff agent (管理员 of every insurer) with a Bearer token: the eligibility API, the
    request API and its events, as the hotline system calls them."""

    def __init__(self) -> None:
        self.user = staff_member("admin")
        self.token = staff_token_issue(user=self.user, name="热线系统")[1]
        self.client = Client()

    def post(self, path: str, body: dict[str, Any], idempotency: bool = True) -> Any:
        headers = {"authorization": f"Bearer {self.token}"}
        if idempotency:
            headers["Idempotency-Key"] = key()
        return self.client.post(
            path, json.dumps(body), content_type="application/json", headers=headers
        )

    def eligibility(self, policy: Policy, member: str, benefit: str, when: datetime, context):
        body = {
            "policy": policy.number,
            "member": member,
            "benefit": benefit,
            "at": when.isoformat(),
            "context": context,
        }
        return self.post(ELIGIBILITY, body, idempotency=False)

    def submit(self, policy: Policy, member: str, benefit: str, context, option: str = ""):
        body = {
            "policy": policy.number,
            "member": member,
            "benefit": benefit,
            "context": context,
            "channel": "hotline",
            "option": option,
        }
        return self.post(REQUESTS, body)

    def event(self, ref: str, event: str, **fields: Any) -> dict[str, Any]:
        response = self.post(f"{REQUESTS}/{ref}/events", {"event": event, **fields})
        assert response.status_code == 200, (event, response.json())
        return response.json()


class VendorApi:
    """A vendor's system uploading a deliverable through the vendor API."""

    def __init__(self, code: str) -> None:
        self.vendor = Vendor.objects.get(code=code)
        self.token = vendor_token_issue(vendor=self.vendor, name=f"{code}系统")[1]
        self.client = Client()

    def deliver(self, ref: str, name: str) -> None:
        response = self.client.post(
            f"{VENDOR}/requests/{ref}/deliverables",
            data={
                "file": SimpleUploadedFile(name, MINIMAL_PDF, "application/pdf"),
                "requirement": name,
            },
            headers={"authorization": f"Bearer {self.token}", "Idempotency-Key": key()},
        )
        assert response.status_code == 201, response.json()


@dataclass
class World:
    clock: Clock
    hotline: Hotline
    portal: Client

    def submitted(
        self, policy: Policy, member: str, benefit: str, when: datetime, context, option=""
    ) -> str:
        """A request the hotline submitted at ``when`` (it must be accepted)."""
        self.clock.set(when)
        response = self.hotline.submit(policy, member, benefit, context, option)
        assert response.status_code == 201, response.json()
        return response.json()["ref"]

    def completed(
        self,
        policy: Policy,
        member: str,
        benefit: str,
        when: datetime,
        context,
        option: str = "",
        deliverable: str = "",
    ) -> str:
        """A request submitted, approved, assigned to the benefit's vendor, scheduled,
        started and completed at ``when`` through the hotline; the vendor uploads
        ``deliverable`` after the completion when given."""
        ref = self.submitted(policy, member, benefit, when, context, option)
        vendor = Benefit.objects.get(code=benefit).vendor
        self.hotline.event(ref, "approve")
        self.hotline.event(ref, "assign", vendor=vendor.code)
        self.hotline.event(ref, "schedule", at=when.isoformat())
        self.hotline.event(ref, "start")
        done = self.hotline.event(ref, "complete")
        assert (done["status"], done["quota_outcome"]) == ("completed", "used")
        if deliverable:
            VendorApi(vendor.code).deliver(ref, f"{deliverable}.pdf")
        return ref


# --- the table ----------------------------------------------------------------------------

Members = tuple[tuple[str, date, str], ...]
ADULT: Members = (("王一", date(1985, 1, 1), "self"),)
PARENT_AND_CHILD: Members = (
    ("李一", date(1985, 1, 1), "self"),
    ("李小宝", date(2017, 3, 1), "child"),
)


def nothing(world: World, policy: Policy) -> None:
    """No history."""


@dataclass(frozen=True)
class Case:
    id: str
    clause: str  # the handbook clause the case is about
    product: str
    benefit: str
    at: datetime  # the moment of the application
    expected: Answer
    history: Callable[[World, Policy], None] = nothing
    member: str = "M1"
    members: Members = ADULT
    effective_on: date = date(2026, 1, 2)
    expires_on: date | None = None
    home_city: str | None = "110105"
    # The use, as the staff API's and the hotline's ``context`` take it.
    context: dict[str, Any] = field(default_factory=dict)
    option: str = ""
    # The same use as the portal form's fields; None: the form is not asked.
    form: dict[str, str] | None = None
    # What the portal form asks for instead of a verdict (a required field left empty).
    form_field_required: str = ""

    def policy(self) -> Policy:
        return policy_with_members(
            number=f"AGREE-{next(_serial):04d}",  # a policy number has 40 characters at most
            product=self.product,
            members=list(self.members),
            effective_on=self.effective_on,
            expires_on=self.expires_on,
            phones={0: str(next(_phones))},
            home_city=Region.objects.get(code=self.home_city) if self.home_city else None,
        )


KIDS_DENTAL = "manulife.hywj.kids_dental"
DENTAL_CLINIC = "北京某儿童齿科诊所"
DENTAL_CONTEXT = {"hospital": DENTAL_CLINIC}
DENTAL_FORM = {"option": "fluoride_varnish", "hospital": DENTAL_CLINIC}


def dental_taken_in_year_1(world: World, policy: Policy) -> None:
    """全口涂氟 chosen and done for the child in policy year 1 (2025-01-02 – 2026-01-01)."""
    world.completed(
        policy, "M2", KIDS_DENTAL, at(2025, 6, 2, 10), DENTAL_CONTEXT, option="fluoride_varnish"
    )


def dental_cancelled_in_year_1(world: World, policy: Policy) -> None:
    """窝沟封闭 chosen in year 1, then cancelled before the visit: the hold is released."""
    ref = world.submitted(
        policy, "M2", KIDS_DENTAL, at(2025, 6, 2, 10), DENTAL_CONTEXT, "pit_fissure_sealing"
    )
    cancelled = world.hotline.event(ref, "cancel", reason="家长改期，暂不需要", cause="member")
    assert (cancelled["status"], cancelled["quota_outcome"]) == ("cancelled", "released")


DMM_GUIDE = "manulife.dmm.post_discharge_care.guide"
HOME_GUIDANCE = "manulife.dmm.post_discharge_care.home_guidance"
DMM_STAY = {"admitted_on": "2026-03-20", "discharged_on": "2026-03-28"}
DMM_DIAGNOSIS = {"disease": "肺恶性肿瘤", "confirmed": True, "diagnosed_on": "2026-03-21"}
DMM_CONTEXT = {"hospitalisation": DMM_STAY, "diagnosis": DMM_DIAGNOSIS}
DMM_FORM = {
    "admitted_on": "2026-03-20",
    "discharged_on": "2026-03-28",
    "disease": "肺恶性肿瘤",
    "confirmed": "1",
    "diagnosed_on": "2026-03-21",
}


def home_guidance_three_uses(world: World, policy: Policy) -> None:
    """The 《居家康护指导书》 delivered, then 上门康复指导 three times, monthly, inside the
    3-month window the first visit (2026-04-01) opened."""
    world.completed(
        policy, "M1", DMM_GUIDE, at(2026, 3, 25, 10), DMM_CONTEXT, deliverable="居家康护指导书"
    )
    for month in (4, 5, 6):
        world.completed(policy, "M1", HOME_GUIDANCE, at(2026, month, 1, 10), DMM_CONTEXT)


def home_guidance_used(*months: int):
    """The 指导书 delivered, then 上门康复指导 on the first of each of ``months``."""

    def history(world: World, policy: Policy) -> None:
        world.completed(
            policy, "M1", DMM_GUIDE, at(2026, 3, 25, 10), DMM_CONTEXT, deliverable="居家康护指导书"
        )
        for month in months:
            world.completed(policy, "M1", HOME_GUIDANCE, at(2026, month, 1, 10), DMM_CONTEXT)

    return history


REHAB_GUIDE = "xiaokang.rsyj.rehab_guide"
HOME_REHAB = "xiaokang.rsyj.home_rehab_visit"
XK_STAY = {"admitted_on": "2026-03-01", "discharged_on": "2026-03-15"}
GUIDE_CONTEXT = {"hospitalisation": XK_STAY, "planned_at": "2026-03-04T10:00:00+08:00"}
VISIT_CONTEXT = {
    "hospitalisation": XK_STAY,
    "planned_at": "2026-03-16T10:00:00+08:00",
    "region": "110105",
}
VISIT_FORM = {
    "planned_at": "2026-03-16T10:00",
    "region": "110105",
    "admitted_on": "2026-03-01",
    "discharged_on": "2026-03-15",
}


def guide_approved(world: World, policy: Policy) -> None:
    ref = world.submitted(policy, "M1", REHAB_GUIDE, at(2026, 3, 3, 10), GUIDE_CONTEXT)
    assert world.hotline.event(ref, "approve")["status"] == "approved"


def guide_completed_without_document(world: World, policy: Policy) -> None:
    world.completed(policy, "M1", REHAB_GUIDE, at(2026, 3, 3, 10), GUIDE_CONTEXT)
    assert not Delivery.objects.filter(policy=policy).exists()  # the guide is not handed over


def guide_completed_with_document(world: World, policy: Policy) -> None:
    world.completed(
        policy,
        "M1",
        REHAB_GUIDE,
        at(2026, 3, 3, 10),
        GUIDE_CONTEXT,
        deliverable="院后居家康护指导书",
    )
    assert Delivery.objects.filter(policy=policy, benefit__code=REHAB_GUIDE).count() == 1


ESCORT = "pingan.health.escort"
OUTPATIENT = "pingan.health.outpatient_assist"
CONSULT = "xiaokang.rsyj.medical_consult"

CASES = [
    Case(
        id="kids-dental-taken-in-year-1-refused-in-year-1",
        clause="004 四、(一) 每一个保单年度享受如下 3 选 1 服务，不可兼得；儿童齿科服务 1 次/年",
        product="manulife.hywj",
        benefit=KIDS_DENTAL,
        members=PARENT_AND_CHILD,
        member="M2",
        effective_on=date(2025, 1, 2),
        expires_on=date(2027, 1, 1),
        history=dental_taken_in_year_1,
        at=at(2025, 9, 1, 10),
        context={**DENTAL_CONTEXT, "variant": "milk_tooth_extraction"},
        option="milk_tooth_extraction",
        form={**DENTAL_FORM, "option": "milk_tooth_extraction"},
        expected=Answer("ineligible", ("quota_exhausted", "exclusive_choice_used")),
    ),
    Case(
        id="kids-dental-taken-in-year-1-eligible-in-year-2",
        clause="004 四、(一) 在每一个保单年度享受如下 3 选 1 服务（选择只在当年度有效）",
        product="manulife.hywj",
        benefit=KIDS_DENTAL,
        members=PARENT_AND_CHILD,
        member="M2",
        effective_on=date(2025, 1, 2),
        expires_on=date(2027, 1, 1),
        history=dental_taken_in_year_1,
        at=at(2026, 3, 2, 10),
        context={**DENTAL_CONTEXT, "variant": "fluoride_varnish"},
        option="fluoride_varnish",
        form=DENTAL_FORM,
        expected=Answer("eligible"),
    ),
    Case(
        id="kids-dental-choice-cancelled-free-does-not-count",
        clause="004 四、(一) 3 选 1，不可兼得（取消且返还额度的选择不算已选）",
        product="manulife.hywj",
        benefit=KIDS_DENTAL,
        members=PARENT_AND_CHILD,
        member="M2",
        effective_on=date(2025, 1, 2),
        expires_on=date(2027, 1, 1),
        history=dental_cancelled_in_year_1,
        at=at(2025, 9, 1, 10),
        context={**DENTAL_CONTEXT, "variant": "fluoride_varnish"},
        option="fluoride_varnish",
        form=DENTAL_FORM,
        expected=Answer("eligible"),
    ),
    Case(
        id="home-guidance-three-uses-in-the-window-exhausted",
        clause="001 九、(一) 院后居家上门康复指导 每月1次，为期3个月；根据《居家康护指导书》",
        product="manulife.dmm",
        benefit=HOME_GUIDANCE,
        history=home_guidance_three_uses,
        at=at(2026, 6, 15, 10),
        context=DMM_CONTEXT,
        form=DMM_FORM,
        # both the 3 uses of the window and June's one request a month ("每月1次") are used
        expected=Answer("ineligible", ("quota_exhausted", "quota_exhausted")),
    ),
    Case(  # "每月1次": April's visit used, another in April is refused (window month 1)
        id="home-guidance-one-a-month-refused-in-the-same-month",
        clause="001 九、(一) 院后居家上门康复指导 每月1次，为期3个月",
        product="manulife.dmm",
        benefit=HOME_GUIDANCE,
        history=home_guidance_used(4),
        at=at(2026, 4, 20, 10),
        context=DMM_CONTEXT,
        form=DMM_FORM,
        expected=Answer("ineligible", ("quota_exhausted",)),
    ),
    Case(  # boundary: the window opened on 1 April, so 1 May begins its second month
        id="home-guidance-one-a-month-again-next-month",
        clause="001 九、(一) 院后居家上门康复指导 每月1次，为期3个月",
        product="manulife.dmm",
        benefit=HOME_GUIDANCE,
        history=home_guidance_used(4),
        at=at(2026, 5, 1, 10),
        context=DMM_CONTEXT,
        form=DMM_FORM,
        expected=Answer("eligible"),
    ),
    Case(
        id="home-rehab-guide-only-approved",
        clause="000 四、(三)1. 首先完成院后综合评估并定制院后居家康护指导书后，继续提供以下服务",
        product="xiaokang.rsyj",
        benefit=HOME_REHAB,
        history=guide_approved,
        at=at(2026, 3, 10, 10),
        context=VISIT_CONTEXT,
        form=VISIT_FORM,
        expected=Answer("ineligible", ("prerequisite_missing",)),
    ),
    Case(
        id="home-rehab-guide-completed-without-its-document",
        clause="000 四、(二)1.2 出具《院后居家康护指导书》；四、(三)1. 定制指导书后继续提供",
        product="xiaokang.rsyj",
        benefit=HOME_REHAB,
        history=guide_completed_without_document,
        at=at(2026, 3, 10, 10),
        context=VISIT_CONTEXT,
        form=VISIT_FORM,
        expected=Answer("ineligible", ("prerequisite_missing",)),
    ),
    Case(
        id="home-rehab-guide-delivered-with-the-vendors-document",
        clause="000 四、(三)1. 定制院后居家康护指导书后，继续提供以下服务",
        product="xiaokang.rsyj",
        benefit=HOME_REHAB,
        history=guide_completed_with_document,
        at=at(2026, 3, 10, 10),
        context=VISIT_CONTEXT,
        form=VISIT_FORM,
        expected=Answer("eligible"),
    ),
    Case(
        id="home-rehab-home-city-unknown-asks-for-it-to-be-recorded",
        clause="000 三、服务套餐 全国 331 城市市区范围；四、(三)2. d. 返回居住地进行康复",
        product="xiaokang.rsyj",
        benefit=HOME_REHAB,
        home_city=None,
        history=guide_completed_with_document,
        at=at(2026, 3, 10, 10),
        context=VISIT_CONTEXT,
        form=VISIT_FORM,
        # the network is the insured's home city, which the policy records (not the form)
        expected=Answer("incomplete", missing=("home_city",)),
    ),
    Case(
        id="escort-without-a-planned-time-is-incomplete",
        clause="003 陪诊 须至少提前 48 小时申请（lead_time 需要计划服务时间）",
        product="pingan.health",
        benefit=ESCORT,
        effective_on=date(2026, 1, 2),
        at=at(2026, 6, 1, 10),
        context={"region": "110105"},
        form={"region": "110105"},
        form_field_required="planned_at",
        expected=Answer("incomplete", missing=("planned_at",)),
    ),
    Case(
        id="outpatient-assist-inside-the-waiting-period",
        clause="003 等待期 生效日起30日内（含第30天）",
        product="pingan.health",
        benefit=OUTPATIENT,
        effective_on=date(2026, 2, 20),
        at=at(2026, 3, 2, 10),
        context={"region": "110105"},
        form={"region": "110105"},
        expected=Answer("ineligible", ("waiting_period",), next_eligible_on=date(2026, 3, 22)),
    ),
    Case(
        id="medical-consult-inside-the-cooling-off-period",
        clause="000 二、服务有效期：保单生效日起 1年（过犹豫期）；五、3 申请条件 ① 过犹豫期",
        product="xiaokang.rsyj",
        benefit=CONSULT,
        effective_on=date(2026, 1, 2),
        at=at(2026, 1, 10, 10),
        context={"planned_at": "2026-01-20T10:00:00+08:00"},
        form={"planned_at": "2026-01-20T10:00"},
        expected=Answer("ineligible", ("cooling_off",), next_eligible_on=date(2026, 1, 18)),
    ),
]


# --- what each channel says ---------------------------------------------------------------


def staff_api_answer(world: World, policy: Policy, case: Case) -> tuple[Answer, dict]:
    response = world.hotline.eligibility(policy, case.member, case.benefit, case.at, case.context)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["eligible"] is (body["outcome"] == "eligible")
    next_on = body["next_eligible_on"]
    answer = Answer(
        body["outcome"],
        tuple(r["code"] for r in body["reasons"]),
        tuple(m["fact"] for m in body["missing"]),
        date.fromisoformat(next_on) if next_on else None,
    )
    return answer, body


def member_of(policy: Policy, ref: str) -> PolicyMember:
    return policy.members.select_related("person").get(ref=ref)


def line_html(page: str, member: PolicyMember, benefit: Benefit) -> str:
    """The HTML of the benefit's tile on the member's screen of 我的权益."""
    link = reverse("portal:benefit_detail", args=[member.pk, benefit.code])
    tiles = [chunk for chunk in page.split('<li class="tile') if f'href="{link}">' in chunk]
    assert len(tiles) == 1, f"{benefit.name} shown {len(tiles)} times for the member"
    return tiles[0]


def overview_answer(world: World, policy: Policy, case: Case) -> tuple[Any, str]:
    """The member's line for the benefit on 我的权益 (its tile is there), and the HTML of the
    benefit's own page, which says everything: every reason, what to supply, when."""
    member = member_of(policy, case.member)
    page = world.portal.get(reverse("portal:home"), {"member": member.pk})
    assert page.status_code == 200
    benefit = Benefit.objects.get(code=case.benefit)
    assert page.context["overview"].member.pk == member.pk
    (line,) = [line for line in page.context["overview"].lines if line.benefit.code == case.benefit]
    tile = line_html(page.text, member, benefit)
    assert ("tile--blocked" in tile.split(">")[0]) is (not line.usable)
    detail = world.portal.get(reverse("portal:benefit_detail", args=[member.pk, benefit.code]))
    assert detail.status_code == 200
    return line, detail.text.split('<main class="page" id="main">')[1]


def form_url(policy: Policy, case: Case) -> str:
    return reverse("portal:request_new", args=[member_of(policy, case.member).pk, case.benefit])


def verdict_answer(verdict: Any) -> Answer:
    return Answer(
        verdict.outcome,
        tuple(r.code for r in verdict.reasons),
        tuple(m.fact for m in verdict.missing),
        verdict.next_eligible_on,
    )


@contextmanager
def undone() -> Iterator[None]:
    """Whatever the block writes is rolled back: each channel answers on the same history."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def hotline_submission(world: World, policy: Policy, case: Case) -> Any:
    with undone():
        response = world.hotline.submit(
            policy, case.member, case.benefit, case.context, case.option
        )
        created = ServiceRequest.objects.filter(policy=policy, created_at__gte=case.at).count()
    return response, created


# --- the acceptance test ------------------------------------------------------------------


@pytest.fixture
def world(monkeypatch) -> World:
    return World(Clock(monkeypatch, at(2025, 1, 1, 9)), Hotline(), Client())


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_staff_api_the_portal_and_submission_give_the_same_answer(world, case):
    policy = case.policy()
    case.history(world, policy)
    world.clock.set(case.at)
    policyholder_login(world.portal, policy.holder)
    expected = case.expected

    # 1. the staff eligibility API
    staff, body = staff_api_answer(world, policy, case)
    assert staff == expected, body

    # 2a. the portal overview: the member's line for the benefit
    line, html = overview_answer(world, policy, case)
    assert [r.code for r in line.reasons] == list(expected.reasons)
    assert line.usable is (expected.outcome != "ineligible")
    assert line.next_eligible_on == expected.next_eligible_on
    # The overview knows no use (when, where, which stay): it lists every fact the form will
    # ask, the case's among them.
    assert set(expected.missing) <= {m.fact for m in line.to_supply}
    if line.usable:
        assert "暂不可用" not in html and "申请服务" in html
        for missing in body["missing"]:  # asked as the staff API asks it
            assert "申请时需提供" in html and missing["message"] in html
    else:
        assert "暂不可用" in html and "申请服务" not in html
        for reason in body["reasons"]:
            assert reason["message"] in html
    if expected.next_eligible_on:
        on = expected.next_eligible_on
        assert f"预计{on.year}年{on.month}月{on.day}日起可以申请" in html
    # what is left reads the same as the staff API's pools
    assert [(p.label, str(p.remaining)) for p in line.pools] == [
        (p["pool"], p["remaining"]) for p in body["remaining"]
    ]

    # 2b. the portal form's check, as the logged-in policyholder
    requests_before = ServiceRequest.objects.count()
    if case.form is not None:
        url = form_url(policy, case)
        check = world.portal.post(url, {"submission_key": key(), "check": "1", **case.form})
        assert check.status_code == 200
        text = check.text
        if case.form_field_required:
            # The form asks for the fact itself before the rules are asked.
            assert check.context["verdict"] is None
            errors = check.context["form"].errors.get(case.form_field_required)
            # … in the engine's own words
            assert errors and errors[0] in [m["message"] for m in body["missing"]], errors
            assert "暂不符合申请条件" not in text
        else:
            assert verdict_answer(check.context["verdict"]) == expected
            if expected.outcome == "eligible":
                assert "符合申请条件。" in text
            elif expected.outcome == "ineligible":
                assert "暂不符合申请条件：" in text
                for reason in body["reasons"]:
                    assert reason["message"] in text
            else:
                assert "还需补充以下信息" in text and "暂不符合申请条件" not in text
                for missing in body["missing"]:
                    assert missing["message"] in text
        assert ServiceRequest.objects.count() == requests_before  # checking submits nothing

    # 3a. the hotline's submission
    response, created = hotline_submission(world, policy, case)
    answer = response.json()
    if expected.outcome == "eligible":
        assert response.status_code == 201, answer
        assert (answer["status"], answer["quota_outcome"]) in {
            ("submitted", "held"),
            ("submitted", "none"),
        }
        assert created == 1
    elif expected.outcome == "ineligible":
        assert (response.status_code, answer["code"]) == (422, "not_eligible"), answer
        assert [r["code"] for r in answer["reasons"]] == list(expected.reasons)
        assert created == 0
    else:
        assert (response.status_code, answer["code"]) == (422, "incomplete"), answer
        assert [m["fact"] for m in answer["missing"]] == list(expected.missing)
        assert created == 0

    # 3b. the portal's submit
    if case.form is not None and not case.form_field_required:
        url = form_url(policy, case)
        with undone():
            submit = world.portal.post(url, {"submission_key": key(), "submit": "1", **case.form})
            if expected.outcome == "eligible":
                assert submit.status_code == 302
                made = ServiceRequest.objects.get(policy=policy, status=Status.SUBMITTED)
                assert submit.url == reverse("portal:request_detail", args=[made.ref])
            else:
                assert submit.status_code == 200
                assert verdict_answer(submit.context["verdict"]) == expected
                assert ServiceRequest.objects.count() == requests_before


# --- query budgets ------------------------------------------------------------------------

TRAVEL = "manulife.hywj.travel_subsidy"


def family_of(size: int, number: str, product: str, effective_on: date) -> Policy:
    """M1 the holder (with a phone, for the portal), M2 the spouse, then children; all at
    home in 北京市朝阳区."""
    members = [("户主", date(1980, 1, 1), "self"), ("配偶", date(1981, 2, 2), "spouse")]
    members += [(f"子女{i}", date(2010, 1, 1 + i), "child") for i in range(size - 2)]
    return policy_with_members(
        number=number,
        product=product,
        members=members[:size],
        effective_on=effective_on,
        phones={0: str(next(_phones))},
        home_city=Region.objects.get(code="110105"),
    )


def travel_history(policy: Policy, uses: int) -> None:
    """``uses`` past 省外 travel subsidies of 10 元 each, spread over the members, after M1's
    重疾门诊 green channel (异地就医补贴 needs one) and with M1's 户口 in 上海 (the visit is
    in 北京: 异地)."""
    refs = list(policy.members.order_by("id").values_list("ref", flat=True))
    holder = policy.members.get(ref="M1").person
    holder.hukou_city = Region.objects.get(code="310101")
    holder.save(update_fields=["hukou_city"])
    ledger(policy, "manulife.hywj.ci_outpatient", ref="M1", on=date(2026, 3, 1))
    for index in range(uses):
        ledger(
            policy,
            TRAVEL,
            ref=refs[index % len(refs)],
            on=date(2026, 3, 2),
            amount=Decimal(10),
            category="out_of_province",
            then="use",
        )


def rehab_history(policy: Policy, uses: int) -> None:
    """Each member's 康护指导书 delivered, then their three 上门康护 visits of the year, up to
    ``uses`` past uses in all; the holder (M1) last, so their guide is delivered with visits
    left when the history is short of four a member."""
    taken = 0
    for ref in policy.members.order_by("-id").values_list("ref", flat=True):
        if taken >= uses:
            return
        ledger(policy, REHAB_GUIDE, ref=ref, on=date(2026, 3, 2), then="deliver")
        taken += 1
        for _visit in range(3):
            if taken >= uses:
                return
            ledger(policy, HOME_REHAB, ref=ref, on=date(2026, 3, 3), amount=Decimal(1), then="use")
            taken += 1


def critical_illness() -> str:
    from coverage.models import ListEntry

    return (
        ListEntry.objects.filter(coverage_list__code="manulife.hywj.critical_illnesses")
        .order_by("id")
        .values_list("name", flat=True)
        .first()
    )


@pytest.mark.parametrize(
    ("benefit", "product", "history", "long_history", "queries_expected"),
    [
        # The deliveries are read too: 异地就医补贴 needs a green-channel service first.
        (TRAVEL, "manulife.hywj", travel_history, 100, 4),
        # A prerequisite: the deliveries are read too (29 past uses: seven members' guides and
        # visits, the holder's guide).
        (HOME_REHAB, "xiaokang.rsyj", rehab_history, 29, 4),
    ],
    ids=["money-pool-100-uses", "prerequisite-deliveries"],
)
def test_the_staff_api_costs_the_same_queries_for_1_and_8_members_and_a_long_history(
    monkeypatch, benefit, product, history, long_history, queries_expected
):
    Clock(monkeypatch, at(2026, 3, 10, 10))
    hotline = Hotline()
    context = {
        TRAVEL: {
            "planned_at": "2026-03-05T10:00:00+08:00",
            "amount": "100",
            "category": "out_of_province",
            "region": "110105",
            "diagnosis": {"disease": critical_illness(), "diagnosed_on": "2026-03-04"},
        },
        HOME_REHAB: VISIT_CONTEXT,
    }[benefit]
    small = family_of(1, f"BUDGET-1-{product}", product, date(2026, 1, 2))
    large = family_of(8, f"BUDGET-8-{product}", product, date(2026, 1, 2))
    history(small, 1)
    history(large, long_history)
    when = at(2026, 3, 10, 10)
    # The benefit's terms, regions, lists and calendar: once per process (memos).
    hotline.eligibility(small, "M1", benefit, when, context)
    counts, answers = [], []
    for policy in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = hotline.eligibility(policy, "M1", benefit, when, context)
        counts.append(len(queries))
        answers.append((response.json()["outcome"], response.json()["reasons"]))
    # The same answer from the same facts: M1 of either family may use it.
    assert answers == [("eligible", []), ("eligible", [])]
    # the token; the members with their people and the policy; the balances; the
    # deliveries when the benefit needs another first
    assert counts == [queries_expected] * 2, counts


def test_the_overview_costs_the_same_queries_with_prerequisites_for_1_and_8_members_and_50_requests(
    monkeypatch,
):
    """我的权益 of a 小康 policy (院后居家上门康护 needs the 康护指导书 delivered first: the
    deliveries are read) costs the same for one member with one delivered guide as for a
    family of eight with 50 requests, deliveries and uses."""
    Clock(monkeypatch, at(2026, 3, 10, 10))
    small = family_of(1, "OVERVIEW-1", "xiaokang.rsyj", date(2026, 1, 2))
    large = family_of(8, "OVERVIEW-8", "xiaokang.rsyj", date(2026, 1, 2))
    rehab_history(small, 1)
    rehab_history(large, 29)
    guide = Benefit.objects.get(code=REHAB_GUIDE)
    for index in range(50):
        member = large.members.order_by("id")[index % 8]
        ServiceRequest.objects.create(
            ref=f"SROVERVIEW{index:04d}",
            policy=large,
            member=member,
            recipient=member,
            benefit=guide,
            status=Status.COMPLETED if index % 2 else Status.SUBMITTED,
        )
    assert Delivery.objects.filter(policy=large).count() == 8
    assert ServiceRequest.objects.filter(policy=large).count() == 50
    clients = {}
    for policy in (small, large):
        clients[policy.pk] = Client()
        policyholder_login(clients[policy.pk], policy.holder)
    counts = []
    for policy in (small, small, large):  # the first visit fills the reference-data memos
        client = clients[policy.pk]
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("portal:home"))
        assert page.status_code == 200
        counts.append(len(queries))
    # And the page says what the history means: every member of the large family has the
    # guide delivered (no 须先完成); the holder has visits left, the others used theirs.
    lines = {
        member.ref: [
            r.code
            for line in client.get(reverse("portal:home"), {"member": member.pk})
            .context["overview"]
            .lines
            if line.benefit.code == HOME_REHAB
            for r in line.reasons
        ]
        for member in large.members.all()
    }
    assert lines == {"M1": [], **{f"M{i}": ["quota_exhausted"] for i in range(2, 9)}}
    assert "须先完成" not in page.text
    # session, user, account, members, benefits, balances, deliveries, open requests,
    # unread notifications
    assert counts[1:] == [9, 9], counts
