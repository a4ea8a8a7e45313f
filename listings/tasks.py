"""Background jobs of the listings app: thin wrappers over idempotent services."""

from celery import shared_task

from listings import services


@shared_task
def listings_expire() -> int:
    return services.listings_expire()


@shared_task
def listings_warn_expiring() -> int:
    return services.listings_warn_expiring()


@shared_task
def saved_searches_notify(frequency: str = "daily") -> int:
    return services.saved_searches_notify(frequency=frequency)


@shared_task
def saved_searches_notify_listing(listing_id: int) -> int:
    return services.saved_searches_notify_listing(listing_id=listing_id)


@shared_task
def listing_view_count_sync(listing_id: int) -> None:
    services.listing_view_count_sync(listing_id=listing_id)


@shared_task
def listings_promotions_expire() -> int:
    return services.listings_promotions_expire()
