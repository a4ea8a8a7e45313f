"""Listing photos: add (checked and cleaned), delete, reorder."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ValidationError
from listings.images import ProcessedImage, image_process
from listings.models import (
    Listing,
    ListingImage,
    ListingStatus,
)
from listings.services._common import (
    _delete_files_on_commit,
    _image_files,
    _lock,
    _removing_files_on_error,
    _require_owner,
)


def listing_image_add(*, listing: Listing, actor, upload) -> ListingImage:
    """Check, clean and store an uploaded photo as the listing's last one."""
    if listing.owner_id != getattr(actor, "pk", None):
        _require_owner(listing, actor)
    # Decode and resize outside the transaction: it is the slow part.
    processed = image_process(upload)
    with _removing_files_on_error() as written, transaction.atomic():
        locked = _lock(listing)
        _require_owner(locked, actor)
        return _image_store(listing=locked, processed=processed, written=written)


def _image_store(
    *, listing: Listing, processed: ProcessedImage, written: list
) -> ListingImage:
    """Store a processed photo as the last one of a listing locked by the caller.

    The names of the files it writes are appended to `written` before the row
    is saved, so the caller can delete them when the transaction fails."""
    if listing.status in (ListingStatus.SOLD, ListingStatus.ARCHIVED):
        raise Conflict("Sold and archived listings cannot get new photos.")
    count = ListingImage.objects.filter(listing=listing).count()
    if count >= settings.LISTING_MAX_IMAGES:
        raise ValidationError(
            f"A listing can have at most {settings.LISTING_MAX_IMAGES} photos.",
            field="image",
            code="too_many_images",
        )
    display, thumbnail = processed
    image = ListingImage(
        listing=listing,
        width=display.width,
        height=display.height,
        position=count,
    )
    # The cleaned files carry random names: photo URLs cannot be guessed.
    image.image.save(display.name, display, save=False)
    written.append((image.image.storage, image.image.name))
    image.thumbnail.save(thumbnail.name, thumbnail, save=False)
    written.append((image.thumbnail.storage, image.thumbnail.name))
    image.save()
    Listing.objects.filter(pk=listing.pk).update(updated_at=timezone.now())
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
