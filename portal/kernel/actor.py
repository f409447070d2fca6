"""Who did something: a user (staff, policyholder) or a named system part, recorded with every
ledger entry, request event and phone change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None = None  # the model every ``actor``/``changed_by`` key refers to
    label: str = "system"


SYSTEM = Actor()

# The longest actor label the logs store (RequestEvent.actor_label, DocumentAccess.actor_label).
ACTOR_LABEL_MAX_CHARS = 60


def staff_actor(user: Any) -> Actor:
    """How a staff user appears in event, ledger, phone-change and access logs, whatever the
    channel (admin, staff API, hotline): ``staff:<username>``."""
    return Actor(user=user, label=f"staff:{user.get_username()}"[:ACTOR_LABEL_MAX_CHARS])
