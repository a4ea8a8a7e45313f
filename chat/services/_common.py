"""What several chat services share: the block check and the unread push."""

from chat import events, selectors
from core.errors import Conflict, PermissionDenied


def _check_not_blocked(*, sender_id: int, recipient_id: int) -> None:
    block = selectors.block_between(user_a_id=sender_id, user_b_id=recipient_id)
    _raise_if_blocked(
        sender_id=sender_id, blocked_by=block.blocker_id if block else None
    )


def _raise_if_blocked(*, sender_id: int, blocked_by: int | None) -> None:
    if blocked_by is None:
        return
    if blocked_by == sender_id:
        raise Conflict("You blocked this user. Unblock them to write again.")
    raise PermissionDenied("This user does not accept messages from you.")


def _unread_changed(user_id: int) -> tuple[str, dict]:
    """The group send telling the user's open pages that their unread total
    changed. Each per-user socket reads the new total itself, so nothing is
    computed for users with no page open."""
    return events.user_group(user_id), {"type": "chat.unread"}


def _push_unread(user_id: int) -> None:
    """Tell the user's open pages, on commit, that their unread total changed."""
    events.group_send_on_commit(*_unread_changed(user_id))
