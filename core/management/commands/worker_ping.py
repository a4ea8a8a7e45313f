"""Check that background workers take jobs from the queue and run them."""

import time
import uuid

from django.core.management.base import BaseCommand, CommandError

from core.selectors import worker_ping_answered
from core.tasks import ping


class Command(BaseCommand):
    help = (
        "Send a ping job through the broker and wait until a worker has run it "
        "(exit status 1 if none does in time)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=30.0, help="Seconds to wait (30)."
        )
        parser.add_argument(
            "--queue", default=None, help="Queue to send to (Celery's default)."
        )

    def handle(self, *args, timeout, queue, **options):
        if timeout <= 0:
            raise CommandError("--timeout must be positive.")
        token = uuid.uuid4().hex
        started = time.monotonic()
        ping.apply_async(args=[token], queue=queue, expires=timeout)
        while not worker_ping_answered(token=token):
            if time.monotonic() - started > timeout:
                raise CommandError(f"No worker ran the ping job within {timeout:g}s.")
            time.sleep(0.1)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.stdout.write(
            self.style.SUCCESS(f"A worker answered in {elapsed_ms:.0f} ms.")
        )
