import phonenumbers
from django.core.exceptions import ValidationError


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
