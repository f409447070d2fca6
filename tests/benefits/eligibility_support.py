"""Shared by the eligibility test modules: policies built through the same service as the
staff API, quota set up through the ledger services, and the staff client that asks
POST /api/staff/v1/eligibility."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from benefits.demo import resident_id
from benefits.models import Benefit, Policy, PolicyMember
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from benefits.quota.deliveries import delivery_record
from benefits.quota.entitlements import pools_for
from benefits.quota.ledger import balance_open, quota_hold, quota_release, quota_use
from portal.kernel.clock import SHANGHAI
from portal.kernel.memo import Memo
from portal.kernel.staff_auth import staff_token_issue

URL = "/api/staff/v1/eligibility"
_serial = itertools.count(1)


@dataclass(frozen=True)
class Insured:
    ref: str
    birth: date
    relation: str = "self"
    home_city: str | None = None
    mainland: bool = True
    id_type: str = "resident_id"
    hukou_city: str | None = None


FAMILY = (
    Insured("M1", date(1980, 5, 1), "self", home_city="110105"),
    Insured("M2", date(1982, 7, 1), "spouse", home_city="110105"),
    Insured("M3", date(2012, 3, 1), "child", home_city="110105"),
    Insured("M4", date(1985, 9, 1), "other"),  # a sibling: insured, not immediate family
)


def _person(who: Insured) -> PersonInput:
    serial = next(_serial)
    if who.id_type == "resident_id":
        number = resident_id(f"110105{who.birth:%Y%m%d}{serial % 1000:03d}")
        return PersonInput(
            name=f"被保险人{who.ref}",
            id_number=number,
            home_city=who.home_city,
            hukou_city=who.hukou_city,
        )
    return PersonInput(
        name=f"被保险人{who.ref}",
        id_type=who.id_type,
        id_number=f"H{serial:08d}",
        birth_date=who.birth,
        mainland_citizen=who.mainland,
        home_city=who.home_city,
        hukou_city=who.hukou_city,
    )


def make_policy(
    product: str,
    *,
    number: str | None = None,
    members: tuple[Insured, ...] = FAMILY,
    signed_on: date = date(2026, 1, 1),
    effective_on: date = date(2026, 1, 2),
    expires_on: date = date(2027, 1, 1),
    status: str = "in_force",
    transferred: bool = False,
    waiting_days: int | None = 30,
) -> Policy:
    """A policy written by ``policy_upsert`` (the staff API's service); M1 is the holder."""
    people = [_person(who) for who in members]
    policy, _ = policy_upsert(
        PolicyInput(
            number=number or f"T-{next(_serial):06d}",
            product=product,
            status=status,
            signed_on=signed_on,
            effective_on=effective_on,
            expires_on=expires_on,
            transferred=transferred,
            family=len(members) > 1,
            waiting_days=waiting_days,
            holder=people[0],
            members=[
                MemberInput(ref=who.ref, relation=who.relation, person=person)
                for who, person in zip(members, people, strict=True)
            ],
        )
    )
    return policy


def ledger(
    policy: Policy,
    benefit: str,
    *,
    ref: str = "M1",
    on: date,
    amount: Decimal | None = None,
    category: str = "",
    then: str = "hold",
) -> None:
    """Take ``amount`` (default: the whole grant) of the member's pool for ``benefit`` in the
    period of ``on``: held, then used, released or used and delivered (the request
    completed with its deliverable) as ``then`` says."""
    member = PolicyMember.objects.select_related("person").get(policy=policy, ref=ref)
    specs = pools_for(
        benefit=Benefit.objects.get(code=benefit), policy=policy, person=member.person, on=on
    )
    spec = next(s for s in specs if s.key.category == category and s.key.measure != "requests")
    balance = balance_open(key=spec.key, amount=spec.amount, reason="测试：期间开始")
    request = f"R-{next(_serial)}"
    quota_hold(
        holds=[(balance, amount if amount is not None else spec.amount)],
        request_ref=request,
        reason="测试：申请",
    )
    if then in ("use", "deliver"):
        quota_use(balance=balance, request_ref=request, reason="测试：服务完成")
    if then == "deliver":
        delivery_record(
            policy_id=policy.pk,
            person_id=member.person_id,
            benefit_id=spec.key.benefit.pk,
            request_ref=request,
            at=datetime.combine(on, time(12), tzinfo=SHANGHAI),
        )
    elif then == "release":
        quota_release(balance=balance, request_ref=request, reason="测试：取消")


@pytest.fixture
def fresh_memos():
    """Reference-data memos start empty: a test's rolled-back catalogue changes send no
    signal on rollback, so a memo built inside one test must not leak into the next."""
    Memo.clear_all()
    yield
    Memo.clear_all()


@pytest.fixture
def ask(client, staff_user):
    """POST /api/staff/v1/eligibility with a staff token; returns the response."""
    _, raw = staff_token_issue(user=staff_user, name="rule-table")
    headers = {"authorization": f"Bearer {raw}"}

    def send(body: dict[str, Any]):
        return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)

    return send
