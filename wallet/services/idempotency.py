"""Housekeeping of idempotency keys."""

from django.utils import timezone

from wallet.models import IdempotencyRecord


def idempotency_keys_purge(*, now=None) -> int:
    """Delete expired idempotency keys (periodic job; idempotent); returns how
    many went. Expired keys are also replaced on reuse, so this only keeps the
    table small."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
    return deleted
