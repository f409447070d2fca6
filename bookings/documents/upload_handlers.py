"""Receiving uploads: Django's two upload handlers, made safe for any file name
(``FILE_UPLOAD_HANDLERS`` in the settings names them)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)

from bookings.documents.inspection import UPLOAD_NAME_MAX_CHARS


class MemoryUploadHandler(MemoryFileUploadHandler):
    """Django's handler for small uploads; marks an upload whose name is longer than
    ``UPLOAD_NAME_MAX_CHARS`` (Django cuts it to 255 characters, so ``inspect_upload``
    could not tell) for ``inspect_upload`` to refuse with a Chinese message."""

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        self.name_too_long = len(file_name) > UPLOAD_NAME_MAX_CHARS
        super().new_file(field_name, file_name, *args, **kwargs)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        upload = super().file_complete(file_size)
        if upload is not None:
            upload.name_too_long = self.name_too_long  # type: ignore[attr-defined]
        return upload


class TemporaryUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for large uploads (streamed to a temporary file), marking long names
    as ``MemoryUploadHandler`` does. Django names the temporary file after the upload's
    extension, which fails with a server error when that extension is longer than the file
    system allows ("病历.病病病…"): the temporary file gets a fixed name instead."""

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        self.name_too_long = len(file_name) > UPLOAD_NAME_MAX_CHARS
        FileUploadHandler.new_file(self, field_name, file_name, *args, **kwargs)
        self.file = TemporaryUploadedFile(
            "upload", self.content_type, 0, self.charset, self.content_type_extra
        )
        self.file.name = self.file_name

    def file_complete(self, file_size: int) -> UploadedFile | None:
        upload = super().file_complete(file_size)  # never None from this handler
        if upload is not None:
            upload.name_too_long = self.name_too_long  # type: ignore[attr-defined]
        return upload
