"""Listing lifecycle: create, edit, publish, sell, archive, renew, delete; views."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import Conflict, PermissionDenied, ValidationError
from listings.attributes import validate_attributes
from listings.models import (
    Category,
    Listing,
    ListingStatus,
    ListingView,
)
from listings.services._common import (
    EDITABLE_FIELDS,
    REVIEWED_FIELDS,
    _announce_live,
    _clean_fields,
    _clean_location,
    _delete_files_on_commit,
    _go_live,
    _image_files,
    _lifetime,
    _lock,
    _require_owner,
)
from listings.services.transitions import _require_owner_action


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
    _require_owner_action(locked, "edit")
    cleaned = _clean_fields(fields)
    before = {name: getattr(locked, name) for name in REVIEWED_FIELDS | {"city"}}
    for name, value in cleaned.items():
        setattr(locked, name, value)
    if "lat" in fields or "lng" in fields:
        locked.location = _clean_location(
            fields.get("lat"), fields.get("lng"), locked.city
        )
    elif locked.city != before["city"]:
        # A new city without a picked point: its centre, never the old city's
        # point; an unknown city is refused, as on create.
        locked.location = _clean_location(None, None, locked.city)
    if "attributes" in fields or "category" in cleaned:
        locked.attributes = validate_attributes(
            locked.category,
            fields.get("attributes", locked.attributes),
        )
    changed = {n for n in REVIEWED_FIELDS if getattr(locked, n) != before[n]}
    # An expired listing goes live again by renew without review, so new
    # content there needs review as much as on a live one.
    if (
        settings.LISTINGS_REQUIRE_REVIEW
        and locked.status in (ListingStatus.ACTIVE, ListingStatus.EXPIRED)
        and changed
    ):
        locked.status = ListingStatus.PENDING
    locked.save()
    return locked


def _publish(listing: Listing, actor) -> Listing:
    _require_owner_action(listing, "publish")
    if listing.status == ListingStatus.REJECTED:
        # A rejected or hidden listing always goes back through review.
        listing.status = ListingStatus.PENDING
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
    """Put a draft live (or into review); a rejected listing goes back to
    review."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    return _publish(locked, actor)


@transaction.atomic
def listing_mark_sold(*, listing: Listing, actor) -> Listing:
    """Mark an active listing sold: it stays visible with a "sold" label."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    _require_owner_action(locked, "sold")
    locked.status = ListingStatus.SOLD
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def listing_archive(*, listing: Listing, actor) -> Listing:
    """Take an active, expired or sold listing off the site, keeping it in the
    owner's dashboard; it remembers what it was, for renew."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    _require_owner_action(locked, "archive")
    locked.archived_from = locked.status
    locked.status = ListingStatus.ARCHIVED
    locked.save(update_fields=["status", "archived_from", "updated_at"])
    return locked


@transaction.atomic
def listing_renew(*, listing: Listing, actor) -> Listing:
    """Give an active listing a new lifetime; put an expired one, or one
    archived while active or expired, live again. A sold one stays archived."""
    locked = _lock(listing)
    _require_owner(locked, actor)
    _require_owner_action(locked, "renew")
    now = timezone.now()
    if locked.status == ListingStatus.ACTIVE:
        locked.expires_at = now + _lifetime()
        locked.expiry_warned_at = None
    else:
        # No review even when LISTINGS_REQUIRE_REVIEW is on: the content is
        # what was live before (archived listings cannot be edited, and edits
        # of expired ones go to review in listing_update).
        _go_live(locked, now)
        locked.archived_from = ""
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
