"""Listing photos: add (checked and cleaned), delete, reorder."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ValidationError
from listings.images import image_process
from listings.models import (
    Listing,
    ListingImage,
    ListingStatus,
)
from listings.services._common import (
    _delete_files_on_commit,
    _image_files,
    _lock,
    _require_owner,
)


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
