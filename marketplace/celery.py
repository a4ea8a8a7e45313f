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
    "listings-promotions-expire": {
        "task": "listings.tasks.listings_promotions_expire",
        "schedule": 60,
    },
    "listings-expire": {"task": "listings.tasks.listings_expire", "schedule": 15 * 60},
    "listings-warn-expiring": {
        "task": "listings.tasks.listings_warn_expiring",
        "schedule": 60 * 60,
    },
    # Daily digests are due 23h after the last one; checking hourly spreads them.
    "saved-searches-daily": {
        "task": "listings.tasks.saved_searches_notify",
        "schedule": 60 * 60,
        "kwargs": {"frequency": "daily"},
    },
    # Instant ones are sent when a listing goes live; this catches misses.
    "saved-searches-instant-catch-up": {
        "task": "listings.tasks.saved_searches_notify",
        "schedule": 10 * 60,
        "kwargs": {"frequency": "instant"},
    },
    "chat-message-email-digests": {
        "task": "chat.tasks.send_message_email_digests",
        "schedule": 60,
    },
    "wallet-expire-promotions": {
        "task": "wallet.tasks.expire_promotions",
        "schedule": 5 * 60,
    },
    "wallet-expire-stale-payments": {
        "task": "wallet.tasks.expire_stale_payments",
        "schedule": 60 * 60,
    },
    "wallet-purge-idempotency-keys": {
        "task": "wallet.tasks.purge_idempotency_keys",
        "schedule": 60 * 60,
    },
    "wallet-reconcile-ledger": {
        "task": "wallet.tasks.reconcile_ledger",
        "schedule": 6 * 60 * 60,
    },
}
