"""Cancellation terms: the free window before the service starts, when a cancellation counts
as used, and the alternatives a handbook prints elsewhere."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from benefits.terms.timing import Duration
from benefits.terms.vocabulary import RequestEvent, Strict


class AlternativeCancellation(Strict):
    """Another cancellation window the handbook prints elsewhere, kept so admins can switch."""

    free_before: Duration
    clause: str


class CancellationPolicy(Strict):
    # Cancelling at least this long before the scheduled start is free; later counts as used.
    free_before: Duration | None = None
    # Once the request reaches this event, any cancellation counts as used ("预约即使用").
    counted_as_used_from: RequestEvent | None = None
    # Changes allowed before the free window closes (MDT: at most 2).
    max_changes: Annotated[int, Field(ge=0)] | None = None
    no_show_counts_as_used: bool = True
    vendor_failure_returns_quota: bool = True
    force_majeure_keeps_quota: bool = True
    alternatives: list[AlternativeCancellation] = []
    clause: Annotated[str, Field(min_length=1)]
