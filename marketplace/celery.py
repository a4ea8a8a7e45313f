"""Celery application: Redis broker in production, eager in-process otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each periodic job is an idempotent service, with a management command of the
# same purpose for cron where beat does not run. Apps add their entries here.
app.conf.beat_schedule = {
    "notifications-daily-digest": {
        "task": "accounts.tasks.send_notification_digests",
        "schedule": 60 * 60,
    },
    "chat-message-email-digests": {
        "task": "chat.tasks.send_message_email_digests",
        "schedule": 60,
    },
}
