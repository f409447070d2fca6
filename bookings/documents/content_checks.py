"""Per-kind content checks: each refuses a corrupt or oversized upload (``UploadRejected``)
and returns the flags staff should know about (active content in a PDF)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from io import BytesIO

from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from bookings.documents.formats import UploadFlag, UploadKind, UploadRejected

# Images are refused above this many pixels, read from the header without decoding: a
# "decompression bomb" (a small file declaring 20000×20000 pixels) would make every viewer
# that opens it allocate gigabytes. 120 million pixels keeps the 108 MP photos of current
# phones; their 200 MP mode is refused with a hint to use the normal resolution.
MAX_IMAGE_PIXELS = 120_000_000


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
    stack: list[PdfObject | None] = [reader.trailer]  # None: a reference to nothing
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


CONTENT_CHECKS: dict[UploadKind, Callable[[bytes], set[UploadFlag]]] = {
    UploadKind.PDF: _check_pdf,
    UploadKind.JPEG: _check_jpeg,
    UploadKind.PNG: _check_png,
    UploadKind.HEIC: _check_heic,
}
