"""Consent to provide a request's records to the vendor that serves it (PIPL art. 23), and
the one check every vendor path asks before it shows a record (``vendor_records_problem``).

Asked at submission, before a vendor is assigned: the text names "the vendor the insurer
assigns for this benefit" and lists the benefit's vendors from the catalogue (its vendor and
backups), the only ones it can be assigned to. Withdrawing (per request, or every consent of
the person at once on the privacy page) takes effect on the vendor's next read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.models import Benefit, Person, Vendor
from benefits.policies.consents import ConsentRecord
from bookings.lifecycle.events import record_event
from bookings.models import RecordsConsent, ServiceRequest
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError, ErrorCode

# The version of the text below; a new text is a new version (rows keep the one answered).
RECORDS_CONSENT_VERSION = "2026-12-02"


@dataclass(frozen=True)
class RecordsConsentTerms:
    version: str
    purpose: str
    recipients: tuple[str, ...]


def records_consent_terms(benefit: Benefit) -> RecordsConsentTerms:
    """What the person is asked before submitting a request for ``benefit``: the vendors
    it may be assigned to, by name (two queries)."""
    vendors = Vendor.objects.filter(
        Q(pk=benefit.vendor_id) | Q(pk__in=benefit.backup_vendors.values("pk"))
    ).order_by("name")
    names = tuple(vendors.values_list("name", flat=True))
    purpose = _(
        "为安排本次“%(benefit)s”服务，我们将把本次申请的信息及您提交的病历、诊断证明等资料"
        "提供给保险公司为该权益指派的服务商（%(vendors)s），仅用于完成本次服务。"
        "您可以随时在“个人信息授权”页面撤回本同意，撤回后服务商将无法再查看本次申请的资料。"
    ) % {"benefit": benefit.name, "vendors": "、".join(names) or _("由保险公司指派")}
    return RecordsConsentTerms(version=RECORDS_CONSENT_VERSION, purpose=purpose, recipients=names)


def records_consent_record(
    request: ServiceRequest,
    *,
    given: bool,
    channel: str,
    actor: Actor,
    read_out: bool = False,
    now: datetime | None = None,
) -> RecordsConsent:
    """Record the answer to the records consent for ``request`` (the recipient is the
    person whose records they are) and say so on the request's timeline."""
    terms = records_consent_terms(request.benefit)
    consent = RecordsConsent.objects.create(
        request=request,
        person_id=request.recipient.person_id,
        version=terms.version,
        purpose=terms.purpose,
        recipients=list(terms.recipients),
        channel=channel,
        read_out=read_out,
        given=given,
        answered_at=now or timezone.now(),
        recorded_by=actor.user,
    )
    event = "records_consent_given" if given else "records_consent_declined"
    record_event(request, event, request.status, actor, channel=channel)
    return consent


def records_consents_withdraw(
    consents: QuerySet[RecordsConsent], *, actor: Actor, now: datetime | None = None
) -> list[int]:
    """Withdraw the standing consents among ``consents``; the ids of the requests whose
    consent ended, each with a timeline row."""
    now = now or timezone.now()
    standing = list(
        consents.filter(given=True, withdrawn_at__isnull=True).select_related("request")
    )
    RecordsConsent.objects.filter(pk__in=[c.pk for c in standing]).update(withdrawn_at=now)
    for consent in standing:
        request = consent.request
        record_event(request, "records_consent_withdrawn", request.status, actor)
    return sorted({c.request_id for c in standing})


def records_consents_of(person: Person) -> QuerySet[RecordsConsent]:
    """The records consents the person answered or may withdraw: for requests on the
    policies they hold, or of which they are the recipient."""
    return RecordsConsent.objects.filter(
        Q(request__policy__holder=person) | Q(person=person)
    ).select_related("request", "request__benefit")


def latest_records_consents(request_ids: Iterable[int]) -> dict[int, RecordsConsent]:
    """Each request's latest records consent (one query)."""
    latest: dict[int, RecordsConsent] = {}
    rows = RecordsConsent.objects.filter(request_id__in=list(request_ids)).order_by(
        "request_id", "-answered_at", "-id"
    )
    for row in rows:
        latest.setdefault(row.request_id, row)
    return latest


def records_withheld(request_ids: Iterable[int]) -> set[int]:
    """Those of ``request_ids`` whose member's records their vendor may not see now (one
    query, set-based): the request's latest records consent was declined or withdrawn, or
    the recipient's latest health-information consent is withdrawn (the privacy page's
    global withdrawal). A request with no records consent row was submitted before this
    consent was asked: the consent given through the insurer when the policy was written
    stands for it, as for ``benefits.policies.consent.consent_problem``."""
    latest_records = RecordsConsent.objects.filter(request=OuterRef("pk")).order_by(
        "-answered_at", "-id"
    )
    latest_health = ConsentRecord.objects.filter(
        person=OuterRef("recipient__person"), kind=ConsentRecord.Kind.HEALTH_INFORMATION
    ).order_by("-granted_at", "-id")
    rows = (
        ServiceRequest.objects.filter(pk__in=list(request_ids))
        .annotate(
            records_given=Subquery(latest_records.values("given")[:1]),
            records_withdrawn_at=Subquery(latest_records.values("withdrawn_at")[:1]),
            health_withdrawn_at=Subquery(latest_health.values("withdrawn_at")[:1]),
        )
        .filter(
            Q(records_given=False)
            | Q(records_withdrawn_at__isnull=False)
            | Q(health_withdrawn_at__isnull=False)
        )
        .values_list("pk", flat=True)
    )
    return set(rows)


def vendor_records_problem(request: ServiceRequest) -> DomainError | None:
    """Why the vendor of ``request`` may not see its member's records now, or None (one
    query: ``records_withheld``). Every vendor path asks this, through
    ``bookings.vendors.selectors``."""
    if request.pk not in records_withheld([request.pk]):
        return None
    return DomainError(
        ErrorCode.RECORDS_CONSENT_WITHDRAWN,
        _("客户未同意或已撤回向服务商提供本次申请资料的同意，暂不能查看资料；请联系保险公司。"),
        status=403,
    )
