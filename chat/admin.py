"""Moderation: conversations are not browsable; a reported one is readable
from its report, and every such view is written to the audit log."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from chat import services
from chat.models import Message, Report, ReportStatus
from core.errors import DomainError


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "status",
        "reason",
        "reporter",
        "conversation_id",
    )
    list_filter = ("status", "reason")
    search_fields = ("reporter__email", "details")
    date_hierarchy = "created_at"
    list_select_related = ("reporter",)
    actions = ["resolve_selected"]
    fields = (
        "status",
        "reason",
        "details",
        "reporter",
        "created_at",
        "listing",
        "participants",
        "resolved_at",
        "resolved_by",
        "resolution",
        "transcript",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        if report is not None and self.has_view_or_change_permission(request, report):
            services.report_conversation_view_record(
                moderator=request.user, report=report
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:report_id>/photo/<int:message_id>/",
                self.admin_site.admin_view(self.photo_view),
                name="chat_report_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request, report_id, message_id):
        report = Report.objects.filter(pk=report_id).first()
        if report is None:
            raise Http404
        if not self.has_view_or_change_permission(request, report):
            raise PermissionDenied
        message = (
            Message.objects.filter(
                conversation_id=report.conversation_id, pk=message_id
            )
            .exclude(image="")
            .first()
        )
        if message is None:
            raise Http404
        return FileResponse(message.image.open("rb"))

    @admin.display(description="listing")
    def listing(self, report):
        return report.conversation.listing

    @admin.display(description="participants")
    def participants(self, report):
        c = report.conversation
        return f"buyer {c.buyer} (#{c.buyer_id}), seller {c.seller} (#{c.seller_id})"

    @admin.display(description="conversation")
    def transcript(self, report):
        rows = (
            Message.objects.filter(conversation_id=report.conversation_id)
            .select_related("sender")
            .order_by("pk")[:500]
        )

        def line(m):
            photo = ""
            if m.image:
                url = reverse(
                    "admin:chat_report_photo",
                    kwargs={"report_id": report.pk, "message_id": m.pk},
                )
                photo = format_html(' <a href="{}" target="_blank">[photo]</a>', url)
            return (
                f"{m.created_at:%Y-%m-%d %H:%M}",
                m.sender.public_name,
                m.text,
                photo,
                " ⚠ " + m.get_warning_display() if m.warning else "",
            )

        return format_html(
            '<ol class="chat-transcript">{}</ol>',
            format_html_join(
                "",
                "<li><small>{}</small> <strong>{}</strong>: "
                '<span style="white-space:pre-wrap">{}</span>{}{}</li>',
                (line(m) for m in rows),
            ),
        )

    @admin.action(description="Resolve selected reports", permissions=["change"])
    def resolve_selected(self, request, queryset):
        done = 0
        for report in queryset.filter(status=ReportStatus.OPEN):
            try:
                services.report_resolve(
                    moderator=request.user, report=report, resolution="Reviewed"
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        self.message_user(request, f"{done} report(s) resolved.", messages.SUCCESS)
