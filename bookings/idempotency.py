"""POSTs that apply once per ``Idempotency-Key``, for every API caller of the bookings app:
a vendor (vendor API, keys per vendor) or a staff user (staff API, keys per user). A retry
with the same key and body gets the first answer and changes nothing; the same key with
another body is refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from benefits.models import Vendor
from bookings.models import IdempotentResponse
from portal.kernel.errors import DomainError


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "idempotency_key_reused",
            _("该 Idempotency-Key 已用于另一个请求（路径或内容不同），请为新的操作使用新的 Key"),
            status=422,
        )


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class KeyOwner:
    """Whose keys these are: exactly one of a vendor or a staff user. Two callers may use
    the same key without meeting."""

    vendor: Vendor | None = None
    staff_user: User | None = None

    def __post_init__(self) -> None:
        if (self.vendor is None) == (self.staff_user is None):
            raise ValueError("an idempotency key belongs to one vendor or one staff user")

    def lookup(self) -> dict[str, Any]:
        if self.vendor is not None:
            return {"vendor": self.vendor}
        return {"staff_user": self.staff_user}


def new_key() -> str:
    """A fresh key for a rendered form: its first submit is stored under it."""
    return uuid.uuid4().hex


def request_fingerprint(method: str, path: str, payload: dict[str, Any]) -> str:
    """A digest of what the POST asks for. ``payload`` is the parsed body, so the same JSON
    with other spacing or key order is the same request."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


HASH_CHUNK_BYTES = 1024 * 1024


def upload_sha256(upload: Any) -> str:
    """The digest of an uploaded file (read in chunks, then rewound), for the fingerprint of
    an upload: the same file posted twice is the same request."""
    digest = hashlib.sha256()
    for chunk in upload.chunks(HASH_CHUNK_BYTES):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def error_body(exc: DomainError) -> dict[str, Any]:
    """The API's error shape (``portal.site.api``), so a replayed error reads the same."""
    return {"code": exc.code, "message": exc.message, **exc.details}


def idempotent_call(
    *,
    owner: KeyOwner,
    key: str,
    fingerprint: str,
    apply: Callable[[], tuple[int, dict[str, Any]]],
) -> StoredResponse:
    """Run ``apply`` once per (owner, key) and store its answer; a retry with the same key
    and fingerprint gets the stored answer without running it again.

    Domain errors (409, 404, 422 …) are answers too and are stored: retrying a refused
    operation with the same key is refused the same way. Unexpected exceptions store
    nothing, so the retry runs. Two concurrent first attempts both run ``apply``, but the
    unique (owner, key) constraint makes the second one's insert fail, which rolls back
    everything it applied; it then answers with the first one's response."""
    stored = _stored(owner, key)
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    status, body = apply()
            except DomainError as exc:
                status, body = exc.status, error_body(exc)
            IdempotentResponse.objects.create(
                **owner.lookup(),
                key=key,
                fingerprint=fingerprint,
                status_code=status,
                body=body,
            )
    except IntegrityError:
        stored = _stored(owner, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return StoredResponse(status, body)


def _stored(owner: KeyOwner, key: str) -> IdempotentResponse | None:
    return IdempotentResponse.objects.filter(**owner.lookup(), key=key).first()


def _replay(stored: IdempotentResponse, fingerprint: str) -> StoredResponse:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return StoredResponse(stored.status_code, stored.body, replayed=True)
