"""Category attributes: the one place that checks and converts their values.

Listings store their attribute values in `Listing.attributes` (JSON, keyed by the
attribute's machine name). `validate_attributes` checks a listing's values
against its category's declarations (own and inherited) and returns the
normalised dict to store; `parse_attribute_filter` does the same for one search
filter. Forms, the API and the search service all come through here, so they
give the same errors. Error fields are named `attr_<name>`, as the query
parameters and the listing form fields are.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from core.errors import ValidationError
from listings.models import AttributeType, Category, CategoryAttribute
from listings.selectors import category_attributes_for

TEXT_MAX_LENGTH = 200
YEAR_MIN = 1900
# Number filters cast the stored JSON value to an SQL integer (4 bytes on
# PostgreSQL): a larger stored value would break every search of its category.
NUMBER_MIN = -(2**31)
NUMBER_MAX = 2**31 - 1
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _to_int(attribute: CategoryAttribute, value: Any) -> int:
    field = f"attr_{attribute.name}"
    if isinstance(value, bool):
        raise ValidationError(f"{attribute.label}: enter a whole number.", field=field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        try:
            number = int(text)
        except ValueError:
            raise ValidationError(
                f"{attribute.label}: enter a whole number.", field=field
            ) from None
    else:
        raise ValidationError(f"{attribute.label}: enter a whole number.", field=field)
    low, high = attribute_bounds(attribute)
    if low is not None and number < low:
        raise ValidationError(
            f"{attribute.label}: must be at least {low}.", field=field
        )
    if high is not None and number > high:
        raise ValidationError(
            f"{attribute.label}: must be at most {high}.", field=field
        )
    return number


def attribute_bounds(attribute: CategoryAttribute) -> tuple[int | None, int | None]:
    """The allowed range of a number or year attribute (None: unbounded)."""
    low, high = attribute.min_value, attribute.max_value
    if attribute.type == AttributeType.YEAR:
        low = YEAR_MIN if low is None else low
        high = timezone.now().year + 1 if high is None else high
    low = NUMBER_MIN if low is None else max(low, NUMBER_MIN)
    high = NUMBER_MAX if high is None else min(high, NUMBER_MAX)
    return low, high


def _to_bool(attribute: CategoryAttribute, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(
        f"{attribute.label}: answer yes or no.", field=f"attr_{attribute.name}"
    )


def _to_choice(attribute: CategoryAttribute, value: Any) -> str:
    text = str(value).strip() if not isinstance(value, (dict, list)) else None
    if text is None or text not in attribute.choices:
        allowed = ", ".join(map(str, attribute.choices))
        raise ValidationError(
            f"{attribute.label}: choose one of {allowed}.",
            field=f"attr_{attribute.name}",
        )
    return text


def _to_text(attribute: CategoryAttribute, value: Any) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValidationError(
            f"{attribute.label}: enter text.", field=f"attr_{attribute.name}"
        )
    text = " ".join(str(value).split())
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text or jsonb.
        raise ValidationError(
            f"{attribute.label}: remove the NUL character.",
            field=f"attr_{attribute.name}",
        )
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(
            f"{attribute.label}: at most {TEXT_MAX_LENGTH} characters.",
            field=f"attr_{attribute.name}",
        )
    return text


def attribute_value_clean(attribute: CategoryAttribute, value: Any):
    """One value converted to its attribute's type, or ValidationError."""
    if attribute.type in (AttributeType.NUMBER, AttributeType.YEAR):
        return _to_int(attribute, value)
    if attribute.type == AttributeType.BOOLEAN:
        return _to_bool(attribute, value)
    if attribute.type == AttributeType.CHOICE:
        return _to_choice(attribute, value)
    return _to_text(attribute, value)


def validate_attributes(category: Category, data: Mapping[str, Any] | None) -> dict:
    """Check a listing's attribute values against its category's declarations.

    Returns the normalised values to store (declared names only, typed, blanks
    dropped). Raises ValidationError(field="attr_<name>") for an unknown name, a
    missing required value or a value of the wrong type or range.
    """
    data = dict(data or {})
    declared = {a.name: a for a in category_attributes_for(category)}
    unknown = sorted(set(data) - set(declared))
    if unknown:
        raise ValidationError(
            f"{category.name} listings have no attribute {unknown[0]!r}.",
            field=f"attr_{unknown[0]}",
        )
    cleaned: dict = {}
    for name, attribute in declared.items():
        value = data.get(name)
        if _is_blank(value):
            if attribute.is_required:
                raise ValidationError(
                    f"{attribute.label} is required.", field=f"attr_{name}"
                )
            continue
        cleaned[name] = attribute_value_clean(attribute, value)
    return cleaned


def parse_attribute_filters(category: Category | None, data: Mapping[str, str]) -> dict:
    """Read `attr_<name>`, `attr_<name>_min`, `attr_<name>_max` search parameters.

    Returns {name: value} for exact filters and {name: {"min": .., "max": ..}}
    for ranges (number and year attributes), checked against the category's
    filterable declarations.
    """
    keys = [k for k in data if k.startswith("attr_") and not _is_blank(data[k])]
    if not keys:
        return {}
    if category is None:
        raise ValidationError(
            "Choose a category to filter by its attributes.", field=keys[0]
        )
    declared = {a.name: a for a in category_attributes_for(category) if a.is_filterable}
    filters: dict = {}
    for key in sorted(keys):
        raw = data[key]
        name, bound = key[len("attr_") :], None
        if name not in declared:
            for suffix in ("_min", "_max"):
                if name.endswith(suffix) and name[: -len(suffix)] in declared:
                    name, bound = name[: -len(suffix)], suffix[1:]
                    break
        attribute = declared.get(name)
        if attribute is None:
            raise ValidationError(
                f"{category.name} has no filter {key[len('attr_') :]!r}.", field=key
            )
        if bound is not None:
            if attribute.type not in (AttributeType.NUMBER, AttributeType.YEAR):
                raise ValidationError(
                    f"{attribute.label} cannot be filtered by a range.", field=key
                )
            current = filters.get(name, {})
            if not isinstance(current, dict):
                raise ValidationError(
                    f"{attribute.label}: give an exact value or a range, not both.",
                    field=key,
                )
            try:
                current[bound] = _to_int(attribute, raw)
            except ValidationError as exc:
                # Name the parameter the user typed in (attr_year_min).
                raise ValidationError(exc.message, field=key) from None
            filters[name] = current
        else:
            filters[name] = attribute_value_clean(attribute, raw)
    for name, value in filters.items():
        if isinstance(value, dict) and value.get("min", 0) > value.get("max", 1e30):
            raise ValidationError(
                f"{declared[name].label}: the minimum is above the maximum.",
                field=f"attr_{name}_min",
            )
    return filters


def attribute_declaration_check(
    *, type: str, choices, min_value: int | None, max_value: int | None
) -> list:
    """Check one attribute declaration (admin inline, demo data); returns the
    cleaned choices list."""
    if type not in AttributeType.values:
        raise ValidationError("Unknown attribute type.", field="type")
    if type == AttributeType.CHOICE:
        if not isinstance(choices, list) or not choices:
            raise ValidationError(
                "A choice attribute needs a list of choices.", field="choices"
            )
        cleaned = [" ".join(str(c).split()) for c in choices]
        if any(not c for c in cleaned) or len(set(cleaned)) != len(cleaned):
            raise ValidationError(
                "Choices must be distinct and not empty.", field="choices"
            )
        return cleaned
    if choices:
        raise ValidationError("Only choice attributes have choices.", field="choices")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValidationError("The minimum is above the maximum.", field="min_value")
    return []
