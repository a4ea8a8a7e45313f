"""Prices: stored as integers in minor units (tiyn, cents) with a currency code.

People type prices in major units ("15000" tenge); this module converts between
the two, once, without floats. Every currency the site lists has two decimal
places (KZT, RUB, USD, EUR).
"""

from decimal import Decimal, InvalidOperation

from core.errors import ValidationError

MINOR_PER_MAJOR = 100
CENT = Decimal("0.01")
PRICE_MAX_MAJOR = Decimal("1000000000000")  # a trillion: beyond any real listing


def price_major_to_minor(value, *, field: str = "price") -> int:
    """'15000' or '15 000.50' (major units) -> 1500000 / 1500050 (minor units)."""
    text = str(value).strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError("Enter a price as a number.", field=field) from None
    if not amount.is_finite():
        raise ValidationError("Enter a price as a number.", field=field)
    if amount < 0:
        raise ValidationError("A price cannot be negative.", field=field)
    if amount > PRICE_MAX_MAJOR:
        raise ValidationError("That price is too large.", field=field)
    # Checked before multiplying: 1e-999999999 x 100 underflows to 0 in
    # Decimal's context, which let it through as a price of 0.
    if amount != amount.quantize(CENT):
        raise ValidationError("Use at most two decimal places.", field=field)
    return int(amount * MINOR_PER_MAJOR)


def price_minor_to_major_str(minor: int) -> str:
    """1500050 -> '15000.5'; 1500000 -> '15000' (for query strings and forms)."""
    amount = Decimal(int(minor)) / MINOR_PER_MAJOR
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def price_display(minor: int, currency: str) -> str:
    """1500000, 'KZT' -> '15 000 ₸' (thin grouping, decimals only when present)."""
    symbols = {"KZT": "₸", "RUB": "₽", "USD": "$", "EUR": "€"}
    whole, cents = divmod(int(minor), MINOR_PER_MAJOR)
    text = f"{whole:,}".replace(",", "\u00a0")
    if cents:
        text += f".{cents:02d}"
    return f"{text}\u00a0{symbols.get(currency, currency)}"
