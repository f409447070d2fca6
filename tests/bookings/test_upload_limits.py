"""Images that declare more pixels than a viewer can safely decode (decompression bombs) are
refused from their headers, without decoding; over-long file names are refused. Both with a
Chinese message, before anything is stored."""

from __future__ import annotations

import zlib

import pytest

from bookings.documents.content_checks import MAX_IMAGE_PIXELS
from bookings.documents.formats import UploadKind, UploadRejected
from bookings.documents.inspection import inspect_upload
from tests.bookings.test_uploads import _box, _heic, _image

PNG_HEADER_AT = 8  # after the signature: length, "IHDR", width, height, ..., CRC


def png_declaring(width: int, height: int) -> bytes:
    """A real (small) PNG whose header says ``width`` × ``height``, checksum fixed: what a
    decompression bomb looks like to a parser that reads headers only."""
    png = bytearray(_image("PNG"))
    ihdr = PNG_HEADER_AT + 4  # the chunk type, then its data
    png[ihdr + 4 : ihdr + 8] = width.to_bytes(4)
    png[ihdr + 8 : ihdr + 12] = height.to_bytes(4)
    png[ihdr + 17 : ihdr + 21] = zlib.crc32(png[ihdr : ihdr + 17]).to_bytes(4)
    return bytes(png)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real (small) JPEG whose frame header (SOF0) says ``width`` × ``height``."""
    jpeg = bytearray(_image("JPEG"))
    frame = jpeg.index(b"\xff\xc0")
    jpeg[frame + 5 : frame + 7] = height.to_bytes(2)
    jpeg[frame + 7 : frame + 9] = width.to_bytes(2)
    return bytes(jpeg)


def heic_declaring(*sizes: tuple[int, int]) -> bytes:
    """The layout of ``_heic()`` with an item-properties box holding one ``ispe`` (image
    spatial extents) per size, as an iPhone writes one per tile and one for the grid."""
    extents = b"".join(
        _box(b"ispe", b"\x00\x00\x00\x00" + w.to_bytes(4) + h.to_bytes(4)) for w, h in sizes
    )
    properties = _box(b"iprp", _box(b"ipco", extents))
    plain = _heic()
    meta_at = plain.index(b"meta") - 4
    meta_size = int.from_bytes(plain[meta_at : meta_at + 4])
    meta_payload = plain[meta_at + 8 : meta_at + meta_size]
    meta = _box(b"meta", meta_payload + properties)
    return plain[:meta_at] + meta + plain[meta_at + meta_size :]


def refusal(name: str, content: bytes) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(name, content)
    return caught.value


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("病历.png", png_declaring(20_000, 20_000)),
        ("病历.jpg", jpeg_declaring(20_000, 20_000)),
        ("病历.heic", heic_declaring((512, 512), (20_000, 20_000))),
    ],
    ids=["png", "jpeg", "heic grid"],
)
def test_it_refuses_an_image_declaring_too_many_pixels(name, content):
    refused = refusal(name, content)
    assert refused.code == "upload_too_many_pixels" and refused.status == 413
    assert refused.message.startswith("图片像素过高（20000×20000，超过12000万像素）")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        # 108 MP, the largest normal mode of current phones.
        (png_declaring(12_000, 9_000), UploadKind.PNG),
        (jpeg_declaring(12_000, 9_000), UploadKind.JPEG),
        (heic_declaring((512, 512), (4032, 3024)), UploadKind.HEIC),
    ],
    ids=["png", "jpeg", "heic"],
)
def test_it_accepts_large_phone_photos(content, kind):
    assert inspect_upload("photo", content).kind == kind


def test_the_limit_is_on_the_pixel_count_not_on_a_side():
    wide = MAX_IMAGE_PIXELS // 10  # a panorama 10 pixels tall, exactly at the limit
    assert inspect_upload("p.png", png_declaring(wide, 10)).kind == UploadKind.PNG
    assert refusal("p.png", png_declaring(wide + 1, 10)).code == "upload_too_many_pixels"


def test_a_jpeg_whose_height_is_left_for_later_is_corrupt():
    # Height 0 ("defined by a DNL marker") is not supported by browsers or viewers.
    assert refusal("x.jpg", jpeg_declaring(4000, 0)).code == "upload_corrupt"


def test_it_refuses_a_name_over_255_characters_whatever_the_content():
    refused = refusal("门" * 252 + ".pdf", png_declaring(64, 48))
    assert refused.code == "upload_name_too_long"
    assert refused.message == "文件名太长（超过255个字），请把文件改成短一些的名字后再上传。"
    assert inspect_upload("门" * 251 + ".pdf", _image("PNG")).kind == UploadKind.PNG
