"""Opening, reading and archiving conversations."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import events
from chat.models import Conversation, Message, Participant
from chat.services._common import _check_not_blocked, _push_unread
from chat.services.messages import message_send
from core.errors import Conflict, NotFound, ValidationError


def conversation_start(
    *, user, listing_id, text: str = "", client_id: str = "", image=None
) -> tuple[Conversation, Message]:
    """Find or open the user's conversation about a listing and send a message."""
    from listings.models import Listing, ListingStatus

    try:
        listing = Listing.objects.select_related("owner").get(pk=int(listing_id))
    except (Listing.DoesNotExist, TypeError, ValueError):
        raise NotFound("Listing not found.", field="listing") from None
    if listing.owner_id == user.pk:
        raise ValidationError(
            "You cannot message yourself about your own listing.", field="listing"
        )
    with transaction.atomic():
        conversation = Conversation.objects.filter(listing=listing, buyer=user).first()
        if conversation is None:
            if listing.status != ListingStatus.ACTIVE:
                if listing.status in (ListingStatus.DRAFT, ListingStatus.REJECTED):
                    raise NotFound("Listing not found.", field="listing")
                raise Conflict("This listing is no longer available.", field="listing")
            if not listing.owner.is_active:
                raise Conflict("The seller's account is closed.", field="listing")
            _check_not_blocked(sender_id=user.pk, recipient_id=listing.owner_id)
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        listing=listing, buyer=user, seller=listing.owner
                    )
                    Participant.objects.bulk_create(
                        [
                            Participant(conversation=conversation, user=user),
                            Participant(conversation=conversation, user=listing.owner),
                        ]
                    )
            except IntegrityError:
                conversation = Conversation.objects.get(listing=listing, buyer=user)
        message, _created = message_send(
            user=user,
            conversation=conversation,
            text=text,
            client_id=client_id,
            image=image,
        )
    return conversation, message


def conversation_mark_read(*, user, conversation: Conversation, up_to=None) -> int:
    """Mark the other party's messages up to `up_to` (default: all) as read."""
    if user.pk not in (conversation.buyer_id, conversation.seller_id):
        raise NotFound("Conversation not found.")
    if up_to is not None:
        try:
            up_to = int(up_to)
        except (TypeError, ValueError):
            raise ValidationError(
                "message_id must be a number.", field="message_id"
            ) from None
    with transaction.atomic():
        state = Participant.objects.select_for_update().get(
            conversation=conversation, user=user
        )
        unread = Message.objects.filter(
            conversation=conversation, read_at__isnull=True
        ).exclude(sender=user)
        # Read from the row: the caller's object may be older (a socket keeps
        # the one it loaded on connect).
        last_id = (
            Conversation.objects.filter(pk=conversation.pk)
            .values_list("last_message_id", flat=True)
            .get()
            or 0
        )
        if up_to is not None:
            unread = unread.filter(pk__lte=up_to)
            last_id = min(up_to, last_id)
        now = timezone.now()
        count = unread.update(read_at=now)
        if last_id > state.last_read_message_id:
            state.last_read_message_id = last_id
        state.unread_count = (
            Message.objects.filter(
                conversation=conversation,
                read_at__isnull=True,
                pk__gt=state.last_read_message_id,
            )
            .exclude(sender=user)
            .count()
        )
        if state.unread_count == 0:
            state.email_pending = False
        state.save(
            update_fields=["last_read_message_id", "unread_count", "email_pending"]
        )
        if count:
            events.group_send_on_commit(
                events.conversation_group(conversation.pk),
                {
                    "type": "chat.read",
                    "user_id": user.pk,
                    "last_read_id": state.last_read_message_id,
                    "read_at": now.isoformat(),
                },
            )
            _push_unread(user.pk)
    return count


def conversation_archive(*, user, conversation: Conversation, archived: bool = True):
    """Hide the conversation from the user's inbox (or bring it back)."""
    with transaction.atomic():
        updated = Participant.objects.filter(
            conversation=conversation, user=user
        ).update(is_archived=archived)
        if not updated:
            raise NotFound("Conversation not found.")
    return archived
