"""Checks and clean-ups of profile input.

`normalize_phone`/`validate_phone` raise Django's ValidationError (model field
validators); the `clean_*` helpers used by services raise the domain's
`core.errors.ValidationError` with the field they concern.
"""

import math
import unicodedata

import phonenumbers
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError

from core import errors


def normalize_phone(value: str, region: str = "KZ") -> str:
    """Return the number in E.164 form, or raise ValidationError."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter a valid phone number, e.g. +7 701 234 5678."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Enter a valid phone number, e.g. +7 701 234 5678.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    if value:
        normalize_phone(value)


def clean_display_name(value: str) -> str:
    """The display name, trimmed; raises ValidationError when unusable."""
    name = " ".join((value or "").split())
    if len(name) < 2:
        raise errors.ValidationError(
            "Enter a display name of at least 2 characters.", field="display_name"
        )
    if len(name) > 80:
        raise errors.ValidationError(
            "The display name can have at most 80 characters.", field="display_name"
        )
    if not any(ch.isalnum() for ch in name):
        raise errors.ValidationError(
            "The display name needs at least one letter or digit.",
            field="display_name",
        )
    if "@" in name:
        # Keeps e-mail addresses (one's own or someone else's) off public pages.
        raise errors.ValidationError(
            "The display name cannot contain '@'.", field="display_name"
        )
    return name


def clean_phone(value: str) -> str:
    """The phone number in E.164 form, or "" when blank."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalize_phone(value)
    except ValidationError as exc:
        raise errors.ValidationError(exc.messages[0], field="phone") from exc


def clean_text(
    value: str, *, field: str, max_length: int, multiline: bool = False
) -> str:
    """Trimmed text without control characters (newlines kept if multiline)."""
    value = (value or "").strip().replace("\r\n", "\n")
    allowed = {"\n"} if multiline else set()
    # Control characters have no place in names and bios.
    value = "".join(
        ch for ch in value if ch in allowed or unicodedata.category(ch)[0] != "C"
    )
    if len(value) > max_length:
        raise errors.ValidationError(
            f"At most {max_length} characters, please.", field=field
        )
    return value


def location_point(location: tuple[float, float] | None) -> Point | None:
    """A WGS84 point from a bounded (lat, lng) pair; never parsed from text."""
    if location is None:
        return None
    lat, lng = location
    for name, value, limit in (("lat", lat, 90), ("lng", lng, 180)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.ValidationError("Enter a number.", field=name)
        if not math.isfinite(value) or not -limit <= value <= limit:
            raise errors.ValidationError(
                f"Must be between -{limit} and {limit}.", field=name
            )
    return Point(float(lng), float(lat), srid=4326)
