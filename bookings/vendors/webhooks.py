"""Telling a vendor about a new assignment: a signed JSON POST to the vendor's URL, retried
with backoff until it is accepted or we give up.

The delivery row is written inside the assignment's transaction (it commits or rolls back
with it); sending happens later, outside any request, by ``webhook_deliver`` (a Celery task
passes the id). The payload carries no personal data, only the request reference: the
vendor reads the details through the API with its token, where every read is scoped and
logged.

Vendors verify ``X-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
shared secret, and reject bodies whose ``timestamp`` (also sent as ``X-Timestamp``) is more
than a few minutes old: the timestamp is inside the signed body, so a replay cannot
refresh it."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from bookings.models import RequestEvent, ServiceRequest, VendorWebhook, WebhookDelivery
from bookings.signals import request_event

ASSIGNED_EVENT = "request.assigned"
WEBHOOK_TIMEOUT_SECONDS = 10
# Waits after the 1st, 2nd … failed attempt; after the last one we give up (the vendor
# still finds the request in its list, which is the source of truth).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A claimed delivery is left alone by other workers for this long; a worker that dies
# mid-send lets the delivery become due again afterwards.
SEND_LEASE = timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3)
LAST_ERROR_MAX_CHARS = 300

Sender = Callable[[str, bytes, dict[str, str]], None]


@receiver(request_event, dispatch_uid="bookings.vendors.webhooks.queue_assignment_webhook")
def queue_assignment_webhook(
    sender: Any, request: ServiceRequest, event: RequestEvent, **kwargs: Any
) -> None:
    """A delivery for the vendor a request was just assigned to, if it has an active
    webhook."""
    if event.event != "assigned" or request.vendor_id is None:
        return
    webhook = VendorWebhook.objects.filter(vendor_id=request.vendor_id, active=True).first()
    if webhook is None:
        return
    WebhookDelivery.objects.create(
        webhook=webhook,
        event=ASSIGNED_EVENT,
        payload=assignment_payload(request, event),
        next_attempt_at=event.at,
    )


def assignment_payload(request: ServiceRequest, event: RequestEvent) -> dict[str, Any]:
    return {
        "event": ASSIGNED_EVENT,
        "ref": request.ref,
        "benefit": request.benefit.code,
        "state": request.status,
        "assigned_at": timezone.localtime(event.at).isoformat(),
    }


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_request(delivery: WebhookDelivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt; each attempt carries its own timestamp."""
    timestamp = str(int(now.timestamp()))
    body = json.dumps(
        {**delivery.payload, "delivery_id": delivery.pk, "timestamp": int(timestamp)},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "health-benefits-webhook/1",
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Delivery": str(delivery.pk),
        "X-Timestamp": timestamp,
        "X-Signature": webhook_signature(delivery.webhook.secret, body),
    }
    return body, headers


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect as a GET without the body; a webhook endpoint that
    # redirects is misconfigured, and the attempt counts as failed.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST and return on any 2xx; raise on anything else."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("回调地址必须以 http:// 或 https:// 开头")
    opener = urllib.request.build_opener(_RefuseRedirects)
    outgoing = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
    with opener.open(outgoing, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"对方返回 HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"连接失败：{exc.reason}"
    if isinstance(exc, TimeoutError):
        return f"超过{WEBHOOK_TIMEOUT_SECONDS}秒未响应"
    return f"发送失败：{exc}"


def webhook_deliver(
    delivery_id: int, *, now: datetime | None = None, send: Sender = http_post
) -> str:
    """Make one attempt at a due delivery; safe to call twice or from two workers at once.

    Returns ``delivered``, ``retry`` (failed, ``next_attempt_at`` set with backoff),
    ``gave_up`` (failed for the last time, or the webhook was switched off) or ``skipped``
    (not due, already delivered, or claimed by another worker). The attempt is claimed with
    a conditional UPDATE on ``attempts``, so exactly one caller sends it."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if (
        delivery is None
        or delivery.delivered_at is not None
        or delivery.next_attempt_at is None
        or delivery.next_attempt_at > now
    ):
        return "skipped"
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        attempts=delivery.attempts,
        delivered_at__isnull=True,
        next_attempt_at__lte=now,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if claimed != 1:
        return "skipped"
    attempt = delivery.attempts + 1
    pending = WebhookDelivery.objects.filter(pk=delivery.pk)
    if not delivery.webhook.active:
        pending.update(next_attempt_at=None, last_error="回调已停用，不再发送")
        return "gave_up"
    body, headers = signed_request(delivery, now)
    try:
        send(delivery.webhook.url, body, headers)
    except Exception as exc:  # every failure is retried; the error is kept for admins
        last_error = _describe(exc)[:LAST_ERROR_MAX_CHARS]
        if attempt >= MAX_ATTEMPTS:
            pending.update(next_attempt_at=None, last_error=last_error)
            return "gave_up"
        pending.update(next_attempt_at=now + RETRY_DELAYS[attempt - 1], last_error=last_error)
        return "retry"
    pending.update(delivered_at=now, next_attempt_at=None, last_error="")
    return "delivered"


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Ids of the deliveries to attempt now, oldest due first (for the periodic task)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
