"""Test data for the load test (``./dev loadtest``, ``tests/ops/locustfile.py``) on a stack's
database: ``--policies`` 平安 family policies (holder, spouse, child) in force for four months,
each holder logged in to the portal (the account bound as after the SMS code and the ID
check, and a session in the session store), a hotline operator with a staff token,
``--vendor-tokens`` tokens of the vendor that delivers 平安 门诊协助 (the vendor API allows
each token 120 calls a minute) and, on the first ``--assigned`` policies, one request assigned
to that vendor. The other policies are the hotline's: 门诊协助 shares one use a year with four
other services per family, so an agent submits and cancels on a policy no one else uses.

Everything is written to ``--out`` (mode 600: it holds session keys and raw tokens) for the
load generator. Idempotent: policies are upserted by number (``LOAD-…``), assigned requests
are created once, tokens and sessions of earlier runs are revoked and issued afresh.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from benefits.demo import resident_id
from benefits.models import Benefit, Person, Policy
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from bookings.lifecycle.staff import staff_event
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import ServiceRequest, VendorToken
from bookings.vendors.services import vendor_token_issue, vendor_token_revoke
from portal.kernel.actor import staff_actor
from portal.kernel.staff_auth import staff_token_issue, staff_token_revoke
from portal.models import StaffToken
from portal.pages.accounts import account_bind, account_for_phone
from portal.site.roles import staff_access_set

PRODUCT = "pingan.health"
# The hotline submits (and cancels) 门诊协助; vendors report on assigned 门诊协助 requests;
# eligibility is asked for 陪诊 (waiting period, lead time, city list, family pool), as in
# benchmark_eligibility.
SUBMIT_BENEFIT = "pingan.health.outpatient_assist"
ELIGIBILITY_BENEFIT = "pingan.health.escort"
LABEL = "loadtest"
OPERATOR = "loadtest-operator"
SUPERVISOR = "loadtest-supervisor"


def _people(index: int) -> list[tuple[str, PersonInput]]:
    """Holder, spouse and child of policy ``index``: distinct birth dates make distinct ID
    numbers; the holder's phone logs in to the portal."""
    holder_born = date(1975, 1, 1) + timedelta(days=index)
    spouse_born = date(1977, 1, 1) + timedelta(days=index)
    child_born = date(2016, 1, 1) + timedelta(days=index % 1800)
    child_serial = 200 + index // 1800
    return [
        (
            "self",
            PersonInput(
                name=f"压测{index}",
                id_number=resident_id(f"110105{holder_born:%Y%m%d}101"),
                birth_date=holder_born,
                phone=f"139{index:08d}",
                home_city="上海市",
            ),
        ),
        (
            "spouse",
            PersonInput(
                name=f"压测配偶{index}",
                id_number=resident_id(f"110105{spouse_born:%Y%m%d}102"),
                birth_date=spouse_born,
                home_city="上海市",
            ),
        ),
        (
            "child",
            PersonInput(
                name=f"压测子女{index}",
                id_number=resident_id(f"110105{child_born:%Y%m%d}{child_serial:03d}"),
                birth_date=child_born,
                home_city="上海市",
            ),
        ),
    ]


def _policy(index: int, effective: date) -> Policy:
    people = _people(index)
    policy, _created = policy_upsert(
        PolicyInput(
            number=f"LOAD-{index:05d}",
            product=PRODUCT,
            status="in_force",
            signed_on=effective - relativedelta(days=1),
            effective_on=effective,
            expires_on=effective + relativedelta(years=1, days=-1),
            holder=people[0][1],
            members=[
                MemberInput(ref=f"M{n + 1}", relation=relation, person=person)
                for n, (relation, person) in enumerate(people)
            ],
            family=True,
            waiting_days=30,
        )
    )
    return policy


def _session(holder: Person) -> str:
    """A portal session for the holder, as the SMS login leaves it (the account bound)."""
    account = account_for_phone(holder.phone)
    if account.person_id is None:
        account = account_bind(
            account=account, id_type=Person.IdType.RESIDENT_ID, id_number=holder.id_number
        )
    user = account.user
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or ""


def _assigned_request(policy: Policy, supervisor: Any) -> str:
    """The policy's one request assigned to the 门诊协助 vendor (the spouse's), created once."""
    benefit = Benefit.objects.select_related("vendor").get(code=SUBMIT_BENEFIT)
    key = f"{LABEL}-{policy.number}"
    existing = ServiceRequest.objects.filter(submitted_by=supervisor, submission_key=key).first()
    if existing is not None:
        return existing.ref
    actor = staff_actor(supervisor)
    request, _created = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(ref="M2"),
            benefit=benefit,
            at=timezone.now(),
            region="上海市",
            submission_key=key,
            channel="hotline",
        ),
        actor=actor,
    )
    request = staff_event(request, actor=actor, event="approve", channel="hotline")
    request = staff_event(
        request, actor=actor, event="assign", channel="hotline", vendor=benefit.vendor
    )
    return request.ref


class Command(BaseCommand):
    help = "压测数据：保单、投保人登录会话、坐席令牌、服务商令牌与已派单的申请（写入 --out）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policies", type=int, default=200, help="家庭保单数")
        parser.add_argument("--assigned", type=int, default=100, help="其中有已派单申请的保单数")
        parser.add_argument("--vendor-tokens", type=int, default=40, help="服务商令牌数")
        parser.add_argument(
            "--out", default=str(Path(settings.BASE_DIR) / "var" / "stack" / "loadtest.json")
        )

    def handle(
        self, *args: Any, policies: int, assigned: int, vendor_tokens: int, **opts: Any
    ) -> None:
        effective = timezone.localdate() - relativedelta(months=4)
        operator = staff_access_set(
            username=OPERATOR, insurer_codes=["pingan"], role_code="operator"
        )
        supervisor = staff_access_set(
            username=SUPERVISOR, insurer_codes=["pingan"], role_code="supervisor"
        )
        rows = []
        for index in range(policies):
            with transaction.atomic():
                policy = _policy(index, effective)
                rows.append(
                    {
                        "number": policy.number,
                        # The holder's own member, for the portal's request form URL.
                        "member_id": policy.members.get(ref="M1").pk,
                        "session": _session(policy.holder),
                        "assigned": _assigned_request(policy, supervisor)
                        if index < assigned
                        else None,
                    }
                )
        data = {
            "policies": rows,
            "staff_token": self._staff_token(operator),
            "vendor_tokens": self._vendor_tokens(vendor_tokens),
            "submit_benefit": SUBMIT_BENEFIT,
            "eligibility_benefit": ELIGIBILITY_BENEFIT,
        }
        path = Path(opts["out"])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, ensure_ascii=False)
        self.stdout.write(
            f"压测数据：{policies} 份保单（各有登录会话，其中 {min(assigned, policies)} 份有已派单"
            f"申请），{vendor_tokens} 个服务商令牌，写入 {path}"
        )

    @staticmethod
    def _staff_token(operator: Any) -> str:
        for token in StaffToken.objects.filter(user=operator, name=LABEL, revoked_at=None):
            staff_token_revoke(token=token)
        return staff_token_issue(user=operator, name=LABEL)[1]

    @staticmethod
    def _vendor_tokens(count: int) -> list[str]:
        vendor = Benefit.objects.select_related("vendor").get(code=SUBMIT_BENEFIT).vendor
        for token in VendorToken.objects.filter(vendor=vendor, name=LABEL, revoked_at=None):
            vendor_token_revoke(token=token)
        return [vendor_token_issue(vendor=vendor, name=LABEL)[1] for _ in range(count)]
