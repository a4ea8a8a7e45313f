from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: they can be added, never changed or removed."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only.")

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("update_conflicts"):
            raise TypeError(f"{self.model.__name__} rows are append-only.")
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update"):
            raise TypeError(f"{type(self).__name__} rows are append-only.")
        # Always INSERT: a new object given an existing pk must fail, not
        # silently overwrite that row (Django tries an UPDATE first otherwise).
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only.")


class AuditLogEntry(AppendOnlyModel):
    """Who did what to which object, when and why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the trail survives the actor's deletion.
    actor_repr = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_repr} {self.action} {self.target_repr}"
