"""Medical-record uploads: content decides the type, active PDFs are flagged, names are only
shown, and stored files sit in private storage with no URL."""

import io
import random
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from bookings.documents.formats import UploadFlag, UploadKind, UploadRejected
from bookings.documents.inspection import UNNAMED_FILE, inspect_upload
from bookings.documents.storage import open_upload, private_storage, store_upload

MEBIBYTE = 1024 * 1024

# --- real files, built here --------------------------------------------------------------


def _pdf(build: Callable[[PdfWriter], None] | None = None, *, password: str | None = None):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if build:
        build(writer)
    if password is not None:
        writer.encrypt(password, "owner-password", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(action_type: str, **strings: str) -> DictionaryObject:
    entries = {NameObject("/S"): NameObject(f"/{action_type}")}
    entries.update({NameObject(f"/{key}"): TextStringObject(v) for key, v in strings.items()})
    return DictionaryObject(entries)


def _open_action_javascript(writer: PdfWriter) -> None:
    action = _action("JavaScript", JS="app.launchURL('x')")
    writer.root_object[NameObject("/OpenAction")] = action


def _open_action_launch(writer: PdfWriter) -> None:
    action = _action("Launch", F="cmd.exe")
    writer.root_object[NameObject("/OpenAction")] = action


def _document_level_javascript(writer: PdfWriter) -> None:
    writer.add_open_action(JavaScript("app.alert('x')"))


def _page_open_javascript(writer: PdfWriter) -> None:
    action = _action("JavaScript", JS="app.alert('x')")
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})


def _attachment(writer: PdfWriter) -> None:
    writer.add_attachment("payload.exe", b"MZ\x90\x00")


def _open_at_first_page(writer: PdfWriter) -> None:
    writer.open_destination = writer.pages[0]


def _pdf_with_javascript_in_object_stream() -> bytes:
    """PDF 1.5 whose catalog and JavaScript /OpenAction live only inside a compressed object
    stream, indexed by a cross-reference stream (pypdf writes neither, so by hand)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /S /JavaScript /JS (app.alert\\('x'\\)) >>",
    ]
    offsets, body = [], b""
    for number, obj in enumerate(objects, start=1):
        offsets.append(f"{number} {len(body)}")
        body += obj + b"\n"
    index = " ".join(offsets).encode() + b"\n"
    packed = zlib.compress(index + body)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    object_stream_at = len(out)
    out += b"5 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n" % (
        len(objects),
        len(index),
        len(packed),
    )
    out += b"stream\n" + packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [(0, 0, 0xFFFF)]
    rows += [(2, 5, position) for position in range(len(objects))]
    rows += [(1, object_stream_at, 0), (1, xref_at, 0)]
    table = b"".join(
        kind.to_bytes(1) + field.to_bytes(4) + generation.to_bytes(2)
        for kind, field, generation in rows
    )
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(table)
    out += b"stream\n" + table + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _image(image_format: str) -> bytes:
    """A small photo of noise: most of the file is picture data, as in a real photo."""
    size = (64, 48)
    pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, image_format)
    return out.getvalue()


def _box(box_type: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4) + box_type + payload


def _heic(major: bytes = b"heic", compatible: tuple[bytes, ...] = (b"mif1", b"heic")) -> bytes:
    """The ISO-BMFF layout an iPhone writes: ftyp, meta (with a picture handler), mdat."""
    ftyp = _box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compatible))
    handler = _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13)
    meta = _box(b"meta", b"\x00\x00\x00\x00" + handler)
    return ftyp + meta + _box(b"mdat", b"\x00" * 256)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("report.pdf", b"%PDF-1.7 not really")
    return out.getvalue()


class CountingStream(io.RawIOBase):
    """An endless phone upload that cannot seek; counts what was read from it."""

    def __init__(self, head: bytes):
        self.head = head
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = (self.head[self.bytes_read :] or b"\x00")[: len(buffer)]
        chunk = chunk.ljust(len(buffer), b"\x00")
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


# --- type from content -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind", "content_type"),
    [
        ("报告.pdf", _pdf(), UploadKind.PDF, "application/pdf"),
        ("IMG_0001.JPG", _image("JPEG"), UploadKind.JPEG, "image/jpeg"),
        ("截图.png", _image("PNG"), UploadKind.PNG, "image/png"),
        ("IMG_0002.HEIC", _heic(), UploadKind.HEIC, "image/heic"),
        # The name is ignored: a photo named .pdf is stored and served as the photo it is.
        ("化验单.pdf", _image("PNG"), UploadKind.PNG, "image/png"),
        ("no-extension", _image("JPEG"), UploadKind.JPEG, "image/jpeg"),
    ],
)
def test_it_accepts_records_by_content(name, content, kind, content_type):
    check = inspect_upload(name, content)

    assert check.kind == kind
    assert check.content_type == content_type
    assert check.size == len(content)
    assert check.flags == ()


@pytest.mark.parametrize(
    ("major", "compatible"),
    [
        (b"heic", (b"mif1", b"heic")),  # iPhone
        (b"heix", (b"mif1", b"heix")),  # 10-bit
        (b"hevc", (b"mif1", b"hevc")),  # burst / image sequence
        (b"mif1", (b"mif1", b"heic")),  # generic HEIF (many Android phones)
        (b"msf1", (b"msf1", b"hevc")),  # generic HEIF sequence
    ],
)
def test_it_recognises_heic_brands(major, compatible):
    assert inspect_upload("photo.heic", _heic(major, compatible)).kind == UploadKind.HEIC


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.pdf", _zip()),
        ("x.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("scan.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
        ("chart.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("photo.heic", _heic(b"avif", (b"mif1", b"avif"))),  # AVIF declares mif1 too
        ("photo.heic", _heic(b"mif1", (b"mif1", b"avif", b"miaf"))),
        ("video.heic", _heic(b"isom", (b"isom", b"mp41"))),
        ("notes.pdf", "病历".encode() * 20),
    ],
)
def test_it_rejects_content_that_is_not_an_allowed_type_whatever_the_name(name, content):
    with pytest.raises(UploadRejected) as rejected:
        inspect_upload(name, content)

    assert rejected.value.code == "upload_type_not_allowed"
    assert rejected.value.message.startswith("文件内容不是PDF、JPEG、PNG或HEIC图片")


# --- size --------------------------------------------------------------------------------


def test_it_rejects_an_empty_file():
    with pytest.raises(UploadRejected) as rejected:
        inspect_upload("空.pdf", b"")

    assert rejected.value.code == "upload_empty"


def test_it_accepts_exactly_the_limit_and_rejects_one_byte_more():
    png = _image("PNG")

    assert inspect_upload("a.png", png, max_bytes=len(png)).size == len(png)
    with pytest.raises(UploadRejected) as rejected:
        inspect_upload("a.png", png, max_bytes=len(png) - 1)
    assert rejected.value.code == "upload_too_large"
    assert rejected.value.status == 413


def test_it_states_the_configured_limit_in_mb(settings):
    settings.UPLOAD_MAX_BYTES = 2 * MEBIBYTE
    too_big = _image("PNG").ljust(2 * MEBIBYTE + 1, b"\x00")

    with pytest.raises(UploadRejected) as rejected:
        inspect_upload("big.png", too_big)

    assert rejected.value.code == "upload_too_large"
    assert "2 MB" in rejected.value.message


def test_it_never_reads_more_than_one_byte_past_the_limit_of_a_stream():
    stream = CountingStream(_image("PNG"))

    with pytest.raises(UploadRejected) as rejected:
        inspect_upload("endless.png", stream, max_bytes=MEBIBYTE)

    assert rejected.value.code == "upload_too_large"
    assert stream.bytes_read == MEBIBYTE + 1


def test_it_reads_a_django_upload_from_its_start_for_both_check_and_store(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    jpeg = _image("JPEG")
    upload = SimpleUploadedFile("IMG_0003.jpg", jpeg, content_type="application/pdf")
    upload.read(10)  # e.g. a form field peeked at it

    check = inspect_upload(upload.name, upload)
    stored = store_upload(check, upload)

    assert check.kind == UploadKind.JPEG
    assert (tmp_path / stored).read_bytes() == jpeg


# --- damaged files -----------------------------------------------------------------------


def _truncated(content: bytes) -> bytes:
    return content[: len(content) * 2 // 3]


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + b"\x00this is not a PDF body\n" * 40,
        _truncated(_pdf()),
        _truncated(_image("PNG")),
        _truncated(_image("JPEG")),
        _truncated(_heic()),
        _heic()[:-257],  # no mdat at all: last box header cut
    ],
    ids=[
        "pdf-garbage",
        "pdf-truncated",
        "png-truncated",
        "jpeg-truncated",
        "heic-truncated",
        "heic-cut-box",
    ],
)
def test_it_rejects_a_damaged_file_as_corrupt(content):
    with pytest.raises(UploadRejected) as rejected:
        inspect_upload("record", content)

    assert rejected.value.code == "upload_corrupt"
    assert "损坏" in rejected.value.message


# --- active PDF content ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (_open_action_javascript, {UploadFlag.PDF_JAVASCRIPT, UploadFlag.PDF_AUTO_ACTION}),
        (_document_level_javascript, {UploadFlag.PDF_JAVASCRIPT}),
        (_page_open_javascript, {UploadFlag.PDF_JAVASCRIPT, UploadFlag.PDF_AUTO_ACTION}),
        (_open_action_launch, {UploadFlag.PDF_LAUNCH, UploadFlag.PDF_AUTO_ACTION}),
        (_attachment, {UploadFlag.PDF_EMBEDDED_FILE}),
        # Opening at page 1 is what Word and WPS exports do: nothing to flag.
        (_open_at_first_page, set()),
    ],
)
def test_it_flags_active_pdf_content_without_refusing_it(build, expected):
    check = inspect_upload("出院小结.pdf", _pdf(build))

    assert check.kind == UploadKind.PDF
    assert set(check.flags) == expected


def test_it_flags_javascript_hidden_in_a_compressed_object_stream():
    # given a PDF where no byte search can see the JavaScript
    content = _pdf_with_javascript_in_object_stream()
    assert b"/JS" not in content and b"JavaScript" not in content

    # when
    check = inspect_upload("report.pdf", content)

    # then
    assert set(check.flags) == {UploadFlag.PDF_JAVASCRIPT, UploadFlag.PDF_AUTO_ACTION}


def test_it_flags_an_encrypted_pdf_it_can_open_and_still_finds_its_javascript():
    # AES-256 with an empty user password: opens without asking, like most "protected" PDFs
    check = inspect_upload("protected.pdf", _pdf(_open_action_javascript, password=""))

    assert set(check.flags) == {
        UploadFlag.PDF_ENCRYPTED,
        UploadFlag.PDF_JAVASCRIPT,
        UploadFlag.PDF_AUTO_ACTION,
    }


def test_it_flags_a_password_protected_pdf_and_searches_its_bytes_for_javascript():
    check = inspect_upload("locked.pdf", _pdf(_open_action_javascript, password="123456"))

    # pypdf cannot read its objects: the byte search still sees the /JS name
    assert set(check.flags) == {UploadFlag.PDF_ENCRYPTED, UploadFlag.PDF_JAVASCRIPT}


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "display_name"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\boot.ini.png", "boot.ini.png"),
        ("a\x00b.pdf", "ab.pdf"),
        ("C:\\Users\\张三\\Desktop\\出院小结.pdf", "出院小结.pdf"),
        (".htaccess", "htaccess"),
        ("报告\r\n.pdf", "报告.pdf"),
        # A right-to-left override would show "invoice\u202efdp.exe" as "invoiceexe.pdf".
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("..", UNNAMED_FILE),
        ("/", UNNAMED_FILE),
        ("", UNNAMED_FILE),
    ],
)
def test_it_shows_only_a_safe_display_name(name, display_name):
    assert inspect_upload(name, _image("PNG")).display_name == display_name


def test_it_shortens_a_long_name_to_100_characters_keeping_the_extension():
    check = inspect_upload("检验报告" * 40 + ".pdf", _pdf())

    assert check.display_name == "检验报告" * 24 + ".pdf"
    assert len(check.display_name) == 100


# --- storage -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\..\\boot.ini.png", "a\x00b.pdf"])
def test_it_stores_under_a_random_name_that_owes_nothing_to_the_uploaded_name(
    settings, tmp_path, name
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    content = _pdf()

    stored = store_upload(inspect_upload(name, content), content)

    shard, file_name = stored.split("/")
    assert file_name.startswith(shard) and file_name.endswith(".pdf")
    assert len(file_name) >= 32
    for fragment in ("..", "\\", "\x00", "passwd", "boot.ini"):
        assert fragment not in stored
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / stored]


def test_it_names_the_stored_file_after_the_detected_kind(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    jpeg = _image("JPEG")

    stored = store_upload(inspect_upload("scan.pdf", jpeg), jpeg)

    assert stored.endswith(".jpg")


def test_stored_files_are_readable_by_the_owner_only_and_open_again(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    heic = _heic()

    stored = store_upload(inspect_upload("IMG.HEIC", heic), heic)

    assert stat.S_IMODE((tmp_path / stored).stat().st_mode) == 0o600
    with open_upload(stored) as opened:
        assert opened.read() == heic


def test_it_refuses_to_store_bytes_other_than_those_inspected(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    check = inspect_upload("a.png", _image("PNG"))

    with pytest.raises(ValueError, match="not the upload that was inspected"):
        store_upload(check, b"<html>swapped after the check</html>")
    assert not any(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("name", ["../../portal/settings.py", "/etc/passwd", "ab/../../x.pdf"])
def test_it_opens_only_names_it_could_have_stored(name):
    with pytest.raises(SuspiciousFileOperation):
        open_upload(name)


def test_stored_files_have_no_url(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.MEDIA_URL = "/media/"
    content = _pdf()
    stored = store_upload(inspect_upload("a.pdf", content), content)
    storage = private_storage()

    assert storage.base_url is None
    with pytest.raises(ValueError, match="not accessible via a URL"):
        storage.url(stored)


def test_private_media_root_is_outside_media_and_static():
    private = Path(django_settings.PRIVATE_MEDIA_ROOT).resolve()
    public_roots = [django_settings.STATIC_ROOT, django_settings.MEDIA_ROOT]

    for root in filter(None, public_roots):
        public = Path(root).resolve()
        assert not private.is_relative_to(public)
        assert not public.is_relative_to(private)
