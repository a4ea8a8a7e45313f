"""The post and edit pages' use cases: a listing and its photos in one go.

Each step is a service of its own; here they share one transaction, so a
listing is never left half-saved. Photos are decoded and resized before the
transaction opens (the slow part, and where most bad uploads are refused); the
files stored inside it are deleted again when it rolls back, because storage
takes no part in a database rollback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from core.errors import PermissionDenied, ValidationError
from listings.images import ProcessedImage, image_process
from listings.models import Listing
from listings.services._common import _removing_files_on_error
from listings.services.listings import (
    listing_create,
    listing_publish,
    listing_update,
)
from listings.services.photos import (
    _image_store,
    listing_image_delete,
    listing_images_reorder,
)
from listings.services.transitions import listing_owner_actions


def listing_create_with_photos(
    *, owner, photos: Sequence = (), publish: bool = False, **fields
) -> Listing:
    """Create a listing (fields as `listing_create`) with its photos, all or
    nothing; `publish` then puts it live or into review. Not inside a
    transaction (durable)."""
    if owner is None or not owner.is_authenticated:
        raise PermissionDenied("Log in to post a listing.")
    processed = _process_all(photos)
    # Durable: only as the outermost transaction does a rollback here mean the
    # rows are gone, so only then is deleting the new files right.
    with _removing_files_on_error() as written, transaction.atomic(durable=True):
        listing = listing_create(owner=owner, publish=False, **fields)
        for item in processed:
            _image_store(listing=listing, processed=item, written=written)
        if publish:
            listing = listing_publish(listing=listing, actor=owner)
    return listing


def listing_update_with_photos(
    *,
    listing: Listing,
    actor,
    photos: Sequence = (),
    delete_ids: Iterable[int] = (),
    order: Iterable[int] = (),
    publish: bool = False,
    **fields,
) -> Listing:
    """Change a listing (fields as `listing_update`), delete, add and reorder its
    photos (new ones go last), all or nothing; `publish` puts a draft live and
    resubmits a rejected one for review (ignored in other states, whose form
    only saves). Not inside a transaction (durable)."""
    delete_ids = list(delete_ids)
    order = list(order)
    processed = _process_all(photos)
    with _removing_files_on_error() as written, transaction.atomic(durable=True):
        listing = listing_update(listing=listing, actor=actor, **fields)
        existing = {image.pk: image for image in listing.images.all()}
        for pk in delete_ids:
            if pk in existing:
                listing_image_delete(image=existing.pop(pk), actor=actor)
        added = [
            _image_store(listing=listing, processed=item, written=written)
            for item in processed
        ]
        if order or delete_ids:
            kept = [pk for pk in order if pk in existing]
            kept += [pk for pk in existing if pk not in kept]
            listing_images_reorder(
                listing=listing,
                actor=actor,
                image_ids=kept + [image.pk for image in added],
            )
        if publish and "publish" in listing_owner_actions(listing):
            listing = listing_publish(listing=listing, actor=actor)
    return listing


def _process_all(photos: Sequence) -> list[ProcessedImage]:
    processed = []
    for number, upload in enumerate(photos, start=1):
        try:
            processed.append(image_process(upload))
        except ValidationError as exc:
            name = getattr(upload, "name", "") or f"Photo {number}"
            raise ValidationError(
                f"“{name}”: {exc.message}", field=exc.field, code=exc.code
            ) from exc
    return processed
