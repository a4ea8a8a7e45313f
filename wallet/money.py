"""Money: amounts are integers in minor units (tiyn, cents) with a currency code.

The one place that converts between minor and major units and formats amounts
for people ("12 500 ₸"). Never floats: conversions go through `Decimal`.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

# ISO 4217 minor-unit exponents that differ from the usual two decimals.
_EXPONENTS = {
    "BIF": 0,
    "CLP": 0,
    "JPY": 0,
    "KRW": 0,
    "PYG": 0,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}
_SYMBOLS = {
    "KZT": "₸",
    "RUB": "₽",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
}
# A no-break space groups thousands and joins the symbol, so "12 500 ₸" never
# wraps across lines.
NBSP = "\u00a0"


def site_currency() -> str:
    return settings.SITE_CURRENCY


def exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (KZT: 2)."""
    return _EXPONENTS.get(currency.upper(), 2)


def symbol(currency: str) -> str:
    return _SYMBOLS.get(currency.upper(), currency.upper())


def to_major(amount: int, currency: str | None = None) -> Decimal:
    """Minor units -> major units, exactly: 1250050 KZT tiyn -> Decimal('12500.50')."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("Amounts in minor units are integers.")
    places = exponent(currency or site_currency())
    return Decimal(amount).scaleb(-places)


def to_minor(value, currency: str | None = None) -> int:
    """Major units (a Decimal, int or string such as "12 500,50") -> minor units.

    Raises ValueError when the value is not a finite number or has more
    decimals than the currency's minor unit.
    """
    if isinstance(value, bool | float):
        raise ValueError("Give amounts as a decimal string or integer, not a float.")
    if isinstance(value, str):
        cleaned = value.strip().replace(NBSP, "").replace(" ", "").replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise ValueError(f"Not a number: {value!r}") from exc
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"Not a number: {value!r}") from exc
    if not value.is_finite():
        raise ValueError("Not a finite number.")
    places = exponent(currency or site_currency())
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"At most {places} decimal places.")
    return int(minor)


def _group(digits: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return NBSP.join(parts)


def format_amount(amount: int, currency: str | None = None) -> str:
    """The number alone: "12 500" or "12 500.50" (decimals only when non-zero)."""
    currency = currency or site_currency()
    places = exponent(currency)
    major = to_major(amount, currency)
    sign = "-" if major < 0 else ""
    major = abs(major)
    whole = int(major)
    text = _group(str(whole))
    if places:
        fraction = (major - whole).quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
        )
        if fraction:
            text += "." + str(fraction)[2:]
    return sign + text


def format_money(amount: int, currency: str | None = None, *, signed=False) -> str:
    """An amount for people: format_money(1250000, "KZT") == "12 500 ₸".

    `signed=True` prefixes "+" to positive amounts (ledger history); negative
    amounts use a real minus sign.
    """
    currency = currency or site_currency()
    text = format_amount(amount, currency)
    if text.startswith("-"):
        text = "\u2212" + text[1:]
    elif signed and amount > 0:
        text = "+" + text
    return f"{text}{NBSP}{symbol(currency)}"
