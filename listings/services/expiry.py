"""Periodic expiry of listings and the warning before it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from listings.models import (
    Listing,
    ListingStatus,
)


def expires_in_words(remaining: timedelta) -> str:
    """ "within a day", "in 1 day", "in 2 days": whole days rounded to the
    nearest, as the job runs at any hour (1 day 23 hours is "in 2 days")."""
    if remaining < timedelta(days=1):
        return "within a day"
    days = round(remaining / timedelta(days=1))
    return f"in {days} day{'' if days == 1 else 's'}"


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
                when = expires_in_words(listing.expires_at - now)
                notification_send(
                    user=listing.owner,
                    kind="listing_expiring",
                    title=f"“{listing.title}” expires {when}",
                    body="Renew it in one click to keep it on the site for "
                    f"another {settings.LISTING_LIFETIME_DAYS} days.",
                    url="/my/listings/",
                )
            total += len(batch)
