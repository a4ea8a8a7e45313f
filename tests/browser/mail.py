"""An e-mail backend for tests that read mail sent by another process."""

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class SpoolEmailBackend(BaseEmailBackend):
    """Write each message as an `.eml` file into `settings.EMAIL_SPOOL_DIR`.

    The ASGI live server runs in its own process, so its mail never reaches the
    test's `mail.outbox`; the `outbox` fixture reads these files instead.
    """

    def send_messages(self, email_messages):
        directory = Path(settings.EMAIL_SPOOL_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"  # sorts by time
            partial = directory / f".{name}.tmp"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(directory / name)  # readers never see half a file
        return len(email_messages)
