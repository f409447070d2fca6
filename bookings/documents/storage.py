"""Storing accepted uploads: under a random name in private storage, which has no URL, so
records are only ever served through a view that checks who is asking (``open_upload``)."""

from __future__ import annotations

import hashlib
import re
import secrets

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from bookings.documents.formats import UploadKind
from bookings.documents.inspection import Readable, UploadCheck, read_at_most

# 24 random bytes: 32 URL-safe characters, unguessable and collision-free in practice.
STORED_NAME_RANDOM_BYTES = 24


class PrivateStorage(FileSystemStorage):
    """File storage with no URL at all: ``url()`` raises instead of falling back to
    MEDIA_URL, so a record can never be linked to, only streamed by a checking view."""

    @property
    def base_url(self) -> None:  # type: ignore[override]
        return None


def private_storage() -> PrivateStorage:
    """Storage for uploaded records under ``settings.PRIVATE_MEDIA_ROOT``, files 0600."""
    return PrivateStorage(
        location=settings.PRIVATE_MEDIA_ROOT,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def store_upload(check: UploadCheck, data: bytes | Readable) -> str:
    """Save an upload that ``inspect_upload`` accepted and return its storage name.

    ``data`` must be the same upload that was inspected (bytes, or a file-like object read
    from its start); anything else raises ``ValueError``, so unchecked bytes are never
    stored. The name is random, sharded into directories by its first two characters and
    ends in the extension of the detected kind.
    """
    content = read_at_most(data, check.size + 1)
    if hashlib.sha256(content).hexdigest() != check.sha256:
        raise ValueError("the data to store is not the upload that was inspected")
    token = secrets.token_urlsafe(STORED_NAME_RANDOM_BYTES)
    name = f"{token[:2]}/{token}.{check.kind.extension}"
    return private_storage().save(name, ContentFile(content))


# What store_upload produces; open_upload refuses anything else, whatever a row says.
_STORED_NAME = re.compile(
    r"[A-Za-z0-9_-]{2}/[A-Za-z0-9_-]+\.(?:" + "|".join(kind.extension for kind in UploadKind) + ")"
)


def open_upload(name: str) -> File:
    """Open a stored upload for reading (binary); the caller closes it."""
    if not _STORED_NAME.fullmatch(name):
        raise SuspiciousFileOperation("not a stored upload name")
    return private_storage().open(name, "rb")


def delete_upload(name: str) -> None:
    """Remove a stored upload (its row is gone); a name store_upload did not make is refused."""
    if not _STORED_NAME.fullmatch(name):
        raise SuspiciousFileOperation("not a stored upload name")
    private_storage().delete(name)
