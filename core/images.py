"""Safe handling of user-uploaded images, shared by avatars, listing photos and
chat attachments.

An upload is never stored as sent. `clean_image` checks it with Pillow (size in
bytes, real format, pixel count before anything is decoded, so decompression
bombs are refused cheaply), turns it upright by its EXIF orientation, converts
it to sRGB and re-encodes fresh pixels into the sizes asked for. What comes out
carries no metadata at all: no EXIF (GPS position, camera serial numbers), no
XMP, no comments, no colour profile.

    from core.images import ImageSize, clean_image

    [avatar] = clean_image(
        upload,
        sizes=[ImageSize("avatar", 256, 256, crop=True)],
        max_bytes=5 * 1024 * 1024,
        max_pixels=40_000_000,
        field="avatar",
    )
    user.avatar.save(avatar.name, avatar, save=False)

Every refusal is a `core.errors.ValidationError` carrying `field`, which the API
turns into a 400 and the pages into a form error.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from core.errors import ValidationError

# Pillow's format names we accept. Many cameras and phones write JPEGs with a
# second, embedded preview image, which Pillow reports as "MPO".
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to ~120 MB of RGB

OUTPUT_FORMATS = {
    # Pillow format: (file extension, save options)
    "JPEG": ("jpg", {"quality": 85, "optimize": True, "progressive": True}),
    "WEBP": ("webp", {"quality": 82, "method": 4}),
    "PNG": ("png", {"optimize": True}),
}


class CleanImage(ContentFile):
    """One cleaned rendition: a `ContentFile` that knows its size in pixels."""

    def __init__(self, content: bytes, *, name: str, width: int, height: int):
        super().__init__(content, name=name)
        self.width = width
        self.height = height


@dataclass(frozen=True)
class ImageSize:
    """One output rendition of an uploaded image.

    `crop=True` fills exactly `width` x `height`, cutting what overflows around
    the centre (avatars, square thumbnails); `crop=False` shrinks the image to
    fit inside the box, keeping its proportions, and never enlarges it.
    """

    name: str
    width: int
    height: int
    crop: bool = False


def clean_image(
    upload,
    *,
    sizes: Iterable[ImageSize],
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    output_format: str = "JPEG",
    field: str | None = None,
) -> list[CleanImage]:
    """Check an uploaded image and re-encode it, clean, into each of `sizes`.

    `upload` is a Django `UploadedFile` (or any file object with `read()`).
    Returns one `CleanImage` (a `ContentFile` with `width` and `height`) per
    size, in order, each named `<random hex>-<size name>.<ext>`, ready for
    `storage.save()` or `FieldFile.save()`. Raises
    `ValidationError(field=field)` when the file is too large, not an image, of
    a refused format, has too many pixels, or is damaged. Nothing is written
    anywhere.
    """
    sizes = list(sizes)
    if not sizes:
        raise ValueError("clean_image needs at least one ImageSize.")
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"Unsupported output format: {output_format}")

    data = _read_limited(upload, max_bytes=max_bytes, field=field)
    image = _open_checked(data, max_pixels=max_pixels, field=field)
    extension, options = OUTPUT_FORMATS[output_format]
    stem = uuid.uuid4().hex
    results = []
    try:
        image = _normalised(image, output_format=output_format)
        for size in sizes:
            rendition = _resized(image, size)
            # Fresh pixels only: an image built from raw bytes has no `info`,
            # so no EXIF, XMP, ICC profile or text chunk can travel along.
            bare = Image.frombytes(rendition.mode, rendition.size, rendition.tobytes())
            buffer = io.BytesIO()
            bare.save(buffer, format=output_format, **options)
            results.append(
                CleanImage(
                    buffer.getvalue(),
                    name=f"{stem}-{size.name}.{extension}",
                    width=bare.width,
                    height=bare.height,
                )
            )
    except (OSError, ValueError) as exc:  # an exotic mode Pillow cannot convert
        raise ValidationError(
            "This image cannot be processed; save it as a regular JPEG or PNG.",
            field=field,
            code="invalid_image",
        ) from exc
    return results


def _read_limited(upload, *, max_bytes: int, field: str | None) -> bytes:
    too_big = ValidationError(
        f"The image is too large; it can be at most {_file_size(max_bytes)}.",
        field=field,
        code="file_too_large",
    )
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise too_big
    if hasattr(upload, "seek"):
        upload.seek(0)
    # Read one byte past the limit, so a file whose reported size lies is caught.
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_big
    if not data:
        raise ValidationError("The file is empty.", field=field, code="empty_file")
    return data


def _open_checked(data: bytes, *, max_pixels: int, field: str | None) -> Image.Image:
    not_an_image = ValidationError(
        "Upload a JPEG, PNG or WebP image.", field=field, code="invalid_image"
    )
    too_many_pixels = ValidationError(
        "The image has too many pixels; upload a smaller picture "
        f"(at most {max_pixels / 1_000_000:g} megapixels).",
        field=field,
        code="image_too_large",
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat
            # the warning as the refusal it should be.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            # The header alone gives the size: refuse before decoding anything.
            width, height = image.size
            if width < 1 or height < 1:
                raise not_an_image
            if width * height > max_pixels:
                raise too_many_pixels
            if image.format not in ACCEPTED_FORMATS:
                raise not_an_image
            image.seek(0)  # first frame of an animation
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many_pixels from exc
    except (UnidentifiedImageError, SyntaxError, EOFError) as exc:
        raise not_an_image from exc
    except (OSError, ValueError) as exc:  # truncated or corrupt pixel data
        raise ValidationError(
            "The image file is damaged; upload it again.",
            field=field,
            code="invalid_image",
        ) from exc
    return image


def _normalised(image: Image.Image, *, output_format: str) -> Image.Image:
    """Upright, sRGB, and in a mode the output format can store."""
    image = ImageOps.exif_transpose(image) or image
    image = _to_srgb(image)
    keeps_alpha = output_format in ("PNG", "WEBP")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha and keeps_alpha:
        return image.convert("RGBA")
    if has_alpha:
        # JPEG has no transparency: put the picture on white, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels described by an embedded colour profile to sRGB.

    The profile itself is dropped on output, so without this, photos from
    wide-gamut cameras would look washed out. A broken profile is ignored.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, target, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def _resized(image: Image.Image, size: ImageSize) -> Image.Image:
    box = (size.width, size.height)
    if size.crop:
        return ImageOps.fit(image, box, method=Image.Resampling.LANCZOS)
    fitted = image.copy()
    fitted.thumbnail(box, resample=Image.Resampling.LANCZOS)
    return fitted


def _file_size(count: int) -> str:
    """10 MB, 1.5 MB, 300 KB or 900 bytes: a limit as people read it."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"
