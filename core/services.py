import json

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from core.errors import ValidationError
from core.models import AuditLogEntry

ACTION_MAX_LENGTH = AuditLogEntry._meta.get_field("action").max_length


def audit_log_record(
    *, actor, action: str, target=None, reason: str = "", data: dict | None = None
) -> AuditLogEntry:
    """Append an audit entry: `actor` did `action` to `target` because `reason`.

    Runs in the caller's transaction, so the entry commits or rolls back with
    the change it describes. `actor` None means the system did it; `data` may
    hold dates, decimals and UUIDs (stored as JSON strings).
    """
    action = (action or "").strip()
    if not action or len(action) > ACTION_MAX_LENGTH:
        raise ValidationError(
            f"An audit action is 1 to {ACTION_MAX_LENGTH} characters.", field="action"
        )
    if data is not None and not isinstance(data, dict):
        raise ValidationError("Audit data must be a dict.", field="data")
    try:
        data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"Audit data must be JSON-serialisable: {exc}", field="data"
        ) from None
    actor_pk = getattr(actor, "pk", None)
    entry = AuditLogEntry(
        actor=actor if actor_pk else None,
        # Kept as text so the trail still names the actor after a deletion.
        actor_repr=(
            "system"
            if actor is None
            else (f"{actor} (#{actor_pk})" if actor_pk else str(actor))
        )[:255],
        action=action,
        reason=reason or "",
        data=data,
    )
    if target is not None:
        if target.pk is None:
            raise ValidationError("The audit target must be saved.", field="target")
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
