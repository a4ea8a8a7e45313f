from django.core.management.base import BaseCommand

from listings.services import (
    listings_expire,
    listings_promotions_expire,
    listings_warn_expiring,
)


class Command(BaseCommand):
    help = (
        "Warn owners of listings about to expire, expire listings past their "
        "lifetime and end run-out promotions (idempotent; run from cron where "
        "Celery beat does not)."
    )

    def handle(self, *args, **options):
        warned = listings_warn_expiring()
        expired = listings_expire()
        promotions = listings_promotions_expire()
        self.stdout.write(
            f"Warned {warned} owner(s); expired {expired} listing(s); "
            f"ended {promotions} promotion(s)."
        )
