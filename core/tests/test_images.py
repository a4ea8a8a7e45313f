import io

import pytest
from PIL import Image

from core.errors import ValidationError
from core.images import ImageSize, clean_image
from core.tests.image_files import (
    GPS_IFD,
    image_bytes,
    jpeg_with_gps,
    png_header_only,
    upload,
)

SQUARE = ImageSize("square", 256, 256, crop=True)


def _open(content_file):
    return Image.open(io.BytesIO(content_file.read()))


def test_clean_image_strips_gps_exif_and_comments():
    # given a phone photo that carries its GPS position and camera model
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert b"PhoneMaker" in jpeg_with_gps()

    # when it is cleaned
    [result] = clean_image(upload(jpeg_with_gps()), sizes=[SQUARE])

    # then what comes out is a 256x256 JPEG with no metadata at all
    image = _open(result)
    assert image.format == "JPEG"
    assert image.size == (256, 256)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert "comment" not in image.info
    assert "xmp" not in image.info
    assert "icc_profile" not in image.info
    result.seek(0)
    raw = result.read()
    assert raw.startswith(b"\xff\xd8")
    assert b"PhoneMaker" not in raw
    assert b"secret comment" not in raw


def test_clean_image_turns_the_picture_upright_by_its_exif_orientation():
    # given a 400x300 photo whose EXIF says "rotate 90 degrees clockwise"
    data = jpeg_with_gps(size=(400, 300), orientation=6)

    # when it is cleaned into a box large enough to keep its size
    [result] = clean_image(upload(data), sizes=[ImageSize("full", 1000, 1000)])

    # then it is 300 wide and 400 high, the red (left) half now on top
    image = _open(result).convert("RGB")
    assert image.size == (300, 400)
    top_r, _, top_b = image.getpixel((150, 50))
    bottom_r, _, bottom_b = image.getpixel((150, 350))
    assert top_r > 180 and top_b < 80
    assert bottom_b > 150 and bottom_r < 80


def test_clean_image_makes_every_size_asked_for_and_never_enlarges():
    [square, fitted] = clean_image(
        upload(image_bytes("PNG", size=(120, 80))),
        sizes=[SQUARE, ImageSize("fit", 1024, 1024)],
    )
    assert _open(square).size == (256, 256)
    assert _open(fitted).size == (120, 80)
    assert square.name.endswith("-square.jpg")
    assert fitted.name.endswith("-fit.jpg")


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [
        ("PNG", "a.png", "image/png"),
        ("WEBP", "a.webp", "image/webp"),
        ("JPEG", "a.jpg", "image/jpeg"),
    ],
)
def test_clean_image_accepts_jpeg_png_and_webp(fmt, name, content_type):
    [result] = clean_image(
        upload(image_bytes(fmt), name=name, content_type=content_type),
        sizes=[SQUARE],
    )
    assert _open(result).format == "JPEG"


def test_transparent_png_is_put_on_white_for_jpeg():
    [result] = clean_image(
        upload(image_bytes("PNG", color=(0, 0, 0, 0)), name="t.png"), sizes=[SQUARE]
    )
    assert _open(result).convert("RGB").getpixel((10, 10)) == (255, 255, 255)


def test_transparent_png_keeps_alpha_when_output_is_png():
    [result] = clean_image(
        upload(image_bytes("PNG", color=(0, 0, 0, 0)), name="t.png"),
        sizes=[SQUARE],
        output_format="PNG",
    )
    image = _open(result)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 0


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"),
    [
        # far beyond Pillow's own limit: DecompressionBombError on open
        (100_000, 100_000, 40_000_000),
        # between Pillow's warning and error thresholds: the warning is refused
        (10_000, 10_000, 200_000_000),
        # within Pillow's limits but above ours
        (8_000, 8_000, 40_000_000),
    ],
)
def test_decompression_bombs_are_refused_before_decoding(width, height, max_pixels):
    bomb = png_header_only(width, height)
    assert len(bomb) < 2_000

    with pytest.raises(ValidationError) as caught:
        clean_image(
            upload(bomb, name="bomb.png", content_type="image/png"),
            sizes=[SQUARE],
            max_pixels=max_pixels,
            field="avatar",
        )

    assert caught.value.code == "image_too_large"
    assert caught.value.field == "avatar"
    assert "too many pixels" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"MZ\x90\x00 not a picture at all",
    ],
)
def test_files_that_are_not_images_are_refused(data):
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(data, name="photo.jpg"), sizes=[SQUARE], field="avatar")
    assert caught.value.code == "invalid_image"
    assert caught.value.message == "Upload a JPEG, PNG or WebP image."


def test_images_of_other_formats_are_refused():
    gif = image_bytes("GIF")
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(gif, name="a.gif", content_type="image/gif"), sizes=[SQUARE])
    assert caught.value.code == "invalid_image"


def test_truncated_image_is_reported_as_damaged():
    data = image_bytes("JPEG", size=(800, 600))
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(data[: len(data) // 2]), sizes=[SQUARE])
    assert caught.value.code == "invalid_image"
    assert "damaged" in caught.value.message


def test_files_over_the_byte_limit_are_refused_without_reading_them_whole():
    data = image_bytes("PNG", size=(300, 300))
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(data, name="a.png"), sizes=[SQUARE], max_bytes=100)
    assert caught.value.code == "file_too_large"


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(b""), sizes=[SQUARE])
    assert caught.value.code == "empty_file"


def test_each_rendition_knows_its_pixel_size():
    # given a portrait photo, fitted into a box and cropped to fill a landscape one
    [fitted, filled] = clean_image(
        upload(image_bytes("JPEG", size=(600, 900))),
        sizes=[ImageSize("display", 300, 300), ImageSize("thumb", 400, 300, crop=True)],
    )
    # then each result says its own size, which is the size of what it holds
    assert (fitted.width, fitted.height) == (200, 300)
    assert (filled.width, filled.height) == (400, 300)
    assert _open(fitted).size == (200, 300)
    assert _open(filled).size == (400, 300)


@pytest.mark.parametrize(
    ("max_bytes", "said"),
    [(10 * 1024 * 1024, "10 MB"), (1536 * 1024, "1.5 MB"), (300 * 1024, "300 KB")],
)
def test_the_byte_limit_is_said_in_readable_units(max_bytes, said):
    with pytest.raises(ValidationError) as caught:
        clean_image(
            upload(b"x" * (max_bytes + 1), name="a.png"),
            sizes=[SQUARE],
            max_bytes=max_bytes,
        )
    assert caught.value.message == f"The image is too large; it can be at most {said}."


def test_a_small_pixel_limit_is_said_exactly():
    with pytest.raises(ValidationError) as caught:
        clean_image(
            upload(image_bytes("PNG", size=(1000, 600)), name="a.png"),
            sizes=[SQUARE],
            max_pixels=500_000,
        )
    assert caught.value.code == "image_too_large"
    assert "(at most 0.5 megapixels)" in caught.value.message


def test_an_image_that_claims_no_pixels_is_not_an_image():
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(png_header_only(0, 0), name="a.png"), sizes=[SQUARE])
    assert caught.value.code == "invalid_image"
