from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.utils import timezone

from core.models import AuditLogEntry


def audit_log_record(
    *, actor, action: str, target=None, reason: str = "", data: dict | None = None
) -> AuditLogEntry:
    """Append an audit entry: `actor` did `action` to `target` because `reason`.

    Runs in the caller's transaction, so the entry commits or rolls back with
    the change it describes.
    """
    entry = AuditLogEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=str(actor) if actor is not None else "system",
        action=action,
        reason=reason,
        data=data or {},
    )
    if target is not None:
        entry.target_type = ContentType.objects.get_for_model(target)
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:255]
    entry.save()
    return entry


def worker_ping_key(token: str) -> str:
    return f"worker-ping:{token}"


def worker_ping_answer(*, token: str) -> None:
    """Record in the shared cache that a worker ran the ping job `token`."""
    cache.set(worker_ping_key(token), timezone.now().isoformat(), timeout=300)
