"""Policyholder accounts: created at the first verified login, bound once to a ``Person``.

Binding needs two proofs together: the SMS code proved the phone, the ID number typed on the
bind page must belong to a person registered with that same phone. A mismatch never says
which of the two failed, and 5 failures on one day (Asia/Shanghai) stop binding until the
next day, so the page cannot be used to test ID numbers against a phone.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.models import Person
from portal.kernel.errors import DomainError
from portal.kernel.identity import IdNumberError, id_number_digest, validate_id_number
from portal.models import PolicyholderAccount
from portal.pages.otp import normalise_phone

MAX_BIND_FAILURES_PER_DAY = 5


def account_for_phone(phone: str) -> PolicyholderAccount:
    """The account of a verified phone, created with a password-less user on first login.
    Call only after ``otp_verify`` succeeded for ``phone``."""
    phone = normalise_phone(phone)
    account = PolicyholderAccount.objects.select_related("user", "person").filter(phone=phone)
    existing = account.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            # A random username: the phone must not show up in admin's user list or logs.
            user = get_user_model()(username=f"ph_{secrets.token_hex(8)}")
            user.set_unusable_password()
            user.save()
            return PolicyholderAccount.objects.create(user=user, phone=phone)
    except IntegrityError:
        # The same phone verified twice at once: the other request created the account.
        return account.get()


def account_bind(
    *, account: PolicyholderAccount, id_type: str, id_number: str, now: datetime | None = None
) -> PolicyholderAccount:
    """Bind ``account`` to the person with this ID number and the account's phone.

    Raises ``DomainError``: ``invalid_id_number`` (format; not counted as a failure, it
    reveals nothing about who is registered), ``bind_mismatch`` (no such person with this
    phone; counted), ``bind_locked`` (too many failures today), ``already_bound``.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    try:
        number = validate_id_number(id_type, id_number)
    except IdNumberError as exc:
        raise DomainError("invalid_id_number", str(exc)) from None
    with transaction.atomic():
        locked = PolicyholderAccount.objects.select_for_update().get(pk=account.pk)
        if locked.person_id is not None:
            raise DomainError("already_bound", _("该账户已完成身份验证"))
        failures_today = locked.bind_failures if locked.bind_failures_on == today else 0
        if failures_today >= MAX_BIND_FAILURES_PER_DAY:
            raise _locked_error()
        person = Person.objects.filter(id_digest=id_number_digest(id_type, number)).first()
        if person is not None and _same_phone(person.phone, locked.phone):
            locked.person = person
            locked.bound_at = now
            locked.bind_failures = 0
            locked.bind_failures_on = None
            locked.save(update_fields=["person", "bound_at", "bind_failures", "bind_failures_on"])
            account.person, account.bound_at = person, now
            return account
        locked.bind_failures = failures_today + 1
        locked.bind_failures_on = today
        locked.save(update_fields=["bind_failures", "bind_failures_on"])
    # Raised after the commit so the failure just counted is kept.
    if locked.bind_failures >= MAX_BIND_FAILURES_PER_DAY:
        raise _locked_error()
    raise DomainError(
        "bind_mismatch",
        _("证件信息与本手机号登记的保单信息不一致，请核对后重试（今日还可尝试%(count)d次）")
        % {"count": MAX_BIND_FAILURES_PER_DAY - locked.bind_failures},
    )


def _same_phone(registered: str, verified: str) -> bool:
    # Phones on policies come from insurers' systems in any format; compare normalised.
    try:
        return normalise_phone(registered) == verified
    except DomainError:
        return False


def _locked_error() -> DomainError:
    return DomainError(
        "bind_locked",
        _("今日身份验证失败次数过多，请明天再试，或致电客服协助处理"),
        status=429,
    )
