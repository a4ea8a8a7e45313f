from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from core.models import AuditLogEntry


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
