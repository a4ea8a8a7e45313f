from django.core.management.base import BaseCommand

from wallet.services import promotion_expire_ended


class Command(BaseCommand):
    help = "Mark promotions whose time is up as ended (safe to run any time)."

    def handle(self, *args, **options):
        count = promotion_expire_ended()
        self.stdout.write(f"{count} promotion(s) ended.")
