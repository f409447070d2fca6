"""Find the customer (staff search box) and the customer page: what a hotline agent needs
about one person, within the staff user's insurers only.

The search matches a phone (normalised), an ID number (through its keyed digest: no row is
decrypted and the number is never logged), a name, a policy number or a request reference.
Policies and requests are matched within the user's insurers, and so are the people found:
another insurer's customer is simply not found. The customer page reads a fixed number of
queries whatever the number of policies, members, requests or documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from benefits.models import Person, Policy, PolicyMember
from benefits.policies.consents import ConsentRecord
from bookings.models import Document, Milestone, ServiceRequest
from portal.kernel.identity import (
    PhoneNumberError,
    id_number_digest,
    mask_phone,
    normalise_phone,
)
from portal.kernel.tenancy import get_scoped_or_404, scope
from portal.models import SmsMessage
from portal.pages.selectors import MemberBenefits, benefits_overview

SEARCH_LIMIT = 50  # more hits than a list an agent reads: narrow the search instead
MESSAGE_LIMIT = 20
# Deadlines still to meet or already missed; met and cancelled ones are history.
DEADLINE_STATES = (Milestone.State.PENDING, Milestone.State.BREACHED)


def _term_q(user: Any, term: str) -> Q:
    """Which people ``term`` names, the policies and requests among the user's insurers'."""
    found = Q(name__icontains=term)
    try:
        found |= Q(phone=normalise_phone(term))
    except PhoneNumberError:
        pass
    if term.isalnum() and 5 <= len(term) <= 30:  # could be an ID number of any type
        found |= Q(id_digest__in=[id_number_digest(kind, term) for kind in Person.IdType.values])
    policies = scope(Policy.objects.filter(number__iexact=term), user)
    requests = scope(ServiceRequest.objects.filter(ref__iexact=term), user)
    return (
        found
        | Q(pk__in=policies.values("holder_id"))
        | Q(pk__in=PolicyMember.objects.filter(policy__in=policies).values("person_id"))
        | Q(pk__in=requests.values("member__person_id"))
    )


def customer_search(user: Any, term: str) -> list[Person]:
    """The people of the user's insurers that ``term`` names (at most ``SEARCH_LIMIT``)."""
    term = term.strip()
    if not term:
        return []
    people = scope(Person.objects.filter(_term_q(user, term)), user)
    return list(people.order_by("name", "id")[:SEARCH_LIMIT])


@dataclass
class CustomerFile:
    person: Person
    phone_masked: str
    policies: list[Policy]  # members (with their person) prefetched
    benefits: list[MemberBenefits]
    requests: list[ServiceRequest]  # deadlines and documents prefetched
    messages: list[SmsMessage]  # phone, template and time only: a body may hold a login code
    consents: list[ConsentRecord]  # every grant and withdrawal, newest first

    @property
    def documents(self) -> list[Document]:
        return [document for request in self.requests for document in request.documents.all()]


def _policies(user: Any, person: Person) -> QuerySet[Policy]:
    insured_on = PolicyMember.objects.filter(person=person).values("policy_id")
    members = PolicyMember.objects.select_related("person").order_by("ref", "id")
    return (
        scope(Policy.objects.filter(Q(holder=person) | Q(pk__in=insured_on)), user)
        .select_related("product__insurer")
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("-effective_on", "number")
    )


def _requests(user: Any, person: Person, policy_ids: set[int]) -> QuerySet[ServiceRequest]:
    deadlines = Milestone.objects.filter(state__in=DEADLINE_STATES).order_by("due_at", "id")
    return (
        scope(ServiceRequest.objects.filter(policy_id__in=policy_ids), user)
        .filter(Q(member__person=person) | Q(policy__holder=person))
        .select_related("benefit", "policy", "member__person")
        .prefetch_related(
            Prefetch("milestones", queryset=deadlines, to_attr="deadlines"),
            Prefetch("documents", queryset=Document.objects.order_by("uploaded_at", "id")),
        )
        .order_by("-created_at", "-id")
    )


def customer_file(user: Any, person_id: int, at: datetime) -> CustomerFile:
    """Everything the customer page shows about one person of the user's insurers (else
    404): policies, members, what is left of each benefit (the portal's own numbers),
    requests with their deadlines and documents, the texts sent to the person's phone, the
    consents given and withdrawn."""
    person = get_scoped_or_404(Person.objects.all(), user, pk=person_id)
    policies = list(_policies(user, person))
    policy_ids = {policy.pk for policy in policies}
    benefits = [
        line for line in benefits_overview(person, at) if line.member.policy_id in policy_ids
    ]
    messages: list[SmsMessage] = []
    if person.phone:
        messages = list(
            SmsMessage.objects.filter(phone=person.phone).only("phone", "template", "created_at")[
                :MESSAGE_LIMIT
            ]
        )
    return CustomerFile(
        person=person,
        phone_masked=mask_phone(person.phone) if person.phone else "—",
        policies=policies,
        benefits=benefits,
        requests=list(_requests(user, person, policy_ids)),
        messages=messages,
        consents=list(person.consents.order_by("-granted_at", "-id")),
    )


def customer_requests(user: Any, person_id: int) -> QuerySet[ServiceRequest]:
    """The requests the customer page lists for one person of the user's insurers (else
    404), for its export."""
    person = get_scoped_or_404(Person.objects.all(), user, pk=person_id)
    policy_ids = set(_policies(user, person).values_list("pk", flat=True))
    return _requests(user, person, policy_ids)
