from django.core.management.base import BaseCommand

from accounts.services import notification_digest_send


class Command(BaseCommand):
    help = (
        "Send the notification digests that are due. Idempotent: safe to run "
        "as often as you like (hourly from cron where Celery beat does not run)."
    )

    def handle(self, *args, **options):
        sent = notification_digest_send()
        self.stdout.write(f"Sent {sent} notification digest(s).")
