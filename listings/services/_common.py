"""Shared helpers of the listings services (not public)."""

from __future__ import annotations

import logging
import math
import unicodedata
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction

from core.errors import NotFound, PermissionDenied, ValidationError
from listings.cities import city_centre, city_normalize
from listings.models import (
    Category,
    Condition,
    Listing,
    ListingImage,
    ListingStatus,
)
from listings.selectors import (
    category_is_leaf,
)

logger = logging.getLogger(__name__)

PROMOTION_KINDS = ("bump", "featured", "top")
# The pages' form and the API both apply these (through the services).
TITLE_MIN_LENGTH = 5
TITLE_MAX_LENGTH = 120
DESCRIPTION_MIN_LENGTH = 10
DESCRIPTION_MAX_LENGTH = 5000
PRICE_MAX_MINOR = 10**14
SAVED_SEARCHES_PER_USER = 50
EDITABLE_FIELDS = {
    "category",
    "title",
    "description",
    "price",
    "currency",
    "is_negotiable",
    "condition",
    "city",
    "lat",
    "lng",
    "attributes",
}
# Changing these on a live listing sends it back to review when review is on.
REVIEWED_FIELDS = {"category", "title", "description", "attributes"}


def _lifetime() -> timedelta:
    return timedelta(days=settings.LISTING_LIFETIME_DAYS)


def _require_owner(listing: Listing, actor) -> None:
    if actor is None or not actor.is_authenticated or listing.owner_id != actor.pk:
        # Others must not learn that a non-public listing exists.
        if listing.status in (ListingStatus.ACTIVE, ListingStatus.SOLD):
            raise PermissionDenied("Only the seller can change this listing.")
        raise NotFound("No such listing.")


def _lock(listing: Listing) -> Listing:
    """Re-read the listing row under a lock (a no-op on SQLite)."""
    try:
        return Listing.objects.select_for_update().get(pk=listing.pk)
    except Listing.DoesNotExist:
        raise NotFound("No such listing.") from None


def _clean_text(value: Any, *, field: str, max_length: int, min_length: int = 1):
    if not isinstance(value, str):
        raise ValidationError("Enter text.", field=field)
    text = value.strip()
    # Characters that show nothing (zero-width spaces and joiners, BOMs) do
    # not count: a title of only those would be an empty one.
    shown = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text; the forms and serializers
        # refuse it too, this keeps other callers (admin, jobs) honest.
        raise ValidationError("Remove the NUL character.", field=field)
    if len(shown) < min_length:
        raise ValidationError(
            f"Enter at least {min_length} characters."
            if min_length > 1
            else "This field is required.",
            field=field,
        )
    if len(text) > max_length:
        raise ValidationError(f"At most {max_length} characters.", field=field)
    return text


def _clean_coordinate(value: Any, *, field: str, bound: float) -> float:
    if isinstance(value, bool):
        raise ValidationError("Enter a number.", field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError("Enter a number.", field=field) from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise ValidationError(f"Must be between -{bound:g} and {bound:g}.", field=field)
    return number


def _clean_location(lat, lng, city: str) -> Point:
    """The listing's point: the one picked on the map, or the city's centre.

    Coordinates arrive as two bounded floats, never as WKT or a spatial
    reference, and become a point here."""
    if lat is None and lng is None:
        centre = city_centre(city)
        if centre is None:
            raise ValidationError(
                "Pick the place on the map or choose a known city.", field="city"
            )
        lat, lng = centre
    elif lat is None or lng is None:
        raise ValidationError(
            "Give both latitude and longitude.", field="lat" if lat is None else "lng"
        )
    lat = _clean_coordinate(lat, field="lat", bound=90)
    lng = _clean_coordinate(lng, field="lng", bound=180)
    return Point(lng, lat, srid=4326)


def _clean_category(category) -> Category:
    if not isinstance(category, Category):
        raise ValidationError("Choose a category.", field="category")
    if not category.is_active:
        raise ValidationError("That category is closed.", field="category")
    if not category_is_leaf(category):
        raise ValidationError(
            f"Choose a more specific category within {category.name}.",
            field="category",
        )
    return category


def _clean_price(price) -> int:
    if isinstance(price, bool) or not isinstance(price, int):
        raise ValidationError(
            "The price is a whole number of minor units.", field="price"
        )
    if price < 0:
        raise ValidationError("A price cannot be negative.", field="price")
    if price > PRICE_MAX_MINOR:
        raise ValidationError("That price is too large.", field="price")
    return price


def _clean_fields(values: dict) -> dict:
    """Check and normalise listing fields; returns model field values."""
    cleaned: dict[str, Any] = {}
    if "category" in values:
        cleaned["category"] = _clean_category(values["category"])
    if "title" in values:
        cleaned["title"] = _clean_text(
            values["title"],
            field="title",
            max_length=TITLE_MAX_LENGTH,
            min_length=TITLE_MIN_LENGTH,
        )
    if "description" in values:
        cleaned["description"] = _clean_text(
            values["description"] or "",
            field="description",
            max_length=DESCRIPTION_MAX_LENGTH,
            min_length=DESCRIPTION_MIN_LENGTH,
        )
    if "price" in values:
        cleaned["price"] = _clean_price(values["price"])
    if "currency" in values:
        currency = (values["currency"] or settings.SITE_CURRENCY).upper()
        if currency not in settings.LISTING_CURRENCIES:
            allowed = ", ".join(settings.LISTING_CURRENCIES)
            raise ValidationError(f"Currency is one of {allowed}.", field="currency")
        cleaned["currency"] = currency
    if "is_negotiable" in values:
        cleaned["is_negotiable"] = bool(values["is_negotiable"])
    if "condition" in values:
        if values["condition"] not in Condition.values:
            raise ValidationError("Condition is new or used.", field="condition")
        cleaned["condition"] = values["condition"]
    if "city" in values:
        cleaned["city"] = city_normalize(
            _clean_text(values["city"] or "", field="city", max_length=80)
        )
    return cleaned


def _go_live(listing: Listing, now) -> None:
    listing.status = ListingStatus.ACTIVE
    listing.published_at = listing.published_at or now
    listing.bumped_at = now
    listing.expires_at = now + _lifetime()
    listing.expiry_warned_at = None


def _announce_live(listing: Listing) -> None:
    """After commit: tell saved searches about a listing that just went live."""
    from listings import tasks

    pk = listing.pk
    transaction.on_commit(lambda: tasks.saved_searches_notify_listing.delay(pk))


def _delete_files(names: list[tuple[Any, str]]) -> None:
    for storage, name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:  # a stale file is not worth failing the request
            logger.exception("Could not delete listing file %s", name)


def _delete_files_on_commit(names: list[tuple[Any, str]]) -> None:
    transaction.on_commit(lambda: _delete_files(names))


@contextmanager
def _removing_files_on_error():
    """Yields a list for the (storage, name) pairs of files written inside the
    block; when the block raises, those files are deleted and the error goes on.

    Django has no on-rollback hook, so enter this *outside* the outermost
    `transaction.atomic()`: it then also sees a failed commit. Inside an outer
    transaction it cannot know about a later rollback of that one."""
    written: list[tuple[Any, str]] = []
    try:
        yield written
    except BaseException:
        _delete_files(written)
        raise


def _image_files(image: ListingImage) -> list[tuple[Any, str]]:
    return [
        (image.image.storage, image.image.name),
        (image.thumbnail.storage, image.thumbnail.name),
    ]
