from datetime import date, datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model

from benefits.demo import policy_with_members
from benefits.models import Benefit, Policy
from bookings.lifecycle.submission import RequestInput, request_submit
from bookings.models import ServiceRequest
from portal.kernel.actor import Actor


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")
    is_staff = False


class StaffFactory(UserFactory):
    """A staff user with no role and no insurer: refused everywhere (403)."""

    is_staff = True


def staff_member(role: str = "admin", insurers: list[str] | None = None, **fields: Any) -> Any:
    """A staff user with a role (portal.site.roles) of the given insurers (default: every one)."""
    from benefits.models import Insurer
    from portal.site.roles import staff_access_set

    user = StaffFactory(**fields)
    codes = (
        insurers if insurers is not None else list(Insurer.objects.values_list("code", flat=True))
    )
    return staff_access_set(username=user.username, insurer_codes=codes, role_code=role)


def policyholder_login(client: Any, person: Any) -> Any:
    """Log ``client`` in as the portal account of ``person`` (bound with their phone, as
    after the SMS login and the ID check). Returns the account's user."""
    from django.utils import timezone

    from portal.models import PolicyholderAccount

    user = UserFactory(username=f"ph-{person.phone}")
    PolicyholderAccount.objects.create(
        user=user, phone=person.phone, person=person, bound_at=timezone.now()
    )
    client.force_login(user)
    return user


# The smallest PDF pypdf reads without complaint: one empty page.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n158\n%%EOF\n"
)

OUTPATIENT_ASSIST = "pingan.health.outpatient_assist"
POLICYHOLDER = Actor(label="policyholder")


def outpatient_request(
    *,
    at: datetime,
    number: str = "",
    policy: Policy | None = None,
    member_ref: str = "M1",
    actor: Actor = POLICYHOLDER,
    name: str = "王一",
    born: date = date(1985, 1, 1),
    phone: str = "",
    effective_on: date = date(2026, 1, 2),
    expires_on: date | None = None,
    **extra: Any,
) -> ServiceRequest:
    """A 平安健康 门诊协助 request in Shanghai, submitted at ``at`` by ``actor`` with its
    quota held. It is for member ``member_ref`` of ``policy``, or else of a new one-member
    policy ``number`` (holder ``name``, ``born``, ``phone``) in force from ``effective_on``
    for a year or until ``expires_on``, with 30 waiting days. ``extra`` goes to
    ``RequestInput`` (``planned_at``, ``hospital``, ``submission_key``…)."""
    if (policy is None) == (not number):
        raise ValueError("give a policy or the number of a new one: exactly one of them")
    if policy is None:
        policy = policy_with_members(
            number=number,
            product="pingan.health",
            members=[(name, born, "self")],
            effective_on=effective_on,
            expires_on=expires_on,
            phones={0: phone},
        )
    request, _ = request_submit(
        RequestInput(
            policy=policy,
            member=policy.members.get(ref=member_ref),
            benefit=Benefit.objects.get(code=OUTPATIENT_ASSIST),
            at=at,
            region="上海市",
            **extra,
        ),
        actor=actor,
    )
    return request


def pingan_policy(number: str) -> Policy:
    """A one-member 平安健康 policy in force from 2026-01-02 (insurer 平安)."""
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[("平安客户", date(1980, 5, 1), "self")],
        effective_on=date(2026, 1, 2),
    )


def axa_policy(number: str) -> Policy:
    """A one-member 安盛 卓越守护 policy in force from 2026-01-02 (insurer 安盛)."""
    return policy_with_members(
        number=number,
        product="axa.zysh",
        members=[("安盛客户", date(1981, 6, 1), "self")],
        effective_on=date(2026, 1, 2),
    )
