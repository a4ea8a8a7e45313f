"""Listing photo processing: only real images get in, cleaned and resized.

Rules (the same as the accounts avatar rules): at most LISTING_IMAGE_MAX_BYTES
bytes and LISTING_IMAGE_MAX_PIXELS pixels; Pillow must recognise and verify the
file as JPEG, PNG or WebP; a decompression bomb is refused before it is
decoded; the orientation from EXIF is applied and then every piece of metadata
(EXIF, GPS, XMP, ICC, comments) is dropped, because the output is a new image
encoded from pixels only; the result is a display size (longest side
DISPLAY_MAX px) and a cropped thumbnail (THUMB_SIZE), both JPEG.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ValidationError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
DISPLAY_MAX = (1600, 1600)
THUMB_SIZE = (400, 300)
JPEG_QUALITY = 85


@dataclass
class ProcessedImage:
    display: ContentFile
    thumbnail: ContentFile
    width: int
    height: int


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def image_process(upload, *, field: str = "image") -> ProcessedImage:
    """Check an uploaded file and return its cleaned display and thumbnail
    JPEGs. Raises ValidationError(field=field) for anything that is not a safe
    JPEG/PNG/WebP image within the limits."""
    max_bytes = settings.LISTING_IMAGE_MAX_BYTES
    max_pixels = settings.LISTING_IMAGE_MAX_PIXELS
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            f"A photo can be at most {max_bytes // (1024 * 1024)} MB.", field=field
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            f"A photo can be at most {max_bytes // (1024 * 1024)} MB.", field=field
        )
    if not data:
        raise ValidationError("The file is empty.", field=field)
    not_an_image = ValidationError(
        "Upload a JPEG, PNG or WebP photo.", field=field, code="invalid_image"
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past 2x raises) on huge images: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise not_an_image
                width, height = probe.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise ValidationError(
                        "That photo has too many pixels.",
                        field=field,
                        code="image_too_large",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)  # first frame of an animated WebP/PNG
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "That photo has too many pixels.", field=field, code="image_too_large"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_an_image from None

    # Pixels only from here: a fresh image carries no metadata at all.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    display = clean.copy()
    display.thumbnail(DISPLAY_MAX, Image.Resampling.LANCZOS)
    thumb = ImageOps.fit(clean, THUMB_SIZE, Image.Resampling.LANCZOS)
    return ProcessedImage(
        display=ContentFile(_encode(display)),
        thumbnail=ContentFile(_encode(thumb)),
        width=display.width,
        height=display.height,
    )
