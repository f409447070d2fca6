"""Who did something: a user (staff, policyholder) or a named system part, recorded with every
ledger entry, request event and phone change."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    user: AbstractBaseUser | None = None
    label: str = "system"


SYSTEM = Actor()
