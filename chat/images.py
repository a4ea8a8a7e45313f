"""Uploaded images made safe: the same rules as listing photos.

Verified by Pillow, decompression bombs refused, only JPEG/PNG/WebP accepted,
re-encoded from pixels (so EXIF, GPS and any trailing payload are dropped) and
resized to a bounded size. Kept here until the shared `core/images.py` lands.
"""

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ValidationError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # well under Pillow's own bomb limit, per image
MAX_SIDE = 1600


@dataclass(frozen=True)
class CleanImage:
    file: ContentFile
    width: int
    height: int


def image_clean(upload, *, field: str = "image", max_side: int = MAX_SIDE):
    """Validate and re-encode an upload; raise ValidationError on anything odd."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"The image is too large (max {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).",
            field=field,
        )
    try:
        upload.seek(0)
        data = upload.read()
    except (OSError, AttributeError) as exc:
        raise ValidationError("The image could not be read.", field=field) from exc
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("The image is too large.", field=field)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationError(
                    "Only JPEG, PNG and WebP images are accepted.", field=field
                )
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise ValidationError("The image has too many pixels.", field=field)
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if fmt == "JPEG" or image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                image = image.convert("RGB")
                fmt = "JPEG"
                image.save(out, "JPEG", quality=85, optimize=True)
            elif fmt == "PNG":
                image.save(out, "PNG", optimize=True)
            else:
                image.save(out, "WEBP", quality=85)
            width, height = image.size
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise ValidationError(
            "The file is not a valid JPEG, PNG or WebP image.", field=field
        ) from exc
    name = f"{uuid.uuid4().hex}.{ALLOWED_FORMATS[fmt]}"
    return CleanImage(
        file=ContentFile(out.getvalue(), name=name), width=width, height=height
    )
