"""Listing photos: the sizes and limits they are cleaned to by `core.images`.

`core.images.clean_image` does the checking and cleaning (the same rules as
for avatars: real JPEG/PNG/WebP only, byte and pixel limits, decompression
bombs refused before decoding, upright by EXIF, sRGB, no metadata at all).
Listings keep a display size (longest side 1600 px, never enlarged) and a
400x300 thumbnail cropped to fill, both JPEG, within
LISTING_IMAGE_MAX_BYTES and LISTING_IMAGE_MAX_PIXELS.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings

from core.images import CleanImage, ImageSize, clean_image

DISPLAY = ImageSize("display", 1600, 1600)
THUMBNAIL = ImageSize("thumb", 400, 300, crop=True)


class ProcessedImage(NamedTuple):
    display: CleanImage
    thumbnail: CleanImage

    @property
    def width(self) -> int:
        return self.display.width

    @property
    def height(self) -> int:
        return self.display.height


def image_process(upload, *, field: str = "image") -> ProcessedImage:
    """Check an uploaded photo; return its cleaned display and thumbnail JPEGs.

    Raises `core.errors.ValidationError(field=field)` when it is refused."""
    display, thumbnail = clean_image(
        upload,
        sizes=[DISPLAY, THUMBNAIL],
        max_bytes=settings.LISTING_IMAGE_MAX_BYTES,
        max_pixels=settings.LISTING_IMAGE_MAX_PIXELS,
        output_format="JPEG",
        field=field,
    )
    return ProcessedImage(display=display, thumbnail=thumbnail)
