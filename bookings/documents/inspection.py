"""Checking the medical records policyholders upload from their phones.

``inspect_upload`` decides from the *content* (never the file name) whether an upload is a
PDF, JPEG, PNG or HEIC image, refuses anything else, and flags PDFs that carry active content
so staff open them with care; ``bookings.documents.storage`` then stores what it accepted.

Medical records are sensitive personal data (PIPL): nothing here logs a file's name or
content, and the name a policyholder gave is only ever shown, never used to build a path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import IO, Protocol, cast

from django.conf import settings
from django.utils.translation import gettext as _

from bookings.documents.content_checks import CONTENT_CHECKS
from bookings.documents.formats import UploadFlag, UploadKind, UploadRejected, detect_kind

MEBIBYTE = 1024 * 1024
# Streams are read in pieces of this size so a huge upload is never held whole just to
# learn that it is too large.
READ_CHUNK_BYTES = MEBIBYTE
DISPLAY_NAME_MAX_CHARS = 100
# An "extension" longer than this is part of the name, not a file type worth keeping.
DISPLAY_EXTENSION_MAX_CHARS = 10
UNNAMED_FILE = "未命名文件"
# Longer names are refused: Django would cut them at 255 characters (what file systems
# keep), and no phone or PC names a file like that.
UPLOAD_NAME_MAX_CHARS = 255


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class UploadCheck:
    """What ``inspect_upload`` learnt about an upload; ``store_upload`` stores only bytes
    whose digest matches ``sha256``."""

    kind: UploadKind
    size: int
    sha256: str
    display_name: str
    flags: tuple[UploadFlag, ...] = ()

    @property
    def content_type(self) -> str:
        return self.kind.content_type


def inspect_upload(
    name: str, data: bytes | Readable, *, max_bytes: int | None = None
) -> UploadCheck:
    """Check an upload and describe it, or raise ``UploadRejected``.

    ``data`` is the whole upload: bytes, or a file-like object that is read from its start
    (rewound when it can seek) and never past ``max_bytes`` + 1 bytes. ``max_bytes``
    defaults to ``settings.UPLOAD_MAX_BYTES``, read at call time.
    """
    if len(name) > UPLOAD_NAME_MAX_CHARS or getattr(data, "name_too_long", False):
        raise UploadRejected(
            "upload_name_too_long",
            _("文件名太长（超过%(limit)d个字），请把文件改成短一些的名字后再上传。")
            % {"limit": UPLOAD_NAME_MAX_CHARS},
        )
    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    content = read_at_most(data, limit + 1)
    if not content:
        raise UploadRejected("upload_empty", _("文件是空的，请重新选择文件上传。"))
    if len(content) > limit:
        raise UploadRejected(
            "upload_too_large",
            _("文件超过%(limit)s MB的上限，请压缩或分成几个文件后再上传。")
            % {"limit": _megabytes(limit)},
            status=413,
        )
    kind = detect_kind(content)
    if kind is None:
        raise UploadRejected(
            "upload_type_not_allowed",
            _("文件内容不是PDF、JPEG、PNG或HEIC图片，请上传病历的PDF文件或照片。"),
            status=415,
        )
    flags = CONTENT_CHECKS[kind](content)
    return UploadCheck(
        kind=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        display_name=safe_display_name(name),
        flags=tuple(sorted(flags)),
    )


def safe_display_name(name: str) -> str:
    """The name to show for an upload: its last path component only, without control or
    bidirectional-override characters (which can make a ``.exe`` read as ``.pdf``) or
    leading dots, at most 100 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    name = name.strip().lstrip(".").strip()
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= DISPLAY_EXTENSION_MAX_CHARS:
            name = stem[: DISPLAY_NAME_MAX_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:DISPLAY_NAME_MAX_CHARS].rstrip()
    return name or UNNAMED_FILE


def read_at_most(data: bytes | Readable, limit: int) -> bytes:
    """At most ``limit`` bytes of ``data``, from its start (rewound when it can seek)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[:limit])
    seekable = getattr(data, "seekable", None)
    if seekable is not None and seekable():
        cast(IO[bytes], data).seek(0)  # a file that says it can seek
    pieces: list[bytes] = []
    remaining = limit
    while remaining > 0:
        piece = data.read(min(remaining, READ_CHUNK_BYTES))
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


def _megabytes(size: int) -> str:
    return f"{round(size / MEBIBYTE, 1):g}"
