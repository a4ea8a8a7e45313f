from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import QuerySet

from core.models import AuditLogEntry
from core.services import worker_ping_key


def audit_log_for(target) -> QuerySet[AuditLogEntry]:
    """The audit trail of one object, newest first (for moderation views)."""
    return (
        AuditLogEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(target),
            target_id=str(target.pk),
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


def worker_ping_answered(*, token: str) -> bool:
    return cache.get(worker_ping_key(token)) is not None
