"""Checking and storing the medical records policyholders upload from their phones.

``inspect_upload`` decides from the *content* (never the file name) whether an upload is a
PDF, JPEG, PNG or HEIC image, refuses anything else, and flags PDFs that carry active content
so staff open them with care. ``store_upload`` writes an inspected upload under a random name
in private storage, which has no URL: records are only ever served through a view that checks
who is asking (``open_upload``).

Medical records are sensitive personal data (PIPL): nothing here logs a file's name or
content, and the name a policyholder gave is only ever shown, never used to build a path.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from typing import Protocol

# puremagic over the alternatives in our registry list: it is pure Python (python-magic needs
# the system libmagic on every machine) and still released (filetype's last release was in
# 2022, and it does not know the HEIC brands heix or hevc). Its table is keyed on major
# brands only, so generic HEIF files (major brand mif1/msf1) are recognised from their ftyp
# box below.
import puremagic
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    TemporaryFileUploadHandler,
)
from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from portal.kernel.errors import DomainError

MEBIBYTE = 1024 * 1024
# Streams are read in pieces of this size so a huge upload is never held whole just to
# learn that it is too large.
READ_CHUNK_BYTES = MEBIBYTE
DISPLAY_NAME_MAX_CHARS = 100
# An "extension" longer than this is part of the name, not a file type worth keeping.
DISPLAY_EXTENSION_MAX_CHARS = 10
UNNAMED_FILE = "未命名文件"
# 24 random bytes: 32 URL-safe characters, unguessable and collision-free in practice.
STORED_NAME_RANDOM_BYTES = 24
# Longer names are refused: Django would cut them at 255 characters (what file systems
# keep), and no phone or PC names a file like that.
UPLOAD_NAME_MAX_CHARS = 255
# Images are refused above this many pixels, read from the header without decoding: a
# "decompression bomb" (a small file declaring 20000×20000 pixels) would make every viewer
# that opens it allocate gigabytes. 120 million pixels keeps the 108 MP photos of current
# phones; their 200 MP mode is refused with a hint to use the normal resolution.
MAX_IMAGE_PIXELS = 120_000_000


class UploadKind(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    HEIC = "heic"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_CONTENT_TYPES = {
    UploadKind.PDF: "application/pdf",
    UploadKind.JPEG: "image/jpeg",
    UploadKind.PNG: "image/png",
    UploadKind.HEIC: "image/heic",
}
_EXTENSIONS = {
    UploadKind.PDF: "pdf",
    UploadKind.JPEG: "jpg",
    UploadKind.PNG: "png",
    UploadKind.HEIC: "heic",
}


class UploadFlag(StrEnum):
    """Reasons for staff to open a stored record with care; none of them refuses it."""

    PDF_JAVASCRIPT = "pdf_javascript"
    # Actions that run without a click: /AA, or an /OpenAction that is more than a "go to".
    PDF_AUTO_ACTION = "pdf_auto_action"
    PDF_LAUNCH = "pdf_launch"
    PDF_EMBEDDED_FILE = "pdf_embedded_file"
    PDF_ENCRYPTED = "pdf_encrypted"


class UploadRejected(DomainError):
    """An upload refused before anything is stored; ``code`` says why."""


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
    content = _read_at_most(data, limit + 1)
    if not content:
        raise UploadRejected("upload_empty", _("文件是空的，请重新选择文件上传。"))
    if len(content) > limit:
        raise UploadRejected(
            "upload_too_large",
            _("文件超过%(limit)s MB的上限，请压缩或分成几个文件后再上传。")
            % {"limit": _megabytes(limit)},
            status=413,
        )
    kind = _detect_kind(content)
    if kind is None:
        raise UploadRejected(
            "upload_type_not_allowed",
            _("文件内容不是PDF、JPEG、PNG或HEIC图片，请上传病历的PDF文件或照片。"),
            status=415,
        )
    flags = _CHECKS[kind](content)
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
    content = _read_at_most(data, check.size + 1)
    if hashlib.sha256(content).hexdigest() != check.sha256:
        raise ValueError("the data to store is not the upload that was inspected")
    token = secrets.token_urlsafe(STORED_NAME_RANDOM_BYTES)
    name = f"{token[:2]}/{token}.{check.kind.extension}"
    return private_storage().save(name, ContentFile(content))


# What store_upload produces; open_upload refuses anything else, whatever a row says.
_STORED_NAME = re.compile(
    r"[A-Za-z0-9_-]{2}/[A-Za-z0-9_-]+\.(?:" + "|".join(_EXTENSIONS.values()) + ")"
)


def open_upload(name: str) -> File:
    """Open a stored upload for reading (binary); the caller closes it."""
    if not _STORED_NAME.fullmatch(name):
        raise SuspiciousFileOperation("not a stored upload name")
    return private_storage().open(name, "rb")


def _read_at_most(data: bytes | Readable, limit: int) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[:limit])
    seekable = getattr(data, "seekable", None)
    if seekable is not None and seekable():
        data.seek(0)  # type: ignore[union-attr]
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


# --- receiving uploads: Django's upload handlers, safe for any file name ------------------


class MemoryUploadHandler(MemoryFileUploadHandler):
    """Django's handler for small uploads; marks an upload whose name is longer than
    ``UPLOAD_NAME_MAX_CHARS`` (Django cuts it to 255 characters, so ``inspect_upload``
    could not tell) for ``inspect_upload`` to refuse with a Chinese message."""

    def new_file(self, field_name: str, file_name: str, *args: object, **kwargs: object) -> None:
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

    def new_file(self, field_name: str, file_name: str, *args: object, **kwargs: object) -> None:
        self.name_too_long = len(file_name) > UPLOAD_NAME_MAX_CHARS
        FileUploadHandler.new_file(self, field_name, file_name, *args, **kwargs)
        self.file = TemporaryUploadedFile(
            "upload", self.content_type, 0, self.charset, self.content_type_extra
        )
        self.file.name = self.file_name

    def file_complete(self, file_size: int) -> UploadedFile:
        upload = super().file_complete(file_size)
        upload.name_too_long = self.name_too_long  # type: ignore[attr-defined]
        return upload


# --- type detection ---------------------------------------------------------------------

_KINDS_BY_PUREMAGIC_EXTENSION = {
    ".pdf": UploadKind.PDF,
    ".jpg": UploadKind.JPEG,
    ".jpeg": UploadKind.JPEG,
    ".jfif": UploadKind.JPEG,
    ".jpe": UploadKind.JPEG,
    ".png": UploadKind.PNG,
    ".heic": UploadKind.HEIC,
    ".heif": UploadKind.HEIC,
}
# HEVC-coded HEIF brands (ISO/IEC 23008-12 Annex B): what iPhones and most Android phones
# write.
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
# Generic HEIF brands: the codec is named by the compatible brands that follow.
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# AVIF also declares mif1; browsers and staff tools do not treat it as HEIC, so it is refused.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def _detect_kind(content: bytes) -> UploadKind | None:
    matches = puremagic.magic_string(content)
    if matches:
        best = matches[0].confidence
        for match in matches:
            # puremagic also lists hex dumps *written as text* ("\x89PNG"): text, not images.
            if match.confidence < best or match.byte_match.startswith(b"\\"):
                continue
            if kind := _KINDS_BY_PUREMAGIC_EXTENSION.get(match.extension):
                return kind
    return _generic_heif_kind(content)


def _ftyp_brands(content: bytes) -> tuple[bytes, frozenset[bytes]] | None:
    """The major and compatible brands of an ISO-BMFF file's leading ftyp box."""
    if content[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(content[:4])
    if box_size < 16 or box_size > len(content) or box_size % 4:
        return None
    compatible = frozenset(content[i : i + 4] for i in range(16, box_size, 4))
    return content[8:12], compatible


def _generic_heif_kind(content: bytes) -> UploadKind | None:
    brands = _ftyp_brands(content)
    if brands is None:
        return None
    major, compatible = brands
    if major not in _GENERIC_HEIF_BRANDS:
        return None
    if compatible & _AVIF_BRANDS and not compatible & _HEVC_BRANDS:
        return None
    return UploadKind.HEIC


# --- per-kind checks: raise upload_corrupt, return flags ---------------------------------


def _corrupt() -> UploadRejected:
    return UploadRejected(
        "upload_corrupt", _("文件已损坏或不完整，无法打开，请重新导出或重新拍照后上传。")
    )


def _check_pixels(width: int, height: int) -> None:
    """Refuse an image whose header declares more than ``MAX_IMAGE_PIXELS``."""
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadRejected(
            "upload_too_many_pixels",
            _(
                "图片像素过高（%(width)d×%(height)d，超过%(limit)d万像素），无法查看。"
                "请用手机默认分辨率重新拍照，或缩小图片后再上传。"
            )
            % {"width": width, "height": height, "limit": MAX_IMAGE_PIXELS // 10_000},
            status=413,
        )


def _check_pdf(content: bytes) -> set[UploadFlag]:
    flags: set[UploadFlag] = set()
    # pypdf is not only hit by its own errors on hostile input (ValueError, KeyError,
    # RecursionError...): any failure to read the structure means the file is corrupt.
    try:
        reader = PdfReader(BytesIO(content), strict=False)
        readable = True
        if reader.is_encrypted:
            flags.add(UploadFlag.PDF_ENCRYPTED)
            # Owner-password-only PDFs open with the empty user password; those that need a
            # password cannot be walked and are only searched byte by byte.
            readable = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        page_count = len(reader.pages) if readable else None
    except Exception as exc:
        raise _corrupt() from exc
    if page_count == 0:
        raise _corrupt()
    if not (readable and _walk_pdf_objects(reader, flags)):
        flags |= _pdf_flags_from_bytes(content)
    return flags


def _walk_pdf_objects(reader: PdfReader, flags: set[UploadFlag]) -> bool:
    """Add the flags of every object reachable from the trailer, including objects packed
    in compressed object streams; False when some object could not be read."""
    complete = True
    seen: set[tuple[int, int]] = set()
    # An explicit stack: a hostile file can nest arrays deeper than Python's recursion limit.
    stack: list[PdfObject] = [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                obj = obj.get_object()
            except Exception:
                complete = False
                continue
        if isinstance(obj, DictionaryObject):
            try:
                flags |= _pdf_dictionary_flags(obj)
            except Exception:
                complete = False
            # Unresolved values: references are resolved (once each) when popped.
            stack.extend(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return complete


def _pdf_dictionary_flags(dictionary: DictionaryObject) -> set[UploadFlag]:
    flags: set[UploadFlag] = set()
    keys = set(dictionary.keys())
    action_type = dictionary.get("/S")
    if keys & {"/JS", "/JavaScript"} or action_type == "/JavaScript":
        flags.add(UploadFlag.PDF_JAVASCRIPT)
    if "/AA" in keys:
        flags.add(UploadFlag.PDF_AUTO_ACTION)
    if "/OpenAction" in keys:
        # A destination array (open at page 1) is harmless; an action dictionary is not,
        # unless it only goes to a page.
        open_action = dictionary.get("/OpenAction")
        if isinstance(open_action, IndirectObject):
            open_action = open_action.get_object()
        if isinstance(open_action, DictionaryObject) and open_action.get("/S") != "/GoTo":
            flags.add(UploadFlag.PDF_AUTO_ACTION)
    if action_type == "/Launch":
        flags.add(UploadFlag.PDF_LAUNCH)
    if keys & {"/EmbeddedFiles", "/EF"} or dictionary.get("/Type") == "/EmbeddedFile":
        flags.add(UploadFlag.PDF_EMBEDDED_FILE)
    return flags


# A PDF name token: "/" and the regular characters up to the next delimiter or white space.
_PDF_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Stream bodies are binary (compressed or encrypted): skipped, so that random bytes that
# happen to spell "/AA" raise no flag.
_PDF_STREAM_BODY = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_FLAGS_BY_PDF_NAME = {
    b"JS": UploadFlag.PDF_JAVASCRIPT,
    b"JavaScript": UploadFlag.PDF_JAVASCRIPT,
    b"AA": UploadFlag.PDF_AUTO_ACTION,
    b"Launch": UploadFlag.PDF_LAUNCH,
    b"EmbeddedFile": UploadFlag.PDF_EMBEDDED_FILE,
    b"EmbeddedFiles": UploadFlag.PDF_EMBEDDED_FILE,
    b"EF": UploadFlag.PDF_EMBEDDED_FILE,
}


def _pdf_flags_from_bytes(content: bytes) -> set[UploadFlag]:
    """Fallback when pypdf cannot read every object (damaged, or needs a password): names
    in the uncompressed parts of the file. It cannot see inside object streams, and cannot
    tell a harmless /OpenAction from a harmful one, so it does not flag /OpenAction itself
    (the JavaScript such an action runs is flagged by its own /JS name)."""
    flags: set[UploadFlag] = set()
    for match in _PDF_NAME.finditer(_PDF_STREAM_BODY.sub(b"stream endstream", content)):
        name = _PDF_NAME_ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()), match[1])
        if flag := _FLAGS_BY_PDF_NAME.get(name):
            flags.add(flag)
    return flags


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _check_png(content: bytes) -> set[UploadFlag]:
    """The header chunk must be intact (checksum, non-zero size) and the end chunk present:
    a truncated upload fails here."""
    header = content[len(_PNG_SIGNATURE) :][:25]
    if len(header) < 25 or header[:8] != b"\x00\x00\x00\rIHDR":
        raise _corrupt()
    if zlib.crc32(header[4:21]) != int.from_bytes(header[21:25]):
        raise _corrupt()
    width, height = int.from_bytes(header[8:12]), int.from_bytes(header[12:16])
    if not (width and height):
        raise _corrupt()
    _check_pixels(width, height)
    if _PNG_END not in content:
        raise _corrupt()
    return set()


# JPEG markers that stand alone, without a length: TEM and the restart markers.
_JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
# Start-of-frame markers (every coding: baseline, progressive, lossless, arithmetic), whose
# segment declares the image's size; C4, C8 and CC in that range are other markers.
_JPEG_START_OF_FRAME = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_START_OF_SCAN = 0xDA
_JPEG_END_OF_IMAGE = b"\xff\xd9"


def _check_jpeg(content: bytes) -> set[UploadFlag]:
    """Walk the marker segments to the first scan and require an end-of-image marker after
    it. Looking only after the scan matters: the EXIF thumbnail, before it, has its own.
    The frame header on the way gives the size (height 0, "defined later", is not
    supported by viewers: corrupt)."""
    position = 2  # after the start-of-image marker
    while True:
        if position + 4 > len(content) or content[position] != 0xFF:
            raise _corrupt()
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        if marker == _JPEG_END_OF_IMAGE[1]:
            raise _corrupt()  # an image that ends before any picture data
        segment_length = int.from_bytes(content[position + 2 : position + 4])
        if segment_length < 2:
            raise _corrupt()
        if marker in _JPEG_START_OF_FRAME:
            frame = content[position + 4 : position + 2 + segment_length]
            if len(frame) < 6:
                raise _corrupt()
            height, width = int.from_bytes(frame[1:3]), int.from_bytes(frame[3:5])
            if not (width and height):
                raise _corrupt()
            _check_pixels(width, height)
        position += 2 + segment_length
        if marker == _JPEG_START_OF_SCAN:
            break
    if _JPEG_END_OF_IMAGE not in content[position:]:
        raise _corrupt()
    return set()


def _boxes(content: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The ISO-BMFF boxes that tile ``content[start:end]``: (type, payload start, end) each;
    ``_corrupt()`` when they do not tile it exactly (a truncated upload leaves its last box
    short)."""
    position = start
    while position < end:
        header = content[position : position + 8]
        if len(header) < 8 or position + 8 > end:
            raise _corrupt()
        box_size, box_type, header_size = int.from_bytes(header[:4]), header[4:], 8
        if box_size == 1:  # the real size follows as 64 bits
            box_size, header_size = int.from_bytes(content[position + 8 : position + 16]), 16
            if box_size < 16:
                raise _corrupt()
        elif box_size == 0:  # the box runs to the end of its container
            box_size = end - position
        elif box_size < 8:
            raise _corrupt()
        if position + box_size > end:
            raise _corrupt()
        yield box_type, position + header_size, position + box_size
        position += box_size


# Full boxes (ISO/IEC 14496-12) start their payload with a version byte and 3 flag bytes.
_FULL_BOX_HEADER = 4


def _check_heic(content: bytes) -> set[UploadFlag]:
    """The top-level boxes must tile the file and include the ``meta`` box that describes
    the image. (Decoding HEVC needs a native library we do not want on the web servers.)
    The image sizes are its ``ispe`` properties (ISO/IEC 23008-12: meta → iprp → ipco): one
    per coded item, tiles and thumbnails included, the whole picture (a grid) the largest."""
    meta = None
    for box_type, payload, box_end in _boxes(content, 0, len(content)):
        if box_type == b"meta" and meta is None:
            meta = (payload + _FULL_BOX_HEADER, box_end)
    if meta is None:
        raise _corrupt()
    for width, height in _heic_image_sizes(content, *meta):
        _check_pixels(width, height)
    return set()


def _heic_image_sizes(content: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Width and height of every ``ispe`` in the meta box's payload ``content[start:end]``.
    A meta box whose inner boxes do not tile is not refused here: no viewer could show
    that image, so it is no bomb, and a quirk of some camera must not refuse a photo."""
    try:
        for box_type, payload, box_end in _boxes(content, start, end):
            if box_type != b"iprp":
                continue
            for inner_type, inner_payload, inner_end in _boxes(content, payload, box_end):
                if inner_type != b"ipco":
                    continue
                for prop_type, prop_payload, prop_end in _boxes(content, inner_payload, inner_end):
                    size = content[prop_payload + _FULL_BOX_HEADER : prop_end]
                    if prop_type == b"ispe" and len(size) >= 8:
                        yield int.from_bytes(size[:4]), int.from_bytes(size[4:8])
    except UploadRejected:
        return


_CHECKS = {
    UploadKind.PDF: _check_pdf,
    UploadKind.JPEG: _check_jpeg,
    UploadKind.PNG: _check_png,
    UploadKind.HEIC: _check_heic,
}
