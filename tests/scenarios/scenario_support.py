"""The scenario table's language: a case is a handbook clause and a script of hotline calls
(submit, lifecycle events, eligibility checks), each at its own moment on a clock moved by
time-machine, each with the answer the handbook gives.

Everything goes through HTTP, as the hotline system calls the staff API:
``POST /api/staff/v1/requests``, ``POST /api/staff/v1/requests/{ref}/events``,
``GET /api/staff/v1/requests/{ref}`` and ``POST /api/staff/v1/eligibility``, with a staff
token of an administrator (管理员) of every insurer.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfWriter

from benefits.models import Policy, Vendor
from bookings.vendors.services import vendor_token_issue
from portal.kernel.staff_auth import staff_token_issue
from tests.benefits.eligibility_support import Insured, ledger, make_policy
from tests.factories import StaffFactory

TZ = ZoneInfo("Asia/Shanghai")
API = "/api/staff/v1"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

# The five handbooks (DOMAIN.md §4).
XIAOKANG = "000_4ba79b2dbcb97a9a.txt"  # 小康人寿《人生盈家保险产品计划》院后康护增值服务手册
MANULIFE_DMM = "001_bcc87248a88b358c.txt"  # 中宏 附加百万无忧守护版长期医疗保险
AXA = "002_a2d27796b54ae26a.txt"  # 安盛天平 卓越守护百万住院医疗保险 特定药品服务手册
PINGAN = "003_0cd53a263ec9ebf5.txt"  # 平安健康 服务手册
MANULIFE_HYWJ = "004_f6ce4bff06cf3746.txt"  # 中宏 宏悦万家感恩版团体医疗保险


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    """An instant as Asia/Shanghai wall-clock fields: ``at(2026, 3, 2, 10)``."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=TZ)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def squeeze(text: str) -> str:
    """The handbook text without whitespace and table rulers (the PDF extraction breaks
    lines and cells anywhere)."""
    for mark in "|#*\\":
        text = text.replace(mark, " ")
    return "".join(text.split())


# --- the clause -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    seed: str  # the handbook file in shared/seeds
    section: str  # where in it
    words: tuple[str, ...]  # the handbook's own words, each found verbatim (whitespace aside)

    def __str__(self) -> str:
        return f"{self.seed} {self.section}: " + " … ".join(f"“{w}”" for w in self.words)


def clause(seed: str, section: str, *words: str) -> Clause:
    return Clause(seed, section, words)


# --- the policy -----------------------------------------------------------------------------

SELF = Insured("M1", date(1980, 5, 1), "self", home_city="310101")  # 上海市黄浦区
SPOUSE = Insured("M2", date(1982, 7, 1), "spouse", home_city="310101")
SUZHOU_HOME = Insured("M1", date(1980, 5, 1), "self", home_city="320508")  # 苏州市姑苏区


@dataclass(frozen=True)
class PolicySpec:
    product: str
    effective_on: date
    expires_on: date | None = None  # default: a year less a day
    signed_on: date | None = None  # default: the effective date
    members: tuple[Insured, ...] = (SELF, SPOUSE)
    waiting_days: int | None = 30
    # Benefits M1 has already used (a hold taken on the day): 中宏 异地就医补贴 needs a
    # green-channel service used first.
    used: tuple[tuple[str, date], ...] = ()

    def build(self) -> Policy:
        expires_on = self.expires_on or self.effective_on + relativedelta(years=1, days=-1)
        policy = self._policy(expires_on)
        for benefit, on in self.used:
            ledger(policy, benefit, on=on)
        return policy

    def _policy(self, expires_on: date) -> Policy:
        return make_policy(
            self.product,
            members=self.members,
            signed_on=self.signed_on or self.effective_on,
            effective_on=self.effective_on,
            expires_on=expires_on,
            waiting_days=self.waiting_days,
        )


# --- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submit:
    """The agent submits a request at ``at``. Expected: 201 (``refused`` and ``incomplete``
    empty), else 422 ``not_eligible`` with (at least) these reason codes, or ``incomplete``
    asking for (at least) these facts."""

    at: datetime
    benefit: str
    context: dict[str, Any] = field(default_factory=dict)
    member: str = "M1"
    recipient: str | None = None
    refused: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """A lifecycle event on request ``on`` (the index of a successful submission, default
    the last one) at ``at``; expected 200."""

    at: datetime
    event: str
    fields: dict[str, Any] = field(default_factory=dict)
    on: int = -1


@dataclass(frozen=True)
class Quota:
    """Read request ``on`` back: its quota outcome (held, used, released)."""

    outcome: str
    on: int = -1


@dataclass(frozen=True)
class Due:
    """Read request ``on`` back: milestone ``code`` is due at ``due``."""

    code: str
    due: datetime
    on: int = -1


@dataclass(frozen=True)
class Check:
    """POST /eligibility at ``at``: the outcome and the fulfilment tier (None: no tier
    decided) the handbook gives."""

    at: datetime
    benefit: str
    context: dict[str, Any]
    outcome: str | None = "eligible"  # None: not what the case is about
    tier: str | None = None
    member: str = "M1"


@dataclass(frozen=True)
class Handover:
    """The vendor attaches its deliverable (《居家康护指导书》) to request ``on`` through the
    vendor API at ``at``; expected 201."""

    at: datetime
    vendor: str
    name: str = "居家康护指导书.pdf"
    on: int = -1


Step = Submit | Event | Quota | Due | Check | Handover


def moment(step: Step) -> datetime | None:
    return getattr(step, "at", None)


@dataclass(frozen=True)
class Case:
    id: str
    clause: Clause
    policy: PolicySpec
    steps: tuple[Step, ...]
    # What a sloppy engine answers instead, in a word (the reason the case is in the table).
    trap: str = ""


# --- the hotline ------------------------------------------------------------------------------

_keys = itertools.count(1)


def administrator() -> Any:
    """A staff user with the 管理员 role of every insurer, as ``staff_member("admin")`` makes
    one, without rewriting the role groups each time (migrate made them)."""
    from django.contrib.auth.models import Group

    from benefits.models import Insurer
    from portal.models import StaffMembership
    from portal.site.roles import role_table

    user: Any = StaffFactory()
    user.groups.set([Group.objects.get(name=role_table()["admin"].group_name)])
    StaffMembership.objects.bulk_create(
        StaffMembership(user=user, insurer=insurer) for insurer in Insurer.objects.all()
    )
    return user


class Hotline:
    """The hotline system: a staff token of an administrator of every insurer."""

    def __init__(self) -> None:
        self.user = administrator()
        self.token = staff_token_issue(user=self.user, name="scenario-table")[1]
        self.client = Client()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            API + path,
            json.dumps(body),
            content_type="application/json",
            headers={
                "authorization": f"Bearer {self.token}",
                "Idempotency-Key": f"scenario-{next(_keys)}",
            },
        )

    def submit(self, policy: Policy, step: Submit) -> Any:
        body: dict[str, Any] = {
            "policy": policy.number,
            "member": step.member,
            "benefit": step.benefit,
            "context": step.context,
            "channel": "hotline",
        }
        if step.recipient:
            body["recipient"] = step.recipient
        return self._post("/requests", body)

    def event(self, ref: str, step: Event) -> Any:
        if step.event.startswith("review:"):  # a review gate's decision (reviews endpoint)
            gate = step.event.removeprefix("review:")
            body = {"gate": gate, "passed": True, "reason": "评估通过", **step.fields}
            return self._post(f"/requests/{ref}/reviews", body)
        return self._post(f"/requests/{ref}/events", {"event": step.event, **step.fields})

    def handover(self, ref: str, step: Handover) -> Any:
        vendor = Vendor.objects.get(code=step.vendor)
        token = vendor_token_issue(vendor=vendor, name="scenario-table")[1]
        pdf = BytesIO()
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.write(pdf)
        return self.client.post(
            f"/api/vendor/v1/requests/{ref}/deliverables",
            data={"file": SimpleUploadedFile(step.name, pdf.getvalue(), "application/pdf")},
            headers={"authorization": f"Bearer {token}", "Idempotency-Key": f"h-{next(_keys)}"},
        )

    def read(self, ref: str) -> dict[str, Any]:
        response = self.client.get(
            f"{API}/requests/{ref}", headers={"authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.content.decode()
        return response.json()

    def eligibility(self, policy: Policy, step: Check) -> Any:
        return self._post(
            "/eligibility",
            {
                "policy": policy.number,
                "member": step.member,
                "benefit": step.benefit,
                "at": iso(step.at),
                "context": step.context,
            },
        )


def _answer(response: Any) -> str:
    return f"{response.status_code} {response.content.decode()}"


def play(case: Case, hotline: Hotline) -> None:
    """Build the case's policy and play its steps, the clock frozen at each step's moment
    (the read-backs at the moment before them)."""
    first = next(m for m in map(moment, case.steps) if m is not None)
    refs: list[str] = []
    with time_machine.travel(first, tick=False) as clock:
        policy = case.policy.build()
        for number, step in enumerate(case.steps, 1):
            where = f"{case.id} step {number} ({type(step).__name__}; {case.clause})"
            when = moment(step)
            if when is not None:
                clock.move_to(when)
            if isinstance(step, Submit):
                response = hotline.submit(policy, step)
                body = response.json()
                if step.refused:
                    assert response.status_code == 422, f"{where}: {_answer(response)}"
                    assert body.get("code") == "not_eligible", f"{where}: {_answer(response)}"
                    codes = {reason["code"] for reason in body["reasons"]}
                    assert set(step.refused) <= codes, f"{where}: {_answer(response)}"
                elif step.incomplete:
                    assert response.status_code == 422, f"{where}: {_answer(response)}"
                    assert body.get("code") == "incomplete", f"{where}: {_answer(response)}"
                    facts = {item["fact"] for item in body["missing"]}
                    assert set(step.incomplete) <= facts, f"{where}: {_answer(response)}"
                else:
                    assert response.status_code == 201, f"{where}: {_answer(response)}"
                    refs.append(body["ref"])
            elif isinstance(step, Event):
                response = hotline.event(refs[step.on], step)
                assert response.status_code == 200, f"{where}: {_answer(response)}"
            elif isinstance(step, Handover):
                response = hotline.handover(refs[step.on], step)
                assert response.status_code == 201, f"{where}: {_answer(response)}"
            elif isinstance(step, Quota):
                shown = hotline.read(refs[step.on])
                assert shown["quota_outcome"] == step.outcome, (
                    f"{where}: quota {shown['quota_outcome']}, expected {step.outcome}; "
                    f"ledger {[(e['kind'], e['reason']) for e in shown['quota']['entries']]}"
                )
            elif isinstance(step, Due):
                shown = hotline.read(refs[step.on])
                dues = {m["code"]: m["due_at"] for m in shown["milestones"]}
                assert step.code in dues, f"{where}: milestones {dues}"
                due = dues[step.code]
                got = datetime.fromisoformat(due) if due else None
                assert got is not None and _same_deadline(got, step.due), (
                    f"{where}: {step.code} due {due}, expected {iso(step.due)}"
                )
            else:
                response = hotline.eligibility(policy, step)
                assert response.status_code == 200, f"{where}: {_answer(response)}"
                body = response.json()
                if step.outcome is not None:
                    assert body["outcome"] == step.outcome, f"{where}: {_answer(response)}"
                tier = body["tier"]["code"] if body["tier"] else None
                assert tier == step.tier, f"{where}: tier {tier}, expected {step.tier}: {body}"


def _same_deadline(got: datetime, expected: datetime) -> bool:
    """Equal instants; a deadline given as the last moment of a day (23:59:59.999999, as
    whole working days end) matches any representation of that day's end."""
    if got == expected:
        return True
    end_of_day = expected.astimezone(TZ).timetz().replace(tzinfo=None)
    if (end_of_day.hour, end_of_day.minute) == (23, 59):
        local = got.astimezone(TZ)
        return local.date() == expected.astimezone(TZ).date() and (local.hour, local.minute) == (
            23,
            59,
        )
    return False
