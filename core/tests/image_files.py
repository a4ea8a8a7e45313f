"""Image files for upload tests: real ones made with Pillow, and crafted ones
whose headers lie about their size (decompression bombs)."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt="JPEG", size=(400, 300), color=(200, 40, 40), **save_options):
    mode = "RGBA" if fmt == "PNG" and len(color) == 4 else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def jpeg_with_gps(size=(400, 300), orientation=1):
    """A JPEG that says where it was taken (Almaty) and who made the camera."""
    image = Image.new("RGB", size, (30, 120, 200))
    # Left half red: lets a test see which way the picture was turned.
    image.paste((220, 20, 20), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "N",
        2: (43.0, 15.0, 24.0),
        3: "E",
        4: (76.0, 56.0, 42.0),
    }
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"secret comment")
    return buffer.getvalue()


def png_header_only(width, height):
    """A tiny PNG whose header claims width x height pixels."""

    def chunk(kind, data):
        body = kind + data
        return (
            struct.pack(">I", len(data))
            + body
            + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def upload(data, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)
