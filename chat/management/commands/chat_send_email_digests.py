from django.core.management.base import BaseCommand

from chat.services import message_email_digests_send


class Command(BaseCommand):
    help = "E-mail offline users about unread chat messages (batched per interval)."

    def handle(self, *args, **options):
        sent = message_email_digests_send()
        self.stdout.write(f"Sent {sent} message e-mail(s).")
