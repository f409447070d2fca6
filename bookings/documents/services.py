"""Records attached to a request: added after a content check, opened only through here so
that every access is logged (PIPL), whoever reads it (policyholder, insurer, vendor)."""

from __future__ import annotations

from typing import IO

from django.db import transaction

from bookings.documents.inspection import inspect_upload
from bookings.documents.storage import open_upload, store_upload
from bookings.models import Document, DocumentAccess, ServiceRequest
from portal.kernel.actor import Actor


@transaction.atomic
def document_add(
    request: ServiceRequest,
    *,
    name: str,
    data: bytes | IO[bytes],
    actor: Actor,
    requirement: str = "",
    from_vendor: bool = False,
) -> Document:
    """Check the file's content, store it under a random name and attach it. Raises
    ``UploadRejected`` (a DomainError with a Chinese message) for a file we refuse."""
    check = inspect_upload(name, data)
    storage_name = store_upload(check, data)
    return Document.objects.create(
        request=request,
        requirement=requirement,
        display_name=check.display_name,
        storage_name=storage_name,
        content_type=check.content_type,
        size=check.size,
        sha256=check.sha256,
        flags=list(check.flags),
        from_vendor=from_vendor,
        uploaded_by=actor.user,
    )


def document_open(
    document: Document, *, actor: Actor, purpose: str = "view", ip: str | None = None
) -> IO[bytes]:
    """The file, after writing who opened it. The caller has already checked that
    ``actor`` may see ``document`` (portal: the person acts for the recipient; vendor: the
    request is assigned to them; admin: staff with the view permission)."""
    DocumentAccess.objects.create(
        document=document, actor=actor.user, actor_label=actor.label, purpose=purpose, ip=ip
    )
    return open_upload(document.storage_name)
