"""What a policy's end ends (the daily status sweep): the quota part lives in
``benefits.quota.anniversaries``; the requests part is here, where the lifecycle is.

1. policies in force past their expiry date become expired (``policies_expire``);
2. requests of ended policies not yet in service are cancelled and their holds released
   (``request_cancel_for_policy_end``); requests in service continue and use their hold;
3. then every balance of an ended policy loses what is neither used nor held, the holds just
   released included (``ended_policies_balances_expire``).

Idempotent: a second run changes 0 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from benefits.models import Policy
from benefits.quota.anniversaries import ended_policies_balances_expire, policies_expire
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.workflow import BEFORE_SERVICE
from bookings.models import ServiceRequest
from portal.kernel.actor import SYSTEM, Actor


@dataclass(frozen=True)
class SweepResult:
    expired_policies: int  # in force past their expiry date, now expired
    balances_expired: int
    requests_cancelled: int

    @property
    def changed(self) -> int:
        return self.expired_policies + self.balances_expired + self.requests_cancelled


def _cancel_reason(status: str) -> str:
    label = Policy.Status(status).label
    return _("保单已%(status)s，服务尚未开始的申请自动取消") % {"status": label}


def requests_to_cancel() -> QuerySet[ServiceRequest]:
    """Requests not yet in service on a policy that ended. A policy that expired and was
    renewed keeps its open requests: the service continues on renewal, and their holds stay
    in the old period like at an anniversary."""
    renewed = Policy.objects.filter(renewal_of=OuterRef("policy"), status=Policy.Status.IN_FORCE)
    return (
        ServiceRequest.objects.alias(has_renewal=Exists(renewed))
        .filter(status__in=BEFORE_SERVICE)
        .filter(
            Q(policy__status__in=[Policy.Status.LAPSED, Policy.Status.TERMINATED])
            | Q(policy__status=Policy.Status.EXPIRED, has_renewal=False)
        )
    )


def request_cancel_for_policy_end(request_id: int, *, actor: Actor = SYSTEM) -> bool:
    """Cancel a request whose policy ended before its service started, giving back its hold
    whatever the benefit's cancellation terms say (the policyholder did not cancel). Records
    the event (SLA clocks and reminders stop through ``request_event``) and tells the
    policyholder. False if it is no longer before service (started, or already handled)."""
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("policy")
            .filter(pk=request_id, status__in=BEFORE_SERVICE)
            .first()
        )
        if request is None:
            return False
        request_transition(
            request,
            "cancelled",
            actor=actor,
            reason=_cancel_reason(request.policy.status),
            cause="policy_ended",
        )
    return True


def policy_status_sweep(today: date, *, actor: Actor = SYSTEM) -> SweepResult:
    """The three steps above, in that order."""
    expired_policies = policies_expire(today)
    cancelled = 0
    for request_id in sorted(requests_to_cancel().order_by().values_list("pk", flat=True)):
        cancelled += request_cancel_for_policy_end(request_id, actor=actor)
    return SweepResult(
        expired_policies=expired_policies,
        balances_expired=ended_policies_balances_expire(actor=actor),
        requests_cancelled=cancelled,
    )
