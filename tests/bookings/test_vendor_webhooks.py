"""Vendor webhooks: a new assignment queues one signed delivery, sent once, retried with
backoff, and given up after the last attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benefits.models import Vendor
from bookings.models import VendorWebhook, WebhookDelivery
from bookings.vendors.webhooks import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    webhook_deliver,
    webhook_deliveries_due,
)
from tests.bookings.test_vendor_api import assigned_request
from tests.clock import TZ

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"


class Receiver:
    """A vendor's endpoint on localhost answering ``status`` and keeping what it got."""

    def __init__(self, status: int):
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.received.append((dict(self.headers), self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/assigned"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vendor() -> Vendor:
    return Vendor.objects.get(code="pingan_team")


def hook(vendor: Vendor, url: str = "https://vendor.example.cn/hooks", active: bool = True):
    return VendorWebhook.objects.create(vendor=vendor, url=url, secret=SECRET, active=active)


def test_an_assignment_queues_one_delivery_without_personal_data(vendor):
    hook(vendor)

    request = assigned_request("PA-HOOK-1", vendor)

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "request.assigned"
    assert delivery.payload["ref"] == request.ref
    assert delivery.payload["benefit"] == "pingan.health.outpatient_assist"
    assert delivery.payload["assigned_at"].endswith("+08:00")
    person = request.recipient.person
    text = json.dumps(delivery.payload, ensure_ascii=False)
    assert person.name not in text and person.phone not in text
    assert delivery.next_attempt_at is not None and delivery.delivered_at is None


def test_no_delivery_for_a_vendor_without_an_active_webhook(vendor):
    hook(vendor, active=False)

    assigned_request("PA-HOOK-OFF", vendor)

    assert not WebhookDelivery.objects.exists()


def test_a_delivery_is_signed_and_sent_once(vendor):
    with Receiver(status=204) as receiver:
        hook(vendor, url=receiver.url)
        assigned_request("PA-HOOK-SEND", vendor)
        delivery = WebhookDelivery.objects.get()
        now = delivery.next_attempt_at + timedelta(seconds=1)

        outcomes = [webhook_deliver(delivery.pk, now=now), webhook_deliver(delivery.pk, now=now)]

    assert outcomes == ["delivered", "skipped"]
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    sent = json.loads(body)
    assert sent["event"] == "request.assigned"
    assert sent["delivery_id"] == delivery.pk
    assert str(sent["timestamp"]) == headers["X-Timestamp"] == str(int(now.timestamp()))
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.delivered_at, delivery.next_attempt_at) == (1, now, None)


def test_a_refused_delivery_is_retried_with_backoff_then_given_up(vendor):
    with Receiver(status=500) as receiver:
        hook(vendor, url=receiver.url)
        assigned_request("PA-HOOK-RETRY", vendor)
        delivery = WebhookDelivery.objects.get()
        now = delivery.next_attempt_at

        first = webhook_deliver(delivery.pk, now=now)
        delivery.refresh_from_db()
        too_early = webhook_deliver(delivery.pk, now=now + RETRY_DELAYS[0] - timedelta(seconds=1))

    assert (first, too_early) == ("retry", "skipped")
    assert len(receiver.received) == 1
    assert delivery.attempts == 1
    assert delivery.next_attempt_at == now + RETRY_DELAYS[0]
    assert delivery.last_error == "对方返回 HTTP 500"


def test_after_the_last_attempt_the_delivery_is_given_up(vendor):
    hook(vendor)
    assigned_request("PA-HOOK-GIVEUP", vendor)
    delivery = WebhookDelivery.objects.get()
    calls = []

    def unreachable(url: str, body: bytes, headers: dict[str, str]) -> None:
        calls.append(url)
        raise TimeoutError

    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        delivery.refresh_from_db()
        outcomes.append(
            webhook_deliver(delivery.pk, now=delivery.next_attempt_at, send=unreachable)
        )

    assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["gave_up"]
    assert len(calls) == MAX_ATTEMPTS
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None and delivery.delivered_at is None
    assert delivery.last_error == "超过10秒未响应"
    assert webhook_deliveries_due(now=datetime(2100, 1, 1, tzinfo=TZ)) == []


def test_only_due_deliveries_are_listed(vendor):
    webhook = hook(vendor)
    now = datetime(2026, 3, 2, 10, tzinfo=TZ)
    due = WebhookDelivery.objects.create(
        webhook=webhook, event="request.assigned", payload={}, next_attempt_at=now
    )
    WebhookDelivery.objects.create(
        webhook=webhook,
        event="request.assigned",
        payload={},
        next_attempt_at=now + timedelta(minutes=1),
    )
    WebhookDelivery.objects.create(
        webhook=webhook,
        event="request.assigned",
        payload={},
        next_attempt_at=None,
        delivered_at=now - timedelta(hours=1),
    )

    assert webhook_deliveries_due(now=now) == [due.pk]


def test_a_switched_off_webhook_gives_up_its_pending_deliveries(vendor):
    webhook = hook(vendor)
    assigned_request("PA-HOOK-SWITCH", vendor)
    delivery = WebhookDelivery.objects.get()
    webhook.active = False
    webhook.save()

    outcome = webhook_deliver(delivery.pk, now=delivery.next_attempt_at)

    assert outcome == "gave_up"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None and delivery.delivered_at is None
