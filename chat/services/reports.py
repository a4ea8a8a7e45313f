"""Reports of conversations to the moderators."""

from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Report, ReportReason, ReportStatus
from chat.text import text_clean
from core.errors import Conflict, NotFound, ValidationError
from core.services import audit_log_record


def conversation_report(
    *, user, conversation: Conversation, reason: str, details: str = ""
) -> Report:
    """Send a conversation to the moderators; one open report per reporter."""
    if user.pk not in (conversation.buyer_id, conversation.seller_id):
        raise NotFound("Conversation not found.")
    if reason not in ReportReason.values:
        raise ValidationError("Choose a reason.", field="reason")
    details = text_clean(details)
    if len(details) > 2000:
        raise ValidationError("At most 2000 characters.", field="details")
    with transaction.atomic():
        if Report.objects.filter(
            conversation=conversation, reporter=user, status=ReportStatus.OPEN
        ).exists():
            raise Conflict("You already reported this conversation.")
        report = Report.objects.create(
            conversation=conversation, reporter=user, reason=reason, details=details
        )
        audit_log_record(
            actor=user,
            action="chat.conversation_report",
            target=conversation,
            reason=reason,
            data={"report_id": report.pk},
        )
    return report


def report_resolve(*, moderator, report: Report, resolution: str = "") -> Report:
    """Close a report with the moderator's note."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status == ReportStatus.RESOLVED:
            raise Conflict("The report is already resolved.")
        report.status = ReportStatus.RESOLVED
        report.resolved_at = timezone.now()
        report.resolved_by = moderator
        report.resolution = resolution
        report.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution"]
        )
        audit_log_record(
            actor=moderator,
            action="chat.report_resolve",
            target=report,
            reason=resolution,
            data={"conversation_id": report.conversation_id},
        )
    return report


def report_conversation_view_record(*, moderator, report: Report) -> None:
    """Write to the audit log that a moderator read a reported conversation."""
    with transaction.atomic():
        audit_log_record(
            actor=moderator,
            action="chat.moderator_view",
            target=report.conversation,
            reason=f"Report #{report.pk}",
            data={"report_id": report.pk},
        )
