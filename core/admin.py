import json

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.models import AuditLogEntry


class ReadOnlyAdminMixin:
    """Admin for history: visible to those who may view, changeable by nobody.

    No add, change or delete (not even for superusers) and no actions, so no
    bulk delete either; the model refuses writes too (AppendOnlyModel).
    """

    actions = None

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
    list_filter = (
        "action",
        ("target_type", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("actor_repr", "target_repr", "target_id", "reason", "action")
    date_hierarchy = "created_at"
    list_select_related = ("target_type",)
    fields = (
        "created_at",
        "actor",
        "actor_repr",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "target_link",
        "reason",
        "data_pretty",
    )
    readonly_fields = fields

    @admin.display(description="target")
    def target_link(self, obj):
        """A link to the target's own admin page, when it has one."""
        if not obj.target_type_id or not obj.target_id:
            return "-"
        ct = obj.target_type
        try:
            url = reverse(
                f"admin:{ct.app_label}_{ct.model}_change", args=[obj.target_id]
            )
        except NoReverseMatch:
            return obj.target_repr or "-"
        return format_html('<a href="{}">{}</a>', url, obj.target_repr or url)

    @admin.display(description="data")
    def data_pretty(self, obj):
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False)
        )
