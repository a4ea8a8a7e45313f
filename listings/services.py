"""Every write of the listings app: one public function per use case, each in
one transaction; side effects that leave the database run on commit."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, ProtectedError, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.text import slugify

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services import audit_log_record
from listings.attributes import validate_attributes
from listings.cities import city_centre, city_normalize
from listings.images import image_process
from listings.models import (
    Category,
    Condition,
    Favourite,
    Listing,
    ListingImage,
    ListingStatus,
    ListingView,
    SavedSearch,
    SavedSearchMatch,
)
from listings.search import SearchParams, listing_search, parse_search_params
from listings.selectors import (
    category_ancestors,
    category_is_leaf,
    category_tree_invalidate,
)

logger = logging.getLogger(__name__)

PROMOTION_KINDS = ("bump", "featured", "top")
TITLE_MIN_LENGTH = 3
TITLE_MAX_LENGTH = 120
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


# --- Helpers --------------------------------------------------------------------


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
    if len(text) < min_length:
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
        raise ValidationError("The price is a whole number of minor units.", "price")
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
            min_length=0,
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


def _delete_files_on_commit(names: list[tuple[Any, str]]) -> None:
    def delete():
        for storage, name in names:
            if not name:
                continue
            try:
                storage.delete(name)
            except Exception:  # a stale file is not worth failing the request
                logger.exception("Could not delete listing file %s", name)

    transaction.on_commit(delete)


def _image_files(image: ListingImage) -> list[tuple[Any, str]]:
    return [
        (image.image.storage, image.image.name),
        (image.thumbnail.storage, image.thumbnail.name),
    ]


# --- Listings -------------------------------------------------------------------


@transaction.atomic
def listing_create(
    *,
    owner,
    category: Category,
    title: str,
    description: str,
    price: int,
    currency: str | None = None,
    is_negotiable: bool = False,
    condition: str,
    city: str,
    lat: float | None = None,
    lng: float | None = None,
    attributes: dict | None = None,
    publish: bool = False,
) -> Listing:
    """Create a listing as a draft (price in minor units); `publish` puts it live
    (or in the review queue when LISTINGS_REQUIRE_REVIEW is on)."""
    if owner is None or not owner.is_authenticated:
        raise PermissionDenied("Log in to post a listing.")
    fields = _clean_fields(
        {
            "category": category,
            "title": title,
            "description": description,
            "price": price,
            "currency": currency,
            "is_negotiable": is_negotiable,
            "condition": condition,
            "city": city,
        }
    )
    fields["location"] = _clean_location(lat, lng, fields["city"])
    fields["attributes"] = validate_attributes(fields["category"], attributes)
    listing = Listing(owner=owner, status=ListingStatus.DRAFT, **fields)
    listing.save()
    if publish:
        _publish(listing, owner)
    return listing


@transaction.atomic
def listing_update(*, listing: Listing, actor, **fields) -> Listing:
    """Change a listing's details (owner only); attributes are re-checked
    against the (possibly new) category."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Cannot change {sorted(unknown)[0]}.")
    locked = _lock(listing)
    _require_owner(locked, actor)
    if locked.status in (ListingStatus.SOLD, ListingStatus.ARCHIVED):
        raise Conflict("Sold and archived listings cannot be edited.")
    cleaned = _clean_fields(fields)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    if "lat" in fields or "lng" in fields:
        locked.location = _clean_location(
            fields.get("lat"), fields.get("lng"), locked.city
        )
    elif "city" in cleaned:
        centre = city_centre(locked.city)
        if centre is not None:
            locked.location = Point(centre[1], centre[0], srid=4326)
    if "attributes" in fields or "category" in cleaned:
        locked.attributes = validate_attributes(
            locked.category,
            fields.get("attributes", locked.attributes),
        )
    if (
        settings.LISTINGS_REQUIRE_REVIEW
        and locked.status == ListingStatus.ACTIVE
        and REVIEWED_FIELDS & set(fields)
    ):
        locked.status = ListingStatus.PENDING
    locked.save()
    return locked


def _publish(listing: Listing, actor) -> Listing:
    if listing.status == ListingStatus.REJECTED:
        # A rejected or hidden listing always goes back through review.
        listing.status = ListingStatus.PENDING
    elif listing.status != ListingStatus.DRAFT:
        raise Conflict(
            f"A {listing.get_status_display().lower()} listing cannot be published.",
            code="invalid_status",
        )
    elif settings.LISTINGS_REQUIRE_REVIEW:
        listing.status = ListingStatus.PENDING
    else:
        _go_live(listing, timezone.now())
    listing.rejection_reason = ""
    listing.save()
    if listing.status == ListingStatus.ACTIVE:
        _announce_live(listing)
    return listing


@transaction.atomic
def listing_publish(*, listing: Listing, actor) -> Listing:
    """Put a draft live (or into review); a rejected listing goes to review."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    return _publish(locked, actor)


@transaction.atomic
def listing_mark_sold(*, listing: Listing, actor) -> Listing:
    """Mark an active listing sold: it stays visible with a "sold" label."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    if locked.status != ListingStatus.ACTIVE:
        raise Conflict("Only an active listing can be marked sold.")
    locked.status = ListingStatus.SOLD
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def listing_archive(*, listing: Listing, actor) -> Listing:
    """Take a listing off the site, keeping it in the owner's dashboard."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    if locked.status == ListingStatus.ARCHIVED:
        raise Conflict("The listing is already archived.")
    locked.status = ListingStatus.ARCHIVED
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def listing_renew(*, listing: Listing, actor) -> Listing:
    """Give an active, expired or archived (once live) listing a new lifetime."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    now = timezone.now()
    was_live = locked.published_at is not None
    if locked.status == ListingStatus.ACTIVE:
        locked.expires_at = now + _lifetime()
        locked.expiry_warned_at = None
    elif locked.status in (ListingStatus.EXPIRED, ListingStatus.ARCHIVED) and was_live:
        _go_live(locked, now)
    else:
        raise Conflict(
            f"A {locked.get_status_display().lower()} listing cannot be renewed.",
            code="invalid_status",
        )
    locked.save()
    return locked


@transaction.atomic
def listing_delete(*, listing: Listing, actor) -> None:
    """Delete a listing and (after commit) its photo files."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    files = [f for image in locked.images.all() for f in _image_files(image)]
    try:
        locked.delete()
    except ProtectedError:
        raise Conflict(
            "This listing is part of a deal; archive it instead.", code="protected"
        ) from None
    _delete_files_on_commit(files)


# --- Photos ---------------------------------------------------------------------


def listing_image_add(*, listing: Listing, actor, upload) -> ListingImage:
    """Check, clean and store an uploaded photo as the listing's last one."""
    if listing.owner_id != getattr(actor, "pk", None):
        _require_owner(listing, actor)
    # Decode and resize outside the transaction: it is the slow part.
    processed = image_process(upload)
    with transaction.atomic():
        locked = _lock(listing)
        _require_owner(locked, actor)
        if locked.status in (ListingStatus.SOLD, ListingStatus.ARCHIVED):
            raise Conflict("Sold and archived listings cannot get new photos.")
        count = ListingImage.objects.filter(listing=locked).count()
        if count >= settings.LISTING_MAX_IMAGES:
            raise ValidationError(
                f"A listing can have at most {settings.LISTING_MAX_IMAGES} photos.",
                field="image",
                code="too_many_images",
            )
        image = ListingImage(
            listing=locked,
            width=processed.width,
            height=processed.height,
            position=count,
        )
        image.image.save("photo.jpg", processed.display, save=False)
        image.thumbnail.save("thumb.jpg", processed.thumbnail, save=False)
        files = _image_files(image)
        try:
            image.save()
            Listing.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
        except Exception:
            for storage, name in files:
                storage.delete(name)
            raise
    return image


@transaction.atomic
def listing_image_delete(*, image: ListingImage, actor) -> None:
    """Remove a photo; the others close the gap; its files go after commit."""
    listing = _lock(image.listing)
    _require_owner(listing, actor)
    files = _image_files(image)
    image.delete()
    _renumber(listing, [img.pk for img in listing.images.order_by("position", "pk")])
    _delete_files_on_commit(files)


def _renumber(listing: Listing, ordered_ids: list[int]) -> None:
    images = {img.pk: img for img in ListingImage.objects.filter(listing=listing)}
    changed = []
    for position, pk in enumerate(ordered_ids):
        image = images[pk]
        if image.position != position:
            image.position = position
            changed.append(image)
    ListingImage.objects.bulk_update(changed, ["position"])


@transaction.atomic
def listing_images_reorder(*, listing: Listing, actor, image_ids: list) -> None:
    """Put the listing's photos in the given order; the first is the cover."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    try:
        ordered = [int(pk) for pk in image_ids]
    except (TypeError, ValueError):
        raise ValidationError("Photo ids are numbers.", field="image_ids") from None
    current = set(
        ListingImage.objects.filter(listing=locked).values_list("pk", flat=True)
    )
    if len(ordered) != len(set(ordered)) or set(ordered) != current:
        raise ValidationError(
            "List every photo of the listing exactly once.", field="image_ids"
        )
    _renumber(locked, ordered)


# --- Favourites -----------------------------------------------------------------


@transaction.atomic
def favourite_add(*, user, listing: Listing) -> Favourite:
    """Add an active listing to the user's favourites (idempotent)."""
    if listing.owner_id == user.pk:
        raise ValidationError("You cannot favourite your own listing.")
    existing = Favourite.objects.filter(user=user, listing=listing).first()
    if existing:
        return existing
    if listing.status != ListingStatus.ACTIVE:
        raise Conflict("Only active listings can be added to favourites.")
    try:
        with transaction.atomic():
            favourite = Favourite.objects.create(user=user, listing=listing)
    except IntegrityError:  # a concurrent add won the race
        return Favourite.objects.get(user=user, listing=listing)
    Listing.objects.filter(pk=listing.pk).update(
        favourite_count=F("favourite_count") + 1
    )
    return favourite


@transaction.atomic
def favourite_remove(*, user, listing: Listing) -> bool:
    """Remove a listing from the user's favourites; False if it was not there."""
    deleted, _ = Favourite.objects.filter(user=user, listing=listing).delete()
    if deleted:
        Listing.objects.filter(pk=listing.pk).update(
            favourite_count=Greatest(F("favourite_count") - 1, Value(0))
        )
    return bool(deleted)


# --- Views ----------------------------------------------------------------------


def listing_view_record(*, listing: Listing, visitor_key: str) -> bool:
    """Count a visit at most once per visitor and day; True when it counted.

    Writes only the small ListingView row in the request; the listing's
    `view_count` is brought up to date after commit by a background task, so
    a page view never waits for a lock on the listing row.
    """
    if not visitor_key or len(visitor_key) > 64:
        raise ValidationError("Invalid visitor key.")
    if listing.status != ListingStatus.ACTIVE:
        return False
    try:
        with transaction.atomic():
            _, created = ListingView.objects.get_or_create(
                listing=listing, visitor_key=visitor_key, day=timezone.localdate()
            )
    except IntegrityError:
        return False
    if created:
        from listings import tasks

        pk = listing.pk
        transaction.on_commit(lambda: tasks.listing_view_count_sync.delay(pk))
    return created


def listing_view_count_sync(*, listing_id: int) -> None:
    """Set a listing's `view_count` from its counted views (idempotent)."""
    views = (
        ListingView.objects.filter(listing_id=OuterRef("pk"))
        .order_by()
        .values("listing_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Listing.objects.filter(pk=listing_id).update(
        view_count=Coalesce(Subquery(views), 0)
    )


# --- Saved searches -------------------------------------------------------------


@transaction.atomic
def saved_search_create(
    *, user, name: str, params: SearchParams, frequency: str
) -> SavedSearch:
    """Save the user's current search to be told about new matches."""
    name = _clean_text(name or "", field="name", max_length=120)
    if frequency not in SavedSearch.Frequency.values:
        raise ValidationError("Frequency is instant or daily.", field="frequency")
    if params.is_empty():
        raise ValidationError(
            "Add a search text or a filter before saving the search.", field="params"
        )
    stored = params.to_query_dict()
    stored.pop("ordering", None)  # the order does not change what matches
    if SavedSearch.objects.filter(user=user, params=stored).exists():
        raise Conflict("You have already saved this search.", code="duplicate")
    if SavedSearch.objects.filter(user=user).count() >= SAVED_SEARCHES_PER_USER:
        raise Conflict(
            f"You can keep at most {SAVED_SEARCHES_PER_USER} saved searches.",
            code="too_many",
        )
    return SavedSearch.objects.create(
        user=user,
        name=name,
        params=stored,
        frequency=frequency,
        last_notified_at=timezone.now(),
    )


@transaction.atomic
def saved_search_update(*, saved_search: SavedSearch, user, frequency: str):
    """Change how often a saved search notifies its owner."""
    if saved_search.user_id != user.pk:
        raise NotFound("No such saved search.")
    if frequency not in SavedSearch.Frequency.values:
        raise ValidationError("Frequency is instant or daily.", field="frequency")
    saved_search.frequency = frequency
    saved_search.save(update_fields=["frequency"])
    return saved_search


@transaction.atomic
def saved_search_delete(*, saved_search: SavedSearch, user) -> None:
    """Delete one of the user's saved searches."""
    if saved_search.user_id != user.pk:
        raise NotFound("No such saved search.")
    saved_search.delete()


def _saved_search_params(saved_search: SavedSearch) -> SearchParams | None:
    try:
        return parse_search_params(saved_search.params)
    except ValidationError:
        # The category or an attribute it filtered on is gone: nothing matches.
        logger.info("Saved search %s no longer parses; skipped", saved_search.pk)
        return None


def _search_url(saved_search: SavedSearch) -> str:
    from urllib.parse import urlencode

    return f"/search/?{urlencode(saved_search.params)}"


@transaction.atomic
def saved_searches_notify_listing(*, listing_id: int) -> int:
    """Notify owners of instant saved searches that a just-published listing
    matches (once per saved search and listing). Returns notifications sent."""
    from accounts.services import notification_send

    listing = Listing.objects.filter(pk=listing_id, status=ListingStatus.ACTIVE).first()
    if listing is None:
        return 0
    slugs = [c.slug for c in category_ancestors(listing.category)]
    slugs.append(listing.category.slug)
    candidates = (
        SavedSearch.objects.filter(frequency=SavedSearch.Frequency.INSTANT)
        .filter(Q(params__category__in=slugs) | Q(params__category__isnull=True))
        .exclude(user_id=listing.owner_id)
        .exclude(matches__listing=listing)
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for saved_search in candidates:
        params = _saved_search_params(saved_search)
        if params is None:
            continue
        if not listing_search(params).filter(pk=listing.pk).exists():
            continue
        _, created = SavedSearchMatch.objects.get_or_create(
            saved_search=saved_search, listing=listing
        )
        if not created:
            continue
        notification_send(
            user=saved_search.user,
            kind="saved_search",
            title=f"New for “{saved_search.name}”: {listing.title}",
            body=f"A new listing matches your saved search “{saved_search.name}”.",
            url=listing.get_absolute_url(),
        )
        SavedSearch.objects.filter(pk=saved_search.pk).update(
            last_notified_at=timezone.now()
        )
        sent += 1
    return sent


def saved_searches_notify(*, frequency: str = "daily", now=None) -> int:
    """Periodic job: notify each saved search of `frequency` about listings
    published since it last notified (daily digest; for instant ones it
    catches what the per-listing trigger missed). Idempotent: a listing is
    announced once per saved search. Returns notifications sent."""
    if frequency not in SavedSearch.Frequency.values:
        raise ValueError(f"Unknown frequency: {frequency}")
    now = now or timezone.now()
    sent = 0
    for pk in SavedSearch.objects.filter(frequency=frequency).values_list(
        "pk", flat=True
    ):
        sent += _saved_search_digest(saved_search_id=pk, now=now)
    return sent


@transaction.atomic
def _saved_search_digest(*, saved_search_id: int, now) -> int:
    from accounts.services import notification_send

    saved_search = (
        SavedSearch.objects.select_for_update()
        .select_related("user")
        .filter(pk=saved_search_id)
        .first()
    )
    if saved_search is None:
        return 0
    since = saved_search.last_notified_at or saved_search.created_at
    if saved_search.frequency == SavedSearch.Frequency.DAILY and (
        now - since < timedelta(hours=23)
    ):
        return 0
    params = _saved_search_params(saved_search)
    if params is None:
        return 0
    # Look back a little past the watermark so that a listing whose
    # transaction committed late is not missed; matches dedupe it.
    new = list(
        listing_search(params)
        .filter(published_at__gt=since - timedelta(hours=1), published_at__lte=now)
        .exclude(owner_id=saved_search.user_id)
        .exclude(saved_search_matches__saved_search=saved_search)
        .order_by("-published_at")
        .values_list("pk", "title")[:100]
    )
    saved_search.last_notified_at = now
    saved_search.save(update_fields=["last_notified_at"])
    if not new:
        return 0
    SavedSearchMatch.objects.bulk_create(
        [SavedSearchMatch(saved_search=saved_search, listing_id=pk) for pk, _ in new],
        ignore_conflicts=True,
    )
    titles = ", ".join(title for _, title in new[:3])
    count = len(new)
    notification_send(
        user=saved_search.user,
        kind="saved_search",
        title=(
            f"{count} new listing{'s' if count != 1 else ''} for “{saved_search.name}”"
        ),
        body=f"New matches: {titles}{'…' if count > 3 else ''}",
        url=_search_url(saved_search),
    )
    return 1


# --- Expiry ---------------------------------------------------------------------


def listings_expire(*, now=None) -> int:
    """Periodic job: active listings past `expires_at` become expired and their
    owners are told (idempotent). Returns how many expired."""
    from accounts.services import notification_send

    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Listing.objects.select_for_update(skip_locked=True)
                .filter(status=ListingStatus.ACTIVE, expires_at__lte=now)
                .select_related("owner")
                .order_by("pk")[:500]
            )
            if not batch:
                return total
            Listing.objects.filter(pk__in=[x.pk for x in batch]).update(
                status=ListingStatus.EXPIRED, updated_at=now
            )
            for listing in batch:
                notification_send(
                    user=listing.owner,
                    kind="listing_expiring",
                    title=f"“{listing.title}” has expired",
                    body="It is no longer shown. Renew it in one click to put "
                    "it back for another "
                    f"{settings.LISTING_LIFETIME_DAYS} days.",
                    url="/my/listings/?status=expired",
                )
            total += len(batch)


def listings_warn_expiring(*, now=None) -> int:
    """Periodic job: tell owners a few days (LISTING_EXPIRY_WARNING_DAYS) before
    a listing expires, once per lifetime. Returns how many were warned."""
    from accounts.services import notification_send

    now = now or timezone.now()
    horizon = now + timedelta(days=settings.LISTING_EXPIRY_WARNING_DAYS)
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Listing.objects.select_for_update(skip_locked=True)
                .filter(
                    status=ListingStatus.ACTIVE,
                    expires_at__gt=now,
                    expires_at__lte=horizon,
                    expiry_warned_at__isnull=True,
                )
                .select_related("owner")
                .order_by("pk")[:500]
            )
            if not batch:
                return total
            Listing.objects.filter(pk__in=[x.pk for x in batch]).update(
                expiry_warned_at=now
            )
            for listing in batch:
                days = max((listing.expires_at - now).days, 0)
                when = "within a day" if days < 1 else f"in {days} days"
                notification_send(
                    user=listing.owner,
                    kind="listing_expiring",
                    title=f"“{listing.title}” expires {when}",
                    body="Renew it in one click to keep it on the site for "
                    f"another {settings.LISTING_LIFETIME_DAYS} days.",
                    url="/my/listings/",
                )
            total += len(batch)


# --- Moderation -----------------------------------------------------------------

MODERATION_ACTIONS = ("approve", "reject", "hide")


@transaction.atomic
def listing_moderate(
    *, listing: Listing, moderator, action: str, reason: str = ""
) -> Listing:
    """A moderator approves a pending listing, rejects one (with a reason) or
    hides a live one; the owner is notified and the decision audited."""
    from accounts.services import notification_send

    if action not in MODERATION_ACTIONS:
        raise ValidationError(f"Unknown moderation action: {action}", field="action")
    if moderator is None or not moderator.has_perm("listings.change_listing"):
        raise PermissionDenied("Only moderators can moderate listings.")
    reason = (reason or "").strip()
    locked = _lock(listing)
    now = timezone.now()
    if action == "approve":
        if locked.status not in (ListingStatus.PENDING, ListingStatus.REJECTED):
            raise Conflict("Only pending or rejected listings can be approved.")
        _go_live(locked, now)
        locked.rejection_reason = ""
        title = f"“{locked.title}” is live"
        body = "A moderator approved your listing."
    else:
        allowed = (
            (ListingStatus.PENDING, ListingStatus.ACTIVE)
            if action == "reject"
            else (ListingStatus.ACTIVE, ListingStatus.SOLD, ListingStatus.PENDING)
        )
        if locked.status not in allowed:
            raise Conflict(
                f"A {locked.get_status_display().lower()} listing cannot be "
                f"{'rejected' if action == 'reject' else 'hidden'}."
            )
        if not reason:
            raise ValidationError("Give the owner a reason.", field="reason")
        locked.status = ListingStatus.REJECTED
        locked.rejection_reason = reason
        verb = "was rejected" if action == "reject" else "was hidden by a moderator"
        title = f"“{locked.title}” {verb}"
        body = f"Reason: {reason}\nEdit the listing and publish it again for review."
    locked.save()
    audit_log_record(
        actor=moderator,
        action=f"listing.{action}",
        target=locked,
        reason=reason,
        data={"status": locked.status},
    )
    notification_send(
        user=locked.owner,
        kind="moderation",
        title=title,
        body=body,
        url=locked.get_absolute_url(),
    )
    if locked.status == ListingStatus.ACTIVE:
        _announce_live(locked)
    return locked


# --- Categories -----------------------------------------------------------------

CATEGORY_MAX_DEPTH = 5


@transaction.atomic
def category_save(
    *,
    category: Category | None = None,
    parent: Category | None = None,
    name: str,
    slug: str = "",
    icon: str = "",
    order: int = 0,
    is_active: bool = True,
) -> Category:
    """Create or change a category and keep the materialized paths of it and
    its descendants right."""
    name = _clean_text(name, field="name", max_length=100)
    slug = slugify(slug or name)[:100]
    if not slug:
        raise ValidationError("Enter a slug of letters, digits or dashes.", "slug")
    clash = Category.objects.filter(slug=slug)
    if category is not None and category.pk:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise ValidationError("Another category has this slug.", field="slug")
    if parent is not None:
        if (
            category is not None
            and category.pk
            and (parent.pk == category.pk or parent.path.startswith(category.path))
        ):
            raise ValidationError(
                "A category cannot be inside itself or its descendants.",
                field="parent",
            )
        if parent.path.count("/") - 1 >= CATEGORY_MAX_DEPTH:
            raise ValidationError("The tree is deep enough here.", field="parent")
    category = category or Category()
    old_path = category.path if category.pk else ""
    category.parent = parent
    category.name = name
    category.slug = slug
    category.icon = (icon or "")[:32]
    category.order = max(int(order or 0), 0)
    category.is_active = bool(is_active)
    category.save()
    new_path = f"{parent.path if parent else '/'}{category.pk}/"
    if new_path != category.path:
        Category.objects.filter(pk=category.pk).update(path=new_path)
        category.path = new_path
        if old_path:
            for child in Category.objects.filter(path__startswith=old_path).exclude(
                pk=category.pk
            ):
                child.path = new_path + child.path[len(old_path) :]
                Category.objects.filter(pk=child.pk).update(path=child.path)
    transaction.on_commit(category_tree_invalidate)
    return category


# --- Promotions (called by the wallet) ------------------------------------------


def listing_apply_promotion(
    *, listing: Listing, kind: str, duration: timedelta | None = None
):
    """Apply a paid promotion to an active listing (called by the wallet).

    `bump` moves the listing to the top of newest-first once; `featured` and
    `top` last `duration`.

    Must run inside the caller's transaction (the purchase): locks the listing
    row, so the promotion and the payment commit or roll back together.
    """
    if kind not in PROMOTION_KINDS:
        raise ValueError(f"Unknown promotion kind: {kind}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("listing_apply_promotion must run inside a transaction.")
    locked = Listing.objects.select_for_update().get(pk=listing.pk)
    if locked.status != ListingStatus.ACTIVE:
        raise Conflict(
            "Only active listings can be promoted.", code="listing_not_active"
        )
    now = timezone.now()
    if kind == "bump":
        locked.bumped_at = now
        fields = ["bumped_at"]
    else:
        field = f"{kind}_until"
        current = getattr(locked, field)
        # Buying again while a promotion runs extends it rather than restarting.
        start = current if current and current > now else now
        if duration is None:
            raise ValueError(f"A {kind} promotion needs a duration.")
        setattr(locked, field, start + duration)
        fields = [field]
    locked.save(update_fields=[*fields, "updated_at"])
    return locked
