"""E-mails about unread messages, batched per conversation."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import Conversation, Message, Participant
from chat.presence import presence_is_online


def message_email_notify(*, participant_id: int) -> bool:
    """E-mail one participant about unread messages of one conversation.

    At most one e-mail per conversation per CHAT_EMAIL_INTERVAL_SECONDS; a
    pending one whose interval has not passed waits for the periodic job.
    Idempotent: returns True only when it sent.
    """
    from accounts.services import notification_send

    interval = timedelta(seconds=settings.CHAT_EMAIL_INTERVAL_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        state = (
            Participant.objects.select_for_update()
            .filter(pk=participant_id, email_pending=True)
            .first()
        )
        if state is None:
            return False
        if state.unread_count == 0 or not state.user.is_active:
            state.email_pending = False
            state.save(update_fields=["email_pending"])
            return False
        if state.last_emailed_at and now - state.last_emailed_at < interval:
            return False
        if presence_is_online(user_id=state.user_id):
            # They are on the site now and will see the badge.
            return False
        conversation = Conversation.objects.select_related(
            "listing", "buyer", "seller"
        ).get(pk=state.conversation_id)
        other = (
            conversation.seller
            if state.user_id == conversation.buyer_id
            else conversation.buyer
        )
        latest = list(
            Message.objects.filter(conversation=conversation, read_at__isnull=True)
            .exclude(sender_id=state.user_id)
            .order_by("-pk")[:3]
        )
        lines = [(m.text[:200] if m.text else "[photo]") for m in reversed(latest)]
        count = state.unread_count
        noun = "message" if count == 1 else "messages"
        notification_send(
            user=state.user,
            kind="message",
            title=(
                f"{count} new {noun} from {other.public_name} "
                f"about “{conversation.listing.title}”"
            ),
            body="\n".join(lines),
            url=conversation.get_absolute_url(),
        )
        state.email_pending = False
        state.last_emailed_at = now
        state.save(update_fields=["email_pending", "last_emailed_at"])
    return True


def message_email_digests_send() -> int:
    """Periodic job: send the batched e-mails whose interval has passed."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_EMAIL_INTERVAL_SECONDS)

    ids = list(
        Participant.objects.filter(email_pending=True)
        .filter(Q(last_emailed_at__isnull=True) | Q(last_emailed_at__lte=cutoff))
        .values_list("pk", flat=True)[:1000]
    )
    return sum(message_email_notify(participant_id=pk) for pk in ids)
