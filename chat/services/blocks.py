"""Blocks between users, and closing a banned user's sockets."""

from django.db import transaction

from chat import events, selectors
from chat.models import Block
from core.errors import NotFound, ValidationError
from core.services import audit_log_record


def user_block(*, user, blocked_user_id) -> Block:
    """Refuse all messages from another user (idempotent)."""
    from accounts.models import User

    try:
        target = User.objects.get(pk=int(blocked_user_id), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError):
        raise NotFound("User not found.") from None
    if target.pk == user.pk:
        raise ValidationError("You cannot block yourself.")
    with transaction.atomic():
        block, created = Block.objects.get_or_create(blocker=user, blocked=target)
        if created:
            audit_log_record(actor=user, action="chat.user_block", target=target)
            _announce_block_state(user_a_id=user.pk, user_b_id=target.pk)
    return block


def user_unblock(*, user, blocked_user_id) -> bool:
    """Accept messages from a blocked user again; False if they were not blocked."""
    try:
        blocked_user_id = int(blocked_user_id)
    except (TypeError, ValueError):
        raise NotFound("User not found.") from None
    with transaction.atomic():
        deleted, _ = Block.objects.filter(
            blocker=user, blocked_id=blocked_user_id
        ).delete()
        if deleted:
            audit_log_record(
                actor=user,
                action="chat.user_unblock",
                data={"user_id": blocked_user_id},
            )
            _announce_block_state(user_a_id=user.pk, user_b_id=blocked_user_id)
    return bool(deleted)


def _announce_block_state(*, user_a_id: int, user_b_id: int) -> None:
    """Tell both users' open sockets, on commit, who blocks whom now.

    Their conversation sockets stop passing typing between the two and tell
    the client; every send is still checked against the database.
    """
    block = selectors.block_between(user_a_id=user_a_id, user_b_id=user_b_id)
    event = {
        "type": "chat.block",
        "user_ids": [user_a_id, user_b_id],
        "blocked_by": block.blocker_id if block else None,
    }
    for user_id in (user_a_id, user_b_id):
        events.group_send_on_commit(events.user_sockets_group(user_id), event)


def user_sockets_close(*, user_id: int) -> None:
    """Close every open chat socket of the user once the caller commits (a ban).

    Call it inside the transaction that disables the account: a rolled-back
    ban closes nothing. Sockets close with code 4403; reconnecting fails, as
    the account can no longer log in.
    """
    events.group_send_on_commit(
        events.user_sockets_group(user_id), {"type": "chat.account_disabled"}
    )
