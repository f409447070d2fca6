"""The rules of consent to process health information: what a person is asked to agree to
(the purpose and the vendors who will receive the information, PIPL art. 29–30), recording
a grant or a withdrawal, and the one check every submission path asks before a request that
needs medical records (``consent_problem``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.catalogue.models import Benefit, Vendor
from benefits.policies.consents import ConsentRecord
from benefits.policies.models import Person, Policy
from benefits.terms.benefit_terms import BenefitTerms
from portal.kernel.errors import DomainError

HEALTH = ConsentRecord.Kind.HEALTH_INFORMATION
# The version of the health-information consent text below; a new text is a new version,
# and a person who agreed to an older one is asked again.
HEALTH_CONSENT_VERSION = "2026-12-01"


@dataclass(frozen=True)
class ConsentTerms:
    kind: str
    version: str
    purpose: str
    recipients: tuple[str, ...]


def health_purpose() -> str:
    return _(
        "为向您及您为其申请服务的家庭成员提供保单所附的健康服务（如预约挂号、陪诊、住院协助、"
        "第二诊疗意见等），我们需要收集和使用您提交的病历、诊断证明、检查报告等健康信息，"
        "用于核对服务条件、安排服务和保存服务记录，并仅将完成该次服务所需的信息提供给下列"
        "承接服务的服务商。健康信息属于敏感个人信息，未经您的单独同意我们不会处理；"
        "您可以随时在“个人信息授权”页面撤回同意，撤回后需要提交病历资料的服务将无法申请，"
        "但不影响撤回前已进行的处理。"
    )


def health_consent_terms(person: Person) -> ConsentTerms:
    """What ``person`` is asked to agree to: the purpose and the vendors serving the
    benefits of every policy they hold or are insured on (their backups included)."""
    products = Policy.objects.filter(Q(holder=person) | Q(members__person=person)).values(
        "product_id"
    )
    benefits = Benefit.objects.filter(product_id__in=products)
    vendors = Vendor.objects.filter(
        Q(pk__in=benefits.values("vendor")) | Q(pk__in=benefits.values("backup_vendors"))
    ).order_by("name")
    return ConsentTerms(
        kind=HEALTH,
        version=HEALTH_CONSENT_VERSION,
        purpose=health_purpose(),
        recipients=tuple(vendors.values_list("name", flat=True)),
    )


def current_consent(person: Person, kind: str = HEALTH) -> ConsentRecord | None:
    """The person's latest consent of this kind (active or withdrawn), or None."""
    return (
        ConsentRecord.objects.filter(person=person, kind=kind)
        .order_by("-granted_at", "-id")
        .first()
    )


def consent_needed(person: Person, record: ConsentRecord | None = None) -> bool:
    """Whether the person has not agreed to the current text (never, withdrawn, or an
    older version): the portal asks before they go on. ``record``: their current consent,
    when already read."""
    record = record or current_consent(person)
    return record is None or not record.active or record.version != HEALTH_CONSENT_VERSION


def consent_grant(
    person: Person, *, channel: str, user=None, now: datetime | None = None
) -> ConsentRecord:
    """Record the person's consent to the current text, as shown to them now."""
    terms = health_consent_terms(person)
    return ConsentRecord.objects.create(
        person=person,
        kind=terms.kind,
        version=terms.version,
        purpose=terms.purpose,
        recipients=list(terms.recipients),
        channel=channel,
        granted_at=now or timezone.now(),
        recorded_by=user,
    )


def consent_withdraw(person: Person, *, now: datetime | None = None) -> int:
    """Withdraw every active health-information consent of the person; the count."""
    with transaction.atomic():
        return ConsentRecord.objects.filter(
            person=person, kind=HEALTH, withdrawn_at__isnull=True
        ).update(withdrawn_at=now or timezone.now())


def needs_health_records(terms: BenefitTerms) -> bool:
    """A benefit needs medical records when its terms ask for a required document."""
    return any(document.required for document in terms.documents)


def consent_problem(terms: BenefitTerms, person_ids: Iterable[int | None]) -> DomainError | None:
    """Why a new request for this benefit cannot be made for these people (the policy's
    holder, the member, the recipient): one of them withdrew consent to process health
    information and the benefit needs records (one query, none when it needs none). Only a
    withdrawal blocks: a person with no record agreed through the insurer when the policy was
    written."""
    if not needs_health_records(terms):
        return None
    latest: dict[int, ConsentRecord] = {}
    records = (
        ConsentRecord.objects.filter(person_id__in={i for i in person_ids if i}, kind=HEALTH)
        .select_related("person")
        .order_by("person_id", "-granted_at", "-id")
    )
    for record in records:
        latest.setdefault(record.person_id, record)
    withdrawn = sorted(record.person.name for record in latest.values() if not record.active)
    if not withdrawn:
        return None
    return DomainError(
        "consent_withdrawn",
        _(
            "%(names)s已撤回处理健康信息的同意，本服务需要提交病历等健康资料，暂不能申请。"
            "如需申请，请先在“个人信息授权”页面重新同意。"
        )
        % {"names": "、".join(withdrawn)},
        status=409,
    )
