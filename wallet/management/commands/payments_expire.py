from django.core.management.base import BaseCommand

from wallet.services import payment_expire_stale


class Command(BaseCommand):
    help = "Mark top-ups still pending after PAYMENT_PENDING_TIMEOUT_HOURS expired."

    def handle(self, *args, **options):
        count = payment_expire_stale()
        self.stdout.write(f"{count} payment(s) expired.")
