"""Reads for chat. Pages, the API and the websocket consumer all use these."""

from django.db import connection
from django.db.models import Prefetch, Q, Sum

from chat.models import Block, Conversation, Message, Participant, Report
from core.errors import NotFound


def access_conversation(user, pk, for_update: bool = False) -> Conversation:
    """The conversation `pk` if `user` takes part in it; NotFound otherwise.

    Outsiders get the same answer as for a missing conversation, so ids reveal
    nothing.
    """
    if user is None or not user.is_authenticated:
        raise NotFound("Conversation not found.")
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("Conversation not found.") from None
    qs = Conversation.objects.filter(Q(buyer=user) | Q(seller=user), pk=pk)
    if for_update:
        qs = qs.select_for_update()
    else:
        qs = qs.select_related("listing", "buyer", "seller")
    conversation = qs.first()
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def conversation_list_for_user(*, user):
    """Every conversation the user takes part in (no archive filter)."""
    return Conversation.objects.filter(Q(buyer=user) | Q(seller=user))


def conversation_inbox(*, user, archived: bool = False):
    """The user's conversations, newest message first, ready to render.

    Each row carries `my_state` (the user's Participant), the listing with its
    first image, both parties and the last message, in a fixed number of
    queries whatever the number of rows.
    """
    from listings.models import ListingImage

    return (
        Conversation.objects.filter(
            participants__user=user,
            participants__is_archived=archived,
            last_message__isnull=False,
        )
        .select_related("listing", "buyer", "seller", "last_message__sender")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(user=user),
                to_attr="my_states",
            ),
            Prefetch(
                "listing__images",
                queryset=ListingImage.objects.order_by("position", "pk"),
                to_attr="ordered_images",
            ),
        )
        .order_by("-last_message_at", "-pk")
    )


def participant_get(*, conversation, user) -> Participant:
    return Participant.objects.get(conversation=conversation, user=user)


def unread_total(*, user) -> int:
    """How many messages wait for the user across conversations (nav badge)."""
    if not user.is_authenticated:
        return 0
    total = Participant.objects.filter(user=user).aggregate(n=Sum("unread_count"))
    return total["n"] or 0


def message_list(*, conversation, before=None, after=None, limit: int = 30):
    """A page of messages, oldest first.

    `after`: messages newer than that id (catch-up after a reconnect), from the
    oldest on. Otherwise the newest `limit` messages older than `before`
    (scrolling back). Returns (messages, has_more).
    """
    qs = Message.objects.filter(conversation=conversation).select_related("sender")
    if after is not None:
        rows = list(qs.filter(pk__gt=after).order_by("pk")[: limit + 1])
        return rows[:limit], len(rows) > limit
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, has_more


def block_exists(*, blocker_id: int, blocked_id: int) -> bool:
    return Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).exists()


def block_between(*, user_a_id: int, user_b_id: int) -> Block | None:
    return (
        Block.objects.filter(
            Q(blocker_id=user_a_id, blocked_id=user_b_id)
            | Q(blocker_id=user_b_id, blocked_id=user_a_id)
        )
        .order_by("pk")
        .first()
    )


def message_send_checks(
    *, sender_id: int, recipient_id: int, client_id: str
) -> tuple[bool, int | None, int | None]:
    """What `message_send` checks first, in one query instead of three.

    Returns (the sender's account is active, the id of whoever blocked the
    other if either did, the id of the sender's message with `client_id`).
    """
    sql, params = message_send_checks_query(
        sender_id=sender_id, recipient_id=recipient_id, client_id=client_id
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return message_send_checks_result(cursor.fetchone())


def message_send_checks_query(
    *, sender_id: int, recipient_id: int, client_id: str
) -> tuple[str, list]:
    """The SQL and parameters of `message_send_checks`, for running it on
    another connection (the socket's send path runs it on the event loop).

    Hand-written SQL (SQLite and PostgreSQL alike): it runs for every message,
    and building it through the ORM cost several times what the database
    spends on it (docs/chat.md, "Benchmark").
    """
    from accounts.models import User

    quote = connection.ops.quote_name
    sql = f"""
        SELECT u.is_active,
            (SELECT b.blocker_id FROM {quote(Block._meta.db_table)} b
             WHERE (b.blocker_id = %s AND b.blocked_id = %s)
                OR (b.blocker_id = %s AND b.blocked_id = %s)
             ORDER BY b.id LIMIT 1),
            (SELECT m.id FROM {quote(Message._meta.db_table)} m
             WHERE m.sender_id = %s AND m.client_id = %s AND m.client_id <> ''
             LIMIT 1)
        FROM {quote(User._meta.db_table)} u WHERE u.id = %s
    """  # noqa: S608 - tables from the models, values bound
    params = [sender_id, recipient_id, recipient_id, sender_id]
    params += [sender_id, client_id, sender_id]
    return sql, params


def message_send_checks_result(row) -> tuple[bool, int | None, int | None]:
    """`message_send_checks`' answer from the row its query returned."""
    if row is None:  # the account was deleted meanwhile
        return False, None, None
    return bool(row[0]), row[1], row[2]


def block_list(*, user):
    return Block.objects.filter(blocker=user).select_related("blocked")


def report_list_open():
    return Report.objects.filter(status="open").select_related("conversation")
