"""Notifications, read-only."""

from django.contrib import admin

from accounts.models import Notification
from core.admin import ReadOnlyAdminMixin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """For support: what a user was told and whether it was e-mailed."""

    list_display = ("created_at", "user", "kind", "title", "read_at", "email_state")
    list_filter = ("kind", "email_state", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "title")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "kind",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
        "email_state",
    )
    fields = readonly_fields
