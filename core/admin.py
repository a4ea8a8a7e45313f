from django.contrib import admin

from core.models import AuditLogEntry


class ReadOnlyAdminMixin:
    """Admin for history: visible to those who may view, changeable by nobody."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "actor_repr",
        "action",
        "target_type",
        "target_repr",
        "reason",
    )
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor_repr", "target_repr", "target_id", "reason", "action")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLogEntry._meta.fields]
    list_select_related = ("target_type",)
