"""Image files for tests, made with Pillow."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt="JPEG", size=(640, 480), color=(200, 30, 30), exif=None):
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def gps_exif(orientation=None) -> bytes:
    """EXIF with a GPS position (Almaty), a camera model and optionally an
    orientation tag."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera 3000"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (43.0, 15.0, 24.0)
    gps[3] = "E"
    gps[4] = (76.0, 55.0, 43.0)
    return exif.tobytes()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)
