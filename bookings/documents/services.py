"""Records attached to a request: added after a content check, opened only through here so
that every access is logged (PIPL), whoever reads it (policyholder, insurer, vendor)."""

from __future__ import annotations

from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _

from bookings.documents.inspection import inspect_upload
from bookings.documents.retention import document_purged_error
from bookings.documents.storage import delete_upload, open_upload, store_upload
from bookings.lifecycle.events import record_event
from bookings.lifecycle.services import request_transition
from bookings.lifecycle.workflow import BEFORE_REVIEW
from bookings.models import Document, DocumentAccess, ServiceRequest, Status
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError, ErrorCode


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
    document = Document.objects.create(
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
    # Each upload is a row on the request's timeline (by name only: the content is private).
    record_event(request, "document_added", request.status, actor, document.display_name)
    return document


@transaction.atomic
def records_supplied(request: ServiceRequest, *, actor: Actor) -> bool:
    """The policyholder added records: a request waiting for them (需补充资料) goes back to
    review. Decided under the request's lock, so a second tab uploading at the same time
    finds it moved on and changes nothing. Returns whether this call moved it; raises the
    lifecycle's DomainError (a Chinese message) if the step is refused."""
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != Status.NEEDS_RECORDS:
        return False
    request_transition(locked, "records_complete", actor=actor, reason=_("客户补充资料"))
    return True


def document_removable(document: Document, *, user_id: int | None) -> bool:
    """Whether ``user_id`` may take the record back: their own upload, not a vendor's,
    while the request is not yet reviewed."""
    return (
        user_id is not None
        and document.uploaded_by_id == user_id
        and not document.from_vendor
        and document.request.status in BEFORE_REVIEW
    )


@transaction.atomic
def document_remove(document: Document, *, actor: Actor) -> None:
    """Delete the policyholder's own record before review; the timeline keeps a row saying
    which file was removed. The stored file goes with the row (``storage`` is private)."""
    user_id = actor.user.pk if actor.user is not None else None
    if not document_removable(document, user_id=user_id):
        raise DomainError(
            ErrorCode.DOCUMENT_NOT_REMOVABLE,
            "审核已开始或不是您上传的资料，不能删除；如需更正请联系客服",
            status=409,
        )
    request = document.request
    name, storage_name = document.display_name, document.storage_name
    document.delete()
    transaction.on_commit(lambda: delete_upload(storage_name))
    record_event(request, "document_removed", request.status, actor, name)


def document_open(
    document: Document, *, actor: Actor, purpose: str = "view", ip: str | None = None
) -> IO[bytes]:
    """The file, after writing who opened it. The caller has already checked that
    ``actor`` may see ``document`` (portal: the person acts for the recipient; vendor: the
    request is assigned to them; admin: staff with the view permission). A file deleted
    after its retention period raises ``document_purged`` (410)."""
    if document.purged_at is not None:
        raise document_purged_error()
    DocumentAccess.objects.create(
        document=document, actor=actor.user, actor_label=actor.label, purpose=purpose, ip=ip
    )
    return open_upload(document.storage_name)
