"""Who did something: a user (staff, policyholder) or a named system part, recorded with every
ledger entry, request event and phone change."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None = None  # the model every ``actor``/``changed_by`` key refers to
    label: str = "system"


SYSTEM = Actor()
