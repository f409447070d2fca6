"""What we tell people about their requests (portal, SMS) and operations about SLAs (e-mail),
and the webhook rows that tell vendors.

Texts are Django templates under ``templates/notifications/<code>.txt``: the first line is
the title (the e-mail subject), the rest the body. SMS texts are the provider-registered
templates of ``portal.kernel.sms`` under the same code, filled with the same string context.

Everything that leaves the process is sent after the transaction commits
(``transaction.on_commit``): a rolled-back reminder never reaches a phone. A failed send is
logged with the template code and the notification id only, never the phone number or the
text (PIPL), and does not undo the change that caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from benefits.models import Person
from bookings.models import Milestone, Notification, ServiceRequest, VendorWebhook, WebhookDelivery
from portal.kernel.clock import SHANGHAI
from portal.kernel.sms import send_sms

logger = logging.getLogger(__name__)

# An operations digest lists this many milestones and counts the rest: a backlog of
# thousands after an outage must not become a mail no one can open.
DIGEST_MAX_ITEMS = 50

MILESTONE_EVENTS = {"warning": "milestone.warning", "breach": "milestone.breached"}


def render_notification(template_code: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of ``notifications/<template_code>.txt`` in Simplified Chinese, with
    times shown in Asia/Shanghai whatever the worker's locale."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(SHANGHAI):
        text = render_to_string(f"notifications/{template_code}.txt", dict(context)).strip()
    title, _newline, body = text.partition("\n")
    return title.strip(), body.strip()


def notify_person(
    person: Person,
    request: ServiceRequest | None,
    template_code: str,
    context: Mapping[str, str],
) -> Notification:
    """A portal notification for ``person`` and, once committed, the SMS of the same code to
    their phone. ``context`` holds display strings only (the SMS provider fills its
    registered template with them). Persons have no e-mail address today, so none is sent."""
    title, body = render_notification(template_code, context)
    notification = Notification.objects.create(
        person=person, request=request, title=title[:120], body=body
    )
    if person.phone:
        phone, sms_context = person.phone, dict(context)

        def send() -> None:
            try:
                send_sms(phone, template_code, sms_context)
            except Exception as exc:  # the portal notice stands; the provider may be down
                logger.error(
                    "sms %s for notification %s failed: %s",
                    template_code,
                    notification.pk,
                    type(exc).__name__,
                )

        transaction.on_commit(send)
    return notification


def notify_operations(template_code: str, context: Mapping[str, Any]) -> None:
    """E-mail the insurer's operations (``settings.OPERATIONS_EMAILS``) once committed."""
    recipients = list(settings.OPERATIONS_EMAILS)
    if not recipients:
        return
    subject, body = render_notification(template_code, context)

    def send() -> None:
        try:
            send_mail(subject, body, None, recipients)
        except Exception as exc:  # the milestone is claimed; the admin dashboard still shows it
            logger.error("operations mail %s failed: %s", template_code, type(exc).__name__)

    transaction.on_commit(send)


def contact_person(request: ServiceRequest) -> Person:
    """Who hears about an appointment: the person served if we can text them, else the
    holder, who acts for them in the portal (a child, a parent without a phone)."""
    recipient = request.recipient.person
    return recipient if recipient.phone else request.policy.holder


def local_time(moment: datetime) -> str:
    return timezone.localtime(moment, SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def milestone_payload(row: Milestone, kind: Literal["warning", "breach"]) -> dict[str, Any]:
    """What a vendor's webhook receives: the request reference and the promise, no personal
    data (the vendor reads details through the API, where reads are logged)."""
    return {
        "event": MILESTONE_EVENTS[kind],
        "ref": row.request.ref,
        "benefit": row.request.benefit.code,
        "milestone": row.code,
        "label": row.label,
        "due_at": timezone.localtime(row.due_at, SHANGHAI).isoformat() if row.due_at else None,
    }


def notify_milestones(rows: Sequence[Milestone], *, kind: Literal["warning", "breach"]) -> None:
    """Tell the assigned vendors (webhook, if they have an active one) and operations (one
    digest e-mail) about milestones just warned or breached. ``rows`` come with
    ``request__benefit`` and ``request__vendor`` loaded."""
    now = timezone.now()
    vendor_ids = {row.request.vendor_id for row in rows if row.request.vendor_id}
    webhooks = {
        hook.vendor_id: hook
        for hook in VendorWebhook.objects.filter(vendor_id__in=vendor_ids, active=True)
    }
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook=webhooks[row.request.vendor_id],
            event=MILESTONE_EVENTS[kind],
            payload=milestone_payload(row, kind),
            next_attempt_at=now,
        )
        for row in rows
        if row.request.vendor_id in webhooks
    )
    items = [
        {
            "ref": row.request.ref,
            "benefit": row.request.benefit.name,
            "label": row.label,
            "due": local_time(row.due_at) if row.due_at else "",
            "vendor": row.request.vendor.name if row.request.vendor else "",
            "provisional": row.provisional,
        }
        for row in rows[:DIGEST_MAX_ITEMS]
    ]
    notify_operations(
        f"milestone_{kind}",
        {"items": items, "count": len(rows), "more": max(len(rows) - DIGEST_MAX_ITEMS, 0)},
    )
