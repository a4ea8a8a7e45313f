"""Paid promotions, applied by the wallet."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict
from listings.models import (
    Listing,
    ListingStatus,
)
from listings.services._common import (
    PROMOTION_KINDS,
)


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
        locked.is_promoted = True
        fields = [field, "is_promoted"]
    locked.save(update_fields=[*fields, "updated_at"])
    return locked


def listings_promotions_expire(*, now=None) -> int:
    """Periodic job (every minute): clear the `is_promoted` flag of listings
    whose `top` and `featured` promotions have both run out. Idempotent;
    returns how many changed."""
    now = now or timezone.now()
    running = Q(top_until__gt=now) | Q(featured_until__gt=now)
    return (
        Listing.objects.filter(is_promoted=True)
        .exclude(running)
        .update(is_promoted=False, updated_at=now)
    )
