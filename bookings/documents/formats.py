"""What an upload is, decided from its *content* (never its file name): PDF, JPEG, PNG or
HEIC, or nothing we accept; and the reasons to refuse one or to flag it for staff."""

from __future__ import annotations

from enum import StrEnum

# puremagic over the alternatives in our registry list: it is pure Python (python-magic needs
# the system libmagic on every machine) and still released (filetype's last release was in
# 2022, and it does not know the HEIC brands heix or hevc). Its table is keyed on major
# brands only, so generic HEIF files (major brand mif1/msf1) are recognised from their ftyp
# box below.
import puremagic

from portal.kernel.errors import DomainError


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


def detect_kind(content: bytes) -> UploadKind | None:
    """The kind of an upload from its first bytes, or None for anything we refuse."""
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
