from django.core.management.base import BaseCommand

from listings.models import SavedSearch
from listings.services import saved_searches_notify


class Command(BaseCommand):
    help = (
        "Notify saved searches about new matching listings: the daily digest, "
        "or a catch-up of instant ones (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--frequency",
            choices=SavedSearch.Frequency.values,
            default=SavedSearch.Frequency.DAILY,
        )

    def handle(self, *args, frequency, **options):
        sent = saved_searches_notify(frequency=frequency)
        self.stdout.write(f"Sent {sent} {frequency} saved-search notification(s).")
