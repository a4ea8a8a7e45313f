"""Favourites: unique per user and listing, counted on the listing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from core.errors import Conflict, ValidationError
from listings.models import (
    Favourite,
    Listing,
    ListingStatus,
)


@transaction.atomic
def favourite_add(*, user, listing: Listing) -> Favourite:
    """Add an active listing to the user's favourites (idempotent)."""
    if listing.owner_id == user.pk:
        raise ValidationError("You cannot favourite your own listing.", field="listing")
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


def favourites_forget_user(*, user) -> int:
    """Before `user` is deleted (their favourites go with them by cascade):
    take their favourites off the listings' counts. Runs in the deleting
    transaction; returns how many listings it changed."""
    return (
        Listing.objects.filter(favourites__user=user)
        .exclude(owner=user)  # their own listings go with them
        .update(favourite_count=Greatest(F("favourite_count") - 1, Value(0)))
    )
