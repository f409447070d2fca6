"""The portal's side of changes made elsewhere: a person's phone changed (staff API, policy
import, admin) ends the portal bindings that phone no longer backs, and both numbers are told.

A binding is made by proving the phone (SMS code) and the ID number together; once the phone
on the person is another number, the account of the old phone proves nothing about that
person any more. Its binding ends in the transaction of the change (so a rolled-back change
ends nothing), every session of its user ends at its next request, and both numbers get a
text once the change commits. ``portal.pages.access`` refuses such a binding too, should one ever
be left by a path that sends no signal.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from benefits.models import Insurer, Person, PhoneChange
from benefits.signals import person_phone_changed
from portal.kernel.clock import SHANGHAI
from portal.kernel.identity import PhoneNumberError, normalise_phone, phone_key
from portal.kernel.sms import send_sms
from portal.models import PolicyholderAccount

logger = logging.getLogger(__name__)

FALLBACK_HOTLINE = _("您的保险公司客服热线")


def end_bindings_of_old_phone(
    sender: Any,
    *,
    person: Person,
    old_phone: str,
    new_phone: str,
    change: PhoneChange,
    **kwargs: Any,
) -> None:
    """Unbind every account of ``person`` whose phone is not the person's phone now (the
    old phone's, and any older one), end their users' sessions, and text both numbers on
    commit. Runs inside the change's transaction."""
    current = phone_key(new_phone)
    # Locked in primary-key order, as account_bind locks them.
    accounts = (
        PolicyholderAccount.objects.select_for_update()
        .select_related("user")
        .filter(person=person)
        .order_by("pk")
    )
    ended = 0
    for account in accounts:
        if account.phone == current:
            continue
        account.person, account.bound_at = None, None
        account.save(update_fields=["person", "bound_at"])
        _end_sessions(account.user)
        ended += 1
    # Ids only: never a phone or an ID number in a log line.
    logger.info(
        "phone change %s of person %s ended %d portal binding(s)", change.pk, person.pk, ended
    )
    context = {"when": _local(change.at), "hotline": _hotline(person)}
    texts = []
    old = _mobile(old_phone)
    if old:
        texts.append((old, "phone_changed_old", {**context, "new_masked": change.new_masked}))
    new = _mobile(new_phone)
    if new:
        texts.append((new, "phone_changed_new", context))
    for phone, template, sms_context in texts:
        transaction.on_commit(_sender(phone, template, sms_context, change.pk))


def _end_sessions(user: Any) -> None:
    """End every session of a password-less policyholder user: Django checks a session's
    auth hash, derived from the password field, on each request, so a new random unusable
    password logs every browser out at its next request (no session table scan). A user
    with a real password is left alone; ``portal.pages.access`` refuses the stale binding."""
    if user.has_usable_password():
        return
    user.set_unusable_password()
    user.save(update_fields=["password"])


def _sender(phone: str, template: str, context: dict[str, str], change_id: int) -> Any:
    def send() -> None:
        try:
            send_sms(phone, template, context)
        except Exception as exc:  # the change stands; the provider may be down
            logger.error(
                "sms %s for phone change %s failed: %s", template, change_id, type(exc).__name__
            )

    return send


def _mobile(phone: str) -> str:
    """The number to text, or "" when there is none we can text."""
    try:
        return normalise_phone(phone) if phone else ""
    except PhoneNumberError:
        return ""


def _local(moment: datetime) -> str:
    return timezone.localtime(moment, SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def _hotline(person: Person) -> str:
    """The hotlines of the insurers the person has policies with (one query)."""
    insurers = (
        Insurer.objects.filter(
            Q(products__policies__holder=person) | Q(products__policies__members__person=person)
        )
        .exclude(hotline="")
        .distinct()
        .order_by("code")
    )
    lines = [f"{insurer.short_name}客服{insurer.hotline}" for insurer in insurers]
    return "或".join(lines) if lines else str(FALLBACK_HOTLINE)


def connect_receivers() -> None:
    person_phone_changed.connect(
        end_bindings_of_old_phone, sender=Person, dispatch_uid="portal:phone-changed"
    )
