from django.core.management.base import BaseCommand

from wallet.services import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete idempotency keys older than IDEMPOTENCY_KEY_TTL_HOURS."

    def handle(self, *args, **options):
        count = idempotency_keys_purge()
        self.stdout.write(f"{count} expired idempotency key(s) deleted.")
