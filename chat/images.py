"""Chat photos: cleaned by `core.images` with the listing-photo rules.

Real JPEG/PNG/WebP only, LISTING_IMAGE_MAX_BYTES and LISTING_IMAGE_MAX_PIXELS,
decompression bombs refused before decoding, upright by EXIF, no metadata, and
re-encoded as a JPEG whose longest side is at most 1600 px.
"""

from django.conf import settings

from core.images import CleanImage, ImageSize, clean_image

DISPLAY = ImageSize("chat", 1600, 1600)


def image_clean(upload, *, field: str = "image") -> CleanImage:
    """Check an attached photo; return it cleaned (a ContentFile with its size).

    Raises `core.errors.ValidationError(field=field)` when it is refused."""
    [image] = clean_image(
        upload,
        sizes=[DISPLAY],
        max_bytes=settings.LISTING_IMAGE_MAX_BYTES,
        max_pixels=settings.LISTING_IMAGE_MAX_PIXELS,
        output_format="JPEG",
        field=field,
    )
    return image
