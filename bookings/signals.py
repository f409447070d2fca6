"""Signals other parts listen to without the lifecycle knowing them (SLA clocks, vendor
webhooks). Receivers run inside the transition's transaction: what they write commits or
rolls back with it; anything that leaves the process must use ``transaction.on_commit``."""

from django.dispatch import Signal

# Sent after every recorded event: sender=ServiceRequest, request, event (RequestEvent).
request_event = Signal()
