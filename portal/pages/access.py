"""Who may act for whom in the portal: see a member's benefits, request services, upload
their records, follow and cancel their requests.

A person may act for a policy member when, on the given day (Asia/Shanghai):

1. **Holder** (投保人): they hold the member's policy. A holder acts for every insured member
   of the policies they hold, adults included: they signed the contract and may apply on
   the insured's behalf.
2. **Insured adult** (被保险人本人, 18 or older that day): the membership is their own.
   An insured minor cannot act, not even for themself.
3. **Guardian of a minor** (监护人): the member is under 18 that day, insured with relation
   ``child``, and the actor is the holder of that policy (rule 1) or insured on the same
   policy with relation ``spouse`` (the holder's spouse, the child's other parent).

Nobody else: an adult member cannot act for another adult member of the same policy, and a
spouse cannot act for an adult child. Policy status does not matter here; whether a service
can be used is the eligibility engine's question.

Every check is one query, whatever the number of policies and members, so each portal view
can afford it: ``actable_members`` for lists, ``can_act_for`` for one member.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from dateutil.relativedelta import relativedelta
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone

from benefits.models import Person, PolicyMember
from portal.kernel.identity import phone_key
from portal.models import PolicyholderAccount

ADULT_AGE = 18


def actable_members(person: Person, on: date | None = None) -> QuerySet[PolicyMember]:
    """The policy members ``person`` may act for on ``on`` (today by default), with their
    policy, product and person loaded: one query."""
    on = on or timezone.localdate()
    # Born on or before this day means 18 or older on ``on`` (29 Feb births turn 18 on 1 Mar).
    latest_adult_birth = on - relativedelta(years=ADULT_AGE)
    is_adult = Q(person__birth_date__lte=latest_adult_birth)
    spouse_on_policy = Exists(
        PolicyMember.objects.filter(
            policy=OuterRef("policy"), person=person, relation=PolicyMember.Relation.SPOUSE
        )
    )
    return (
        PolicyMember.objects.filter(
            Q(policy__holder=person)
            | (Q(person=person) & is_adult)
            | (Q(relation=PolicyMember.Relation.CHILD) & ~is_adult & spouse_on_policy)
        )
        .select_related("policy__product", "person")
        .order_by("policy__effective_on", "policy__number", "id")
    )


def can_act_for(person: Person, member: PolicyMember, on: date | None = None) -> bool:
    """Whether ``person`` may act for ``member`` on ``on`` (today by default): one query,
    the same rules as ``actable_members``."""
    return actable_members(person, on).filter(pk=member.pk).exists()


def policyholder_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """For portal views: anonymous visitors go to the login page, a policyholder who has not
    proved their identity yet goes to the bind page, anyone else logged in (a staff user)
    gets 404; a binding whose phone is no longer the person's is logged out. The bound
    person is then available as ``portal_person(request)``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        account = portal_account(request)
        if account.person_id is None:
            return redirect("portal:login_bind")
        if not binding_current(account):
            # The person's phone changed since this account bound: it proves nothing now.
            logout(request)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def portal_account(request: HttpRequest) -> PolicyholderAccount:
    """The logged-in user's account with its person (one query, then cached on the request
    and on ``request.user`` for the page's top bar); 404 for anyone else."""
    cached = getattr(request, "_portal_account", None)
    if cached is not None:
        return cached
    if not request.user.is_authenticated:
        raise Http404
    account = (
        PolicyholderAccount.objects.select_related("person").filter(user_id=request.user.pk).first()
    )
    if account is None:
        raise Http404
    # Also fills the reverse cache, so ``user.policyholder_account`` costs no query.
    account.user = request.user
    request._portal_account = account  # type: ignore[attr-defined]
    return account


def portal_person(request: HttpRequest) -> Person:
    """The person the logged-in policyholder is bound to; 404 when there is none. Views
    decorated with ``policyholder_required`` never see the 404: unbound accounts were sent to
    the bind page before."""
    account = portal_account(request)
    if account.person is None or not binding_current(account):
        raise Http404
    return account.person


def binding_current(account: PolicyholderAccount) -> bool:
    """Whether the account's phone is still its person's phone. A phone change ends the
    bindings of the old phone (``portal.pages.receivers``); this refuses any left behind, so the
    login of a replaced number never reaches the person's records. No query."""
    person = account.person
    return person is not None and phone_key(person.phone) == account.phone
